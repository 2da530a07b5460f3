// sacrebleu 2.x chrF. The `chrf` metric is corpus chrF2 with sacrebleu's defaults (character
// order 6, word order 0, β = 2, whitespace removed, no lower-casing, no eps smoothing) as a
// fraction 0-1 (sacrebleu prints 0-100). The functions take the options, for tests and variants.
//
//   ChrfOptions opts;                                      // chrF2
//   std::vector<double> stats(ChrfStatsWidth(opts));
//   ChrfSegmentStatistics("the cat", refs, opts, absl::MakeSpan(stats));
//   double score = ChrfScore(stats, opts);                 // corpus: sum the rows first
//
// Row layout (ChrfStatsWidth = 3·char_order): for n = 1..char_order, {hyp n-grams (0 when the
// reference has none), ref n-grams, matches}. With several references the row is that of the
// first reference with the strictly highest sentence score. N-grams are over code points: no
// Unicode normalization, a combining mark or ZWJ is a character of its own.
#ifndef EMAR_EVAL_METRICS_CHRF_SCORER_H_
#define EMAR_EVAL_METRICS_CHRF_SCORER_H_

#include <string>

#include "eval/metrics/metric.h"

namespace emar {

struct ChrfOptions {
  int char_order = 6;
  double beta = 2;
  bool whitespace = false;     // keep whitespace characters in n-grams
  bool eps_smoothing = false;  // average per-order F over all orders (sacrebleu's variant)
  bool lowercase = false;      // Python lower() first
};

inline size_t ChrfStatsWidth(const ChrfOptions& o) { return 3 * o.char_order; }

// Precondition: at least one reference.
void ChrfSegmentStatistics(absl::string_view hypothesis, absl::Span<const std::string> references,
                           const ChrfOptions& options, absl::Span<double> stats);

// chrF of (summed) statistics, as a fraction 0-1 (sacrebleu's _compute_f_score / 100).
double ChrfScore(absl::Span<const double> stats, const ChrfOptions& options);

class ChrfMetric final : public Metric {
 public:
  absl::string_view name() const override { return "chrf"; }
  Direction direction() const override { return Direction::kHigherIsBetter; }
  std::string signature() const override;
  size_t stats_width() const override { return ChrfStatsWidth(ChrfOptions()); }
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;
  MetricValue Finalize(absl::Span<const double> acc, size_t num_labels, double n) const override;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_CHRF_SCORER_H_
