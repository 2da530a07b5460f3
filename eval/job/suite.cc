#include "eval/job/suite.h"

#include <google/protobuf/text_format.h>

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "eval/metrics/metric_factory.h"
#include "eval/metrics/metric_registry.h"

namespace emar {
namespace {

using emar::v1::DatasetSpec;
using emar::v1::JobSpec;
using emar::v1::MetricSpec;

SuiteDataset Make(const DatasetSpec& d, emar::v1::DatasetRole role, int index, std::string field) {
  SuiteDataset s;
  s.spec = &d;
  s.role = role;
  s.index = index;
  s.field = std::move(field);
  if (d.metrics_size() > 0) {
    s.metrics.assign(d.metrics().begin(), d.metrics().end());
  } else {
    s.metrics.emplace_back().set_name(d.metric());
  }
  s.weight = d.has_weight() ? d.weight() : 1.0;
  return s;
}

absl::Status CheckMetrics(const SuiteDataset& d, const SuiteLimits& limits) {
  const DatasetSpec& s = *d.spec;
  if (s.metrics_size() > 0 && !s.metric().empty()) {
    return InvalidSpecField(d.field + ".metric",
                            absl::StrCat("dataset '", s.name(),
                                         "' gives both `metric` and `metrics`; "
                                         "give one (`metrics: [",
                                         s.metric(), "]`)"));
  }
  if (s.metrics_size() == 0 && s.metric().empty()) {
    return InvalidSpecField(d.field + ".metric",
                            "missing (e.g. `metric: accuracy` or `metrics: [accuracy]`)");
  }
  if (static_cast<int>(d.metrics.size()) > limits.max_metrics_per_dataset) {
    return InvalidSpecField(d.field + ".metrics",
                            absl::StrCat("dataset '", s.name(), "' has ", d.metrics.size(),
                                         " metrics, limit ", limits.max_metrics_per_dataset,
                                         " (emar-coordinator --max-metrics-per-dataset)"));
  }
  std::set<std::string> seen;
  for (size_t m = 0; m < d.metrics.size(); ++m) {
    const std::string field = s.metrics_size() > 0 ? absl::StrCat(d.field, ".metrics[", m, "]")
                                                   : absl::StrCat(d.field, ".metric");
    if (d.metrics[m].name().empty()) {
      return InvalidSpecField(field, absl::StrCat("dataset '", s.name(), "': metric name missing"));
    }
    auto metric = MakeMetricFromSpec(d.metrics[m], absl::StrCat("dataset '", s.name(), "'"));
    if (!metric.ok()) return InvalidSpecField(field, metric.status().message());
    if (!seen.insert(MetricSpecKey(d.metrics[m])).second) {
      return InvalidSpecField(field, absl::StrCat("dataset '", s.name(), "' lists metric '",
                                                  MetricSpecKey(d.metrics[m]), "' twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDatasetSpec(const SuiteDataset& d, const SuiteLimits& limits) {
  const DatasetSpec& s = *d.spec;
  if (s.name().empty()) return InvalidSpecField(d.field + ".name", "missing");
  RETURN_IF_ERROR(CheckMetrics(d, limits));
  if (s.has_weight() && !(std::isfinite(s.weight()) && s.weight() > 0)) {
    return InvalidSpecField(d.field + ".weight",
                            absl::StrCat("dataset '", s.name(), "': weight ", s.weight(),
                                         " must be positive and finite"));
  }
  const emar::v1::GateSpec& g = s.gates();
  if (g.has_min_emar() || g.has_max_suite_regression()) {
    return InvalidSpecField(
        d.field + ".gates",
        absl::StrCat("dataset '", s.name(),
                     "': min_emar and max_suite_regression are job-level gates; a "
                     "dataset may override max_benchmark_regression (benchmarks) or "
                     "min_target_gain (targets)"));
  }
  const bool target = d.role == emar::v1::DATASET_ROLE_TARGET;
  if (target ? g.has_max_benchmark_regression() : g.has_min_target_gain()) {
    return InvalidSpecField(
        d.field + ".gates",
        absl::StrCat("dataset '", s.name(), "' is a ", target ? "target" : "benchmark",
                     ": it takes ", target ? "min_target_gain" : "max_benchmark_regression",
                     ", not ", target ? "max_benchmark_regression" : "min_target_gain"));
  }
  for (auto [name, present, v] :
       {std::tuple{"max_benchmark_regression", g.has_max_benchmark_regression(),
                   g.max_benchmark_regression()},
        std::tuple{"min_target_gain", g.has_min_target_gain(), g.min_target_gain()}}) {
    if (present && !std::isfinite(v)) {
      return InvalidSpecField(absl::StrCat(d.field, ".gates.", name), "must be a finite number");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckModelOutputs(const JobSpec& spec, const std::vector<SuiteDataset>& datasets) {
  const bool suite = IsSuiteForm(spec);
  std::vector<const emar::v1::ModelSpec*> models = {&spec.base()};
  for (const auto& c : spec.candidates()) models.push_back(&c);
  for (size_t m = 0; m < models.size(); ++m) {
    const emar::v1::ModelSpec& model = *models[m];
    const std::string field = m == 0 ? "base" : absl::StrCat("candidates[", m - 1, "]");
    if (suite && (!model.target_outputs().empty() || !model.benchmark_outputs().empty())) {
      return InvalidSpecField(
          field + (model.target_outputs().empty() ? ".benchmark_outputs" : ".target_outputs"),
          absl::StrCat("model '", model.name(),
                       "': a suite (targets/benchmarks) names outputs per dataset in "
                       "`outputs: {dataset: path}`"));
    }
    if (!suite && !model.outputs().empty()) {
      return InvalidSpecField(
          field + ".outputs",
          absl::StrCat("model '", model.name(),
                       "': `outputs` goes with `targets`/`benchmarks`; with `target` "
                       "and `benchmark` use target_outputs and benchmark_outputs"));
    }
    if (!suite) continue;
    std::set<std::string> names;
    for (const SuiteDataset& d : datasets) {
      names.insert(d.spec->name());
      if (!model.outputs().contains(d.spec->name())) {
        return InvalidSpecField(
            OutputsField(field, d),
            absl::StrCat("model '", model.name(), "' has no outputs for dataset '", d.spec->name(),
                         "'"));
      }
    }
    std::set<std::string> keys;  // sorted: the error names the first unknown one
    for (const auto& [key, path] : model.outputs()) keys.insert(key);
    for (const std::string& key : keys) {
      if (!names.count(key)) {
        return InvalidSpecField(
            absl::StrCat(field, ".outputs[", key, "]"),
            absl::StrCat("model '", model.name(), "' has outputs for '", key,
                         "', which is not a target or benchmark dataset of the job"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status InvalidSpecField(const std::string& field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("job spec field '", field, "': ", what));
}

bool IsSuiteForm(const JobSpec& spec) {
  return spec.targets_size() > 0 || spec.benchmarks_size() > 0;
}

std::vector<SuiteDataset> SuiteDatasets(const JobSpec& spec) {
  std::vector<SuiteDataset> out;
  if (!IsSuiteForm(spec)) {
    out.push_back(Make(spec.target(), emar::v1::DATASET_ROLE_TARGET, 0, "target"));
    out.push_back(Make(spec.benchmark(), emar::v1::DATASET_ROLE_BENCHMARK, 1, "benchmark"));
    return out;
  }
  int index = 0;
  for (int i = 0; i < spec.targets_size(); ++i) {
    out.push_back(Make(spec.targets(i), emar::v1::DATASET_ROLE_TARGET, index++,
                       absl::StrCat("targets[", i, "]")));
  }
  for (int i = 0; i < spec.benchmarks_size(); ++i) {
    out.push_back(Make(spec.benchmarks(i), emar::v1::DATASET_ROLE_BENCHMARK, index++,
                       absl::StrCat("benchmarks[", i, "]")));
  }
  return out;
}

std::string OutputsOf(const emar::v1::ModelSpec& model, const SuiteDataset& dataset) {
  if (dataset.field == "target") return model.target_outputs();
  if (dataset.field == "benchmark") return model.benchmark_outputs();
  auto it = model.outputs().find(dataset.spec->name());
  return it == model.outputs().end() ? "" : it->second;
}

std::string OutputsField(const std::string& model_field, const SuiteDataset& dataset) {
  if (dataset.field == "target") return model_field + ".target_outputs";
  if (dataset.field == "benchmark") return model_field + ".benchmark_outputs";
  return absl::StrCat(model_field, ".outputs[", dataset.spec->name(), "]");
}

absl::Status ValidateSuite(const JobSpec& spec, const SuiteLimits& limits) {
  const bool legacy = spec.has_target() || spec.has_benchmark();
  if (legacy && IsSuiteForm(spec)) {
    return InvalidSpecField(spec.has_target() ? "target" : "benchmark",
                            "give either `target` and `benchmark` (one of each) or `targets` and "
                            "`benchmarks` (a suite), not both");
  }
  if (IsSuiteForm(spec) && (spec.targets_size() == 0 || spec.benchmarks_size() == 0)) {
    return InvalidSpecField(spec.targets_size() == 0 ? "targets" : "benchmarks",
                            "a suite needs at least one target and one benchmark dataset");
  }
  const std::vector<SuiteDataset> datasets = SuiteDatasets(spec);
  if (static_cast<int>(datasets.size()) > limits.max_datasets) {
    return InvalidSpecField("targets",
                            absl::StrCat(datasets.size(), " datasets, limit ", limits.max_datasets,
                                         " (emar-coordinator --max-datasets)"));
  }
  std::set<std::string> names;
  int64_t scores = 0;
  for (const SuiteDataset& d : datasets) {
    RETURN_IF_ERROR(CheckDatasetSpec(d, limits));
    // The older form names outputs by side, not by dataset: its two names may coincide.
    if (IsSuiteForm(spec) && !names.insert(d.spec->name()).second) {
      return InvalidSpecField(d.field + ".name",
                              absl::StrCat("dataset name '", d.spec->name(),
                                           "' is used twice (names are unique across targets and "
                                           "benchmarks)"));
    }
    scores += static_cast<int64_t>(d.metrics.size());
  }
  scores *= spec.candidates_size();
  if (scores > limits.max_scores) {
    return InvalidSpecField(
        "candidates", absl::StrCat(spec.candidates_size(), " candidates x the datasets' metrics = ",
                                   scores, " comparisons, limit ", limits.max_scores,
                                   " (emar-coordinator --max-suite-scores)"));
  }
  return CheckModelOutputs(spec, datasets);
}

std::string MetricSpecKey(const MetricSpec& spec) {
  absl::StatusOr<std::string> key = MetricKey(spec);  // eval/metrics/metric_factory.h
  return key.ok() ? *std::move(key) : spec.name();
}

absl::StatusOr<std::unique_ptr<Metric>> MakeMetricFromSpec(const MetricSpec& spec,
                                                           const std::string& where) {
  auto metric = MakeMetric(spec);  // eval/metrics/metric_factory.h: options checked and applied
  if (!metric.ok() && !where.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": ", metric.status().message()));
  }
  return metric;
}

absl::StatusOr<std::unique_ptr<Metric>> MetricOfTask(const emar::v1::ShardTask& task) {
  if (task.metrics_size() > 0) return MakeMetricFromSpec(task.metrics(0));
  return MakeMetric(task.metric());
}

}  // namespace emar
