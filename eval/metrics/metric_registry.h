// The metric registry: every metric the service knows, by the name job files and
// `emarctl score --metric` use. A name alone gives the metric with its reference
// implementation's default options; metric_factory.h builds a metric from a MetricSpec with
// options. Adding a metric means a scorer file and one entry in metric_factory.cc. Thread-safe.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Metric> m, MakeMetric("bleu"));
#ifndef EMAR_EVAL_METRICS_METRIC_REGISTRY_H_
#define EMAR_EVAL_METRICS_METRIC_REGISTRY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/metrics/metric.h"

namespace emar {

// The metric registered under `name`; INVALID_ARGUMENT listing the known names otherwise.
absl::StatusOr<std::unique_ptr<Metric>> MakeMetric(absl::string_view name);
// Names of every registered metric, sorted.
std::vector<std::string> MetricNames();

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_METRIC_REGISTRY_H_
