// sacrebleu 2.x BLEU. The `bleu` metric is corpus BLEU, by default with sacrebleu's defaults (13a,
// exp smoothing, order 4, case-sensitive, no effective order, any number of references per
// segment) as a fraction 0-1 (sacrebleu prints 0-100). Job specs reach the options through
// metric_factory.h; the functions below take them directly, for tests and tools.
//
//   BleuOptions opts;                          // sacrebleu defaults
//   std::vector<double> stats(BleuStatsWidth(opts)), corpus(BleuStatsWidth(opts));
//   for (each segment) {
//     BleuSegmentStatistics(hyp, refs, opts, absl::MakeSpan(stats));
//     for (size_t k = 0; k < stats.size(); ++k) corpus[k] += stats[k];
//   }
//   BleuScore s = ComputeBleu(corpus, opts);   // s.score == 0.4853... for sacrebleu's 48.53
//
// Row layout (BleuStatsWidth = 2 + 2·max_order): {hyp_len, closest ref_len, correct_1..N,
// total_1..N}. Summing rows over segments and calling ComputeBleu is sacrebleu's corpus BLEU.
#ifndef EMAR_EVAL_METRICS_BLEU_SCORER_H_
#define EMAR_EVAL_METRICS_BLEU_SCORER_H_

#include <string>
#include <vector>

#include "eval/metrics/metric.h"

namespace emar {

// The sacrebleu release whose code the BLEU and chrF scorers reproduce; their signatures print it.
inline constexpr char kSacrebleuVersion[] = "2.6.0";

struct BleuOptions {
  enum class Tokenize { k13a, kNone, kChar, kZh, kIntl };
  enum class Smooth { kExp, kNone, kFloor, kAddK };
  Tokenize tokenize = Tokenize::k13a;
  Smooth smooth = Smooth::kExp;
  // floor: the floor value (default 0.1); add-k: k (default 1). Negative means the default.
  double smooth_value = -1;
  bool effective_order = false;
  bool lowercase = false;
  int max_order = 4;
};

inline size_t BleuStatsWidth(const BleuOptions& o) { return 2 + 2 * o.max_order; }

// Statistics of one hypothesis against its references (at least one; "" is a valid, empty
// reference). Each string is lower-cased when asked, rstrip()ped and tokenized, as sacrebleu.
void BleuSegmentStatistics(absl::string_view hypothesis, absl::Span<const std::string> references,
                           const BleuOptions& options, absl::Span<double> stats);

struct BleuScore {
  double score = 0;                // fraction 0-1
  double bp = 0;                   // brevity penalty
  std::vector<double> precisions;  // fractions, max_order entries (0 beyond a stop)
};

// BLEU of (summed) statistics, following sacrebleu's compute_bleu: no matches at all gives 0
// without smoothing; with effective order, orders with no hypothesis n-grams are dropped.
BleuScore ComputeBleu(absl::Span<const double> stats, const BleuOptions& options);

// sacrebleu's BLEU signature, e.g. "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"
// (floor and add-k print their value: "smooth:floor[0.10]"; max_ngram_order is not printed).
std::string BleuSignature(const BleuOptions& options, const ReferenceCounts& refs);

class BleuMetric final : public Metric {
 public:
  explicit BleuMetric(const BleuOptions& options = BleuOptions()) : options_(options) {}
  absl::string_view name() const override { return "bleu"; }
  Direction direction() const override { return Direction::kHigherIsBetter; }
  std::string signature() const override { return signature_for(ReferenceCounts()); }
  std::string signature_for(const ReferenceCounts& refs) const override {
    return BleuSignature(options_, refs);
  }
  size_t stats_width() const override { return BleuStatsWidth(options_); }
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;
  MetricValue Finalize(absl::Span<const double> acc, size_t num_labels, double n) const override;

 private:
  const BleuOptions options_;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_BLEU_SCORER_H_
