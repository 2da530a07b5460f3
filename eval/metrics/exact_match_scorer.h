// The SQuAD v1.1 metrics on normalized answers (see squad_normalizer.h):
//   `exact_match`: row = {1} when normalize(prediction) equals normalize(g) for some reference g;
//   `token_f1`:    row = {max over references of the token-multiset F1}.
// Both values are means over examples, as fractions (SQuAD's evaluator prints 100×).
//
//   ExactMatchMetric em;
//   double row[1];
//   em.ScoreExample({"The Broncos!"}, {{"Broncos", "Denver"}}, nullptr, absl::MakeSpan(row));
//   // row[0] == 1
#ifndef EMAR_EVAL_METRICS_EXACT_MATCH_SCORER_H_
#define EMAR_EVAL_METRICS_EXACT_MATCH_SCORER_H_

#include <string>

#include "eval/metrics/per_example_mean.h"

namespace emar {

class ExactMatchMetric final : public PerExampleMeanMetric {
 public:
  absl::string_view name() const override { return "exact_match"; }
  std::string signature() const override;
  bool is_binary() const override { return true; }
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;
};

class TokenF1Metric final : public PerExampleMeanMetric {
 public:
  absl::string_view name() const override { return "token_f1"; }
  std::string signature() const override;
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_EXACT_MATCH_SCORER_H_
