// The `perplexity` metric: exp(−Σ log p / Σ tokens) over every token of the corpus (natural log),
// not the mean of per-sequence perplexities. Lower is better; the value is a raw perplexity.
//
// Row = {Σ finite token log-probs, token count, number of −inf log-probs}. A corpus with no
// tokens, with any −inf token, or whose perplexity overflows a double is undefined with the
// reason. An example without `token_logprobs` is an INVALID_ARGUMENT error (an empty list is
// fine: it adds no tokens); so is a NaN or +inf entry.
//
//   PerplexityMetric m;
//   Prediction p;
//   p.has_logprobs = true;
//   p.token_logprobs = {-1.386, -1.386};
//   double row[3];
//   m.ScoreExample(p, Reference{}, nullptr, absl::MakeSpan(row));  // {-2.772, 2, 0}
#ifndef EMAR_EVAL_METRICS_PERPLEXITY_SCORER_H_
#define EMAR_EVAL_METRICS_PERPLEXITY_SCORER_H_

#include <string>

#include "eval/metrics/metric.h"

namespace emar {

class PerplexityMetric final : public Metric {
 public:
  absl::string_view name() const override { return "perplexity"; }
  Direction direction() const override { return Direction::kLowerIsBetter; }
  std::string signature() const override;
  size_t stats_width() const override { return 3; }
  // References are ignored.
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;
  MetricValue Finalize(absl::Span<const double> acc, size_t num_labels, double n) const override;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_PERPLEXITY_SCORER_H_
