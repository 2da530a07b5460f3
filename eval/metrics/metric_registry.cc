#include "eval/metrics/metric_registry.h"

#include <string>

#include "eval/metrics/metric_factory.h"
#include "eval/metrics/pass_at_k.h"
#include "eval/metrics/score_metric.h"

namespace emar {

// MetricNames() and the table of metrics live in metric_factory.cc. A name alone is a spec with
// only the name, except for the two metrics whose specs require options: pass_at_k (k) and
// score (field), which keep their name-only defaults (k = 1; the prediction holds the value).
absl::StatusOr<std::unique_ptr<Metric>> MakeMetric(absl::string_view name) {
  if (name == "pass_at_k") return std::unique_ptr<Metric>(std::make_unique<PassAtKMetric>());
  if (name == "score") return std::unique_ptr<Metric>(std::make_unique<ScoreMetric>());
  emar::v1::MetricSpec spec;
  spec.set_name(std::string(name));
  return MakeMetric(spec);
}

}  // namespace emar
