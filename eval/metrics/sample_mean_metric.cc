#include "eval/metrics/sample_mean_metric.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace emar {

absl::StatusOr<std::unique_ptr<SampleMeanMetric>> SampleMeanMetric::Create(
    const Metric& sample_metric) {
  if (sample_metric.uses_labels()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric '", sample_metric.name(),
                     "' counts labels and cannot be averaged over several samples per item; use "
                     "accuracy, exact_match, token_f1 or score"));
  }
  return std::unique_ptr<SampleMeanMetric>(new SampleMeanMetric(sample_metric));
}

std::string SampleMeanMetric::signature() const {
  return absl::StrCat(sample_metric_.signature(), "|samples:item-mean");
}

}  // namespace emar
