// sacrebleu 2.x chrF. The `chrf` metric is corpus chrF, by default chrF2 with sacrebleu's
// defaults (character order 6, word order 0, β = 2, whitespace removed, no lower-casing, no eps
// smoothing) as a fraction 0-1 (sacrebleu prints 0-100). Job specs reach the options through
// metric_factory.h (word_order 2 is chrF++); the functions take them directly.
//
//   ChrfOptions opts;                                      // chrF2
//   std::vector<double> stats(ChrfStatsWidth(opts));
//   ChrfSegmentStatistics("the cat", refs, opts, absl::MakeSpan(stats));
//   double score = ChrfScore(stats, opts);                 // corpus: sum the rows first
//
// Row layout (ChrfStatsWidth = 3·(char_order + word_order)): for each character order n =
// 1..char_order, then each word order, {hyp n-grams (0 when the reference has none), ref n-grams,
// matches}. With several references the row is that of the first reference with the strictly
// highest sentence score. Character n-grams are over code points: no Unicode normalization, a
// combining mark or ZWJ is a character of its own. Words (chrF++) are sacrebleu's
// _remove_punctuation: split on Python whitespace, then a word longer than one character whose
// last (else first) character is ASCII punctuation is split into the rest and that character.
#ifndef EMAR_EVAL_METRICS_CHRF_SCORER_H_
#define EMAR_EVAL_METRICS_CHRF_SCORER_H_

#include <string>

#include "eval/metrics/metric.h"

namespace emar {

struct ChrfOptions {
  int char_order = 6;
  int word_order = 0;  // word n-gram orders after the character ones; 2 is chrF++
  double beta = 2;
  bool whitespace = false;     // keep whitespace characters in n-grams
  bool eps_smoothing = false;  // average per-order F over all orders (sacrebleu's variant)
  bool lowercase = false;      // Python lower() first
};

inline size_t ChrfStatsWidth(const ChrfOptions& o) {
  return 3 * static_cast<size_t>(o.char_order + o.word_order);
}

// Precondition: at least one reference.
void ChrfSegmentStatistics(absl::string_view hypothesis, absl::Span<const std::string> references,
                           const ChrfOptions& options, absl::Span<double> stats);

// chrF of (summed) statistics, as a fraction 0-1 (sacrebleu's _compute_f_score / 100).
double ChrfScore(absl::Span<const double> stats, const ChrfOptions& options);

// sacrebleu's chrF signature, e.g. "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0"
// (β is not printed: sacrebleu names it in the score, "chrF2++").
std::string ChrfSignature(const ChrfOptions& options, const ReferenceCounts& refs);

class ChrfMetric final : public Metric {
 public:
  explicit ChrfMetric(const ChrfOptions& options = ChrfOptions()) : options_(options) {}
  absl::string_view name() const override { return "chrf"; }
  Direction direction() const override { return Direction::kHigherIsBetter; }
  std::string signature() const override { return signature_for(ReferenceCounts()); }
  std::string signature_for(const ReferenceCounts& refs) const override {
    return ChrfSignature(options_, refs);
  }
  size_t stats_width() const override { return ChrfStatsWidth(options_); }
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;
  MetricValue Finalize(absl::Span<const double> acc, size_t num_labels, double n) const override;

 private:
  const ChrfOptions options_;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_CHRF_SCORER_H_
