// Base for metrics whose row is one per-example value and whose corpus value is the mean of
// those values over the examples (accuracy, exact_match, token_f1, ROUGE). With weights, the
// mean is Σ weight·value / Σ weight, so a bootstrap multiplicity of 2 equals a duplicated row.
//
//   class TokenF1Metric final : public PerExampleMeanMetric { ... ScoreExample writes row[0] ... };
#ifndef EMAR_EVAL_METRICS_PER_EXAMPLE_MEAN_H_
#define EMAR_EVAL_METRICS_PER_EXAMPLE_MEAN_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "eval/metrics/metric.h"

namespace emar {

class PerExampleMeanMetric : public Metric {
 public:
  Direction direction() const override { return Direction::kHigherIsBetter; }
  size_t stats_width() const override { return 1; }
  MetricValue Finalize(absl::Span<const double> acc, size_t num_labels, double n) const override {
    if (!(n > 0)) return MetricValue::Undefined("no examples");
    return MetricValue::Of(acc[0] / n);
  }
};

// INVALID_ARGUMENT unless `reference` holds at least one text; every text metric needs one.
inline absl::Status RequireReferences(const Reference& reference) {
  if (reference.texts.empty()) {
    return absl::InvalidArgumentError("references: empty list, at least one reference is needed");
  }
  return absl::OkStatus();
}

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_PER_EXAMPLE_MEAN_H_
