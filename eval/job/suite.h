// A job as a suite: its target and benchmark datasets in one list, whichever form the spec uses.
// The older form (`target`, `benchmark`, `metric`, `target_outputs`/`benchmark_outputs`) is read
// as a suite of one target and one benchmark here, and only here: the planner, the assembler,
// the report and the job's input list all go through SuiteDatasets.
//
//   for (const SuiteDataset& d : SuiteDatasets(spec)) {
//     ... d.spec->name(), d.role, d.metrics[0] (the primary), OutputsOf(model, d) ...
//   }
//   RETURN_IF_ERROR(ValidateSuite(spec, SuiteLimits()));   // the planner's checks
//
// The stored spec is never rewritten, so a job of the older form keeps its request fingerprint,
// provenance roles and report text.
#ifndef EMAR_EVAL_JOB_SUITE_H_
#define EMAR_EVAL_JOB_SUITE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "emar/v1/job.pb.h"
#include "emar/v1/service.pb.h"
#include "eval/metrics/metric.h"

namespace emar {

struct SuiteDataset {
  const emar::v1::DatasetSpec* spec = nullptr;  // points into the JobSpec
  emar::v1::DatasetRole role = emar::v1::DATASET_ROLE_UNSPECIFIED;
  int index = 0;      // position in suite order: targets first, then benchmarks
  std::string field;  // the spec field: "target", "benchmark", "targets[0]", "benchmarks[2]"
  // `metrics`, or the older `metric` as a list of one; the first is the primary metric.
  std::vector<emar::v1::MetricSpec> metrics;
  double weight = 1;  // in its side's aggregate
};

// The datasets of `spec` in suite order. Lenient: for a spec that mixes both forms the lists
// win; ValidateSuite says what is wrong.
std::vector<SuiteDataset> SuiteDatasets(const emar::v1::JobSpec& spec);

// True when the spec uses the `targets`/`benchmarks` lists (even with one of each).
bool IsSuiteForm(const emar::v1::JobSpec& spec);

// The outputs path of `model` on `dataset` (empty when the spec gives none).
std::string OutputsOf(const emar::v1::ModelSpec& model, const SuiteDataset& dataset);
// The spec field naming that path: "candidates[0].target_outputs", "base.outputs[mmlu]".
std::string OutputsField(const std::string& model_field, const SuiteDataset& dataset);

// Limits on a job's shape (emar-coordinator flags).
struct SuiteLimits {
  int max_datasets = 64;            // --max-datasets: targets + benchmarks
  int max_metrics_per_dataset = 8;  // --max-metrics-per-dataset
  int max_scores = 16384;           // --max-suite-scores: candidates x datasets x metrics
};

// INVALID_ARGUMENT "job spec field 'FIELD': WHAT": how the suite checks and the planner name the
// job spec field at fault.
absl::Status InvalidSpecField(const std::string& field, absl::string_view what);

// Checks the suite's shape: one form only, at least one target and one benchmark, names present
// and unique across targets and benchmarks, known metrics without duplicates (and, until the
// metric options valid), weights positive and finite, finite gate overrides, every
// model with an output for every dataset and none for an unknown one, and the limits. Errors
// are INVALID_ARGUMENT naming the spec field, the dataset and the metric at fault.
absl::Status ValidateSuite(const emar::v1::JobSpec& spec, const SuiteLimits& limits);

// "MetricSpec -> Metric": the one place a dataset's metric entry becomes a scorer, with its
// options (eval/metrics/metric_factory.h). `where` names the entry in errors
// ("benchmarks[1] (gsm8k) metrics[0]").
absl::StatusOr<std::unique_ptr<Metric>> MakeMetricFromSpec(const emar::v1::MetricSpec& spec,
                                                           const std::string& where = "");

// The metric a shard scores: its `metrics[0]` when given, else its `metric` name.
absl::StatusOr<std::unique_ptr<Metric>> MetricOfTask(const emar::v1::ShardTask& task);

// The canonical text of a validated metric entry (MetricKey of eval/metrics/metric_factory.h):
// its name alone when every option is at its default ("chrf"), else with the options that
// differ ("chrf|word_order=2"). For cache keys and matching; the name for an invalid entry.
std::string MetricSpecKey(const emar::v1::MetricSpec& spec);

}  // namespace emar

#endif  // EMAR_EVAL_JOB_SUITE_H_
