// The `accuracy` metric: an example is correct (row = {1}) when the prediction equals any of its
// references after stripping Python whitespace from both ends of each; the value is the
// fraction correct. Meant for labels and short answers; no other normalization happens (use
// `exact_match` for SQuAD normalization).
//
//   AccuracyMetric m;
//   double row[1];
//   m.ScoreExample({" positive\n"}, {{"positive"}}, nullptr, absl::MakeSpan(row));  // row[0] = 1
#ifndef EMAR_EVAL_METRICS_ACCURACY_SCORER_H_
#define EMAR_EVAL_METRICS_ACCURACY_SCORER_H_

#include <string>

#include "eval/metrics/per_example_mean.h"

namespace emar {

class AccuracyMetric final : public PerExampleMeanMetric {
 public:
  absl::string_view name() const override { return "accuracy"; }
  std::string signature() const override;
  bool is_binary() const override { return true; }
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_ACCURACY_SCORER_H_
