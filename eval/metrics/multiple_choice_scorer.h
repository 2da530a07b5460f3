// lm-evaluation-harness multiple-choice accuracy (`output_type: multiple_choice`), as the
// harness's ConfigurableTask.process_results scores it:
//   mc_acc       argmax of the choices' log-likelihoods equals the gold index ("acc")
//   mc_acc_norm  argmax of log-likelihood / len(choice) equals it ("acc_norm"), where len is the
//                choice text's length in code points (Python len of doc_to_choice's string,
//                without the target delimiter that prefixes the request's continuation)
// argmax is numpy's: the first maximum wins a tie (a NaN counts as the maximum). Each row is 0/1;
// the value is the mean, as the harness's `mean` aggregation in results_*.json.
//
// The prediction carries Prediction::choice_loglikelihoods and Prediction::choices (read from a
// samples_<task>_<date>.jsonl line by eval/input/harness_samples.h). The gold comes from the
// reference text, which is what the harness logs as `target` (str(doc_to_target(doc))):
//   "2"       an integer is the gold choice's index (the harness's int target); an index outside
//             the choices, or a negative one, is never matched (the harness's -100)
//   "[0, 2]"  a list of integers: several gold indices (multiple_target), correct if any matches
//   "Paris"   any other text is the gold choice's text, matched exactly against the choices
//             (first equal choice); a text that is no choice is never matched
// Several reference texts are several gold indices or texts. A target that is a text made only
// of digits reads as an index: the log cannot tell them apart (see docs/metrics.md).
#ifndef EMAR_EVAL_METRICS_MULTIPLE_CHOICE_SCORER_H_
#define EMAR_EVAL_METRICS_MULTIPLE_CHOICE_SCORER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/metrics/per_example_mean.h"

namespace emar {

// numpy.argmax: index of the first maximum, or of the first NaN. Precondition: non-empty.
size_t HarnessArgmax(absl::Span<const double> values);

// The gold indices of `target` against `choices` (see above); an unmatched target gives -1.
std::vector<int64_t> HarnessGoldIndices(absl::string_view target,
                                        absl::Span<const std::string> choices);

// The index of the choice the model picks: HarnessArgmax of the log-likelihoods, each divided by
// its choice's length in code points when `normalized` (acc_norm). Precondition: as many choices
// as log-likelihoods, at least one.
size_t HarnessPick(const Prediction& prediction, bool normalized);

class MultipleChoiceMetric final : public PerExampleMeanMetric {
 public:
  explicit MultipleChoiceMetric(bool normalized) : normalized_(normalized) {}
  bool normalized() const { return normalized_; }
  absl::string_view name() const override { return normalized_ ? "mc_acc_norm" : "mc_acc"; }
  std::string signature() const override;
  bool is_binary() const override { return true; }
  bool reads_choices() const override { return true; }
  // INVALID_ARGUMENT when the prediction has no log-likelihoods, or when its choices' count
  // differs from them.
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;

 private:
  const bool normalized_;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_MULTIPLE_CHOICE_SCORER_H_
