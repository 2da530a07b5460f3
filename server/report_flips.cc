#include "server/report_flips.h"

#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "eval/input/prediction_reader.h"
#include "eval/input/reference_table.h"
#include "eval/job/field_names.h"
#include "eval/job/output_ids.h"
#include "eval/job/suite.h"
#include "eval/metrics/multiple_choice_scorer.h"

namespace emar {
namespace {

// The stored shards of dataset `k` (suite order); shards stored before suites name no dataset,
// their role is the dataset.
bool ShardOfDataset(const emar::v1::ShardTask& task, const SuiteDataset& d) {
  return task.dataset().empty() ? d.role == task.role() : d.spec->name() == task.dataset();
}

// A model's outputs on one dataset, read once, and the prediction of any of its lines.
class OutputsFile {
 public:
  // `metric` reads the lines (a multiple-choice metric reads a harness line's choices).
  static absl::StatusOr<OutputsFile> Load(const emar::v1::ShardTask& task, BlobStore& blobs,
                                          const Metric& metric) {
    OutputsFile f;
    f.task_ = task;
    f.config_ = ToFieldConfig(task.fields());
    f.config_.multiple_choice = metric.reads_choices();
    const auto* choice = dynamic_cast<const MultipleChoiceMetric*>(&metric);
    f.normalized_ = choice != nullptr && choice->normalized();
    ASSIGN_OR_RETURN(f.data_, blobs.Read(task.outputs().sha256(), 0, -1));
    f.starts_.push_back(0);
    for (size_t nl = f.data_.find('\n'); nl != std::string::npos; nl = f.data_.find('\n', nl + 1)) {
      f.starts_.push_back(nl + 1);
    }
    return f;
  }
  // The line's prediction text, or for a multiple-choice line the choice the metric picks
  // ("choice 2 (water vapour)"); the raw line when it does not parse as a prediction.
  std::string Prediction(uint64_t line) const {
    if (line == 0 || line > starts_.size()) return "";
    const size_t begin = starts_[line - 1];
    const size_t end = line < starts_.size() ? starts_[line] - 1 : data_.size();
    const std::string padded = data_.substr(begin, end - begin);
    PredictionReader reader(task_.outputs().display_name(), padded, line, config_);
    PredictionRecord record;
    absl::StatusOr<bool> more = reader.Next(&record);
    if (!more.ok() || !*more) return padded;
    const emar::Prediction& p = record.prediction;
    if (config_.multiple_choice && !p.choices.empty() &&
        p.choices.size() == p.choice_loglikelihoods.size()) {
      const size_t pick = HarnessPick(p, normalized_);
      return absl::StrCat("choice ", pick, " (", p.choices[pick], ")");
    }
    return p.text;
  }

 private:
  emar::v1::ShardTask task_;
  FieldConfig config_;
  bool normalized_ = false;  // mc_acc_norm picks by log-likelihood per character
  std::string data_;
  std::vector<size_t> starts_;  // byte offset of each line
};

absl::StatusOr<size_t> FindDataset(const std::vector<SuiteDataset>& datasets,
                                   const std::string& name) {
  std::vector<std::string> names;
  for (const SuiteDataset& d : datasets) {
    if (d.spec->name() == name) return static_cast<size_t>(d.index);
    names.push_back(d.spec->name());
  }
  return absl::InvalidArgumentError(
      absl::StrCat(name.empty() ? "no dataset given" : absl::StrCat("unknown dataset '", name, "'"),
                   "; the job's datasets: ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<const DatasetResults*> FindMetric(const AssembledResults& assembled, size_t k,
                                                 const std::string& metric) {
  std::vector<std::string> names;
  for (const DatasetResults& d : assembled.results) {
    if (static_cast<size_t>(d.dataset) != k) continue;
    if (metric.empty() ? d.metric_index == 0
                       : d.metric_spec.name() == metric || MetricSpecKey(d.metric_spec) == metric) {
      return &d;
    }
    names.push_back(d.metric_spec.name());
  }
  return absl::InvalidArgumentError(absl::StrCat("dataset has no metric '", metric,
                                                 "'; its metrics: ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<std::vector<size_t>> FindCandidates(const emar::v1::JobSpec& spec,
                                                   const std::string& name) {
  std::vector<size_t> out;
  std::vector<std::string> names;
  for (int c = 0; c < spec.candidates_size(); ++c) {
    names.push_back(spec.candidates(c).name());
    if (name.empty() || spec.candidates(c).name() == name) out.push_back(c + 1);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown candidate '", name, "'; the job's candidates: ", absl::StrJoin(names, ", ")));
  }
  return out;
}

// The dataset's items: its references, or for a dataset without a references file (a `score`
// dataset) the ids of the base outputs the planner read them from.
absl::StatusOr<ReferenceTable> ItemTable(const emar::v1::ShardTask& task,
                                         const emar::v1::DatasetSpec& dataset, BlobStore& blobs) {
  ASSIGN_OR_RETURN(const std::string data, blobs.Read(task.references().sha256(), 0, -1));
  if (task.ids_from_outputs()) {
    return IdsOfOutputs(task.references().display_name(), data, dataset.fields(),
                        task.metrics_size() > 0 ? task.metrics(0) : emar::v1::MetricSpec());
  }
  return ReferenceTable::Parse(dataset.references(), data, ToFieldConfig(dataset.fields()));
}

// What one candidate's flips are read from.
struct FlipSource {
  const emar::v1::ListFlipsRequest& request;
  const DatasetResults& d;
  const ReferenceTable& refs;
  bool no_references;  // refs are the base outputs' ids: no texts, no references line
  size_t sys;
  const OutputsFile& base_out;
  const OutputsFile& cand_out;
};

absl::StatusOr<emar::v1::FlipItem> MakeFlipItem(const FlipSource& src, const std::string& name,
                                                const char* kind, const Flip& f) {
  const DatasetResults& d = src.d;
  if (f.row >= src.refs.size() || f.row >= d.lines[0].size() || f.row >= d.lines[src.sys].size()) {
    return absl::InternalError("flip row past the references or the outputs' lines");
  }
  const int max_chars = src.request.max_chars();
  emar::v1::FlipItem item;
  item.set_candidate(name);
  item.set_dataset(src.request.dataset());
  item.set_metric(d.metric_spec.name());
  item.set_kind(kind);
  item.set_id(std::string(src.refs.id(f.row)));
  if (!src.no_references) {
    for (const std::string& r : src.refs.reference(f.row).texts) {
      item.add_references(CutText(r, max_chars));
    }
    item.set_reference_line(src.refs.line(f.row));
  }
  item.set_base_value(f.base);
  item.set_candidate_value(f.candidate);
  item.set_base_line(d.lines[0][f.row]);
  item.set_candidate_line(d.lines[src.sys][f.row]);
  if (src.sys < d.samples_per_item.size()) {
    item.set_base_samples(static_cast<int32_t>(d.samples_per_item[0]));
    item.set_candidate_samples(static_cast<int32_t>(d.samples_per_item[src.sys]));
  }
  item.set_base_prediction(CutText(src.base_out.Prediction(item.base_line()), max_chars));
  item.set_candidate_prediction(CutText(src.cand_out.Prediction(item.candidate_line()), max_chars));
  return item;
}

}  // namespace

std::optional<FlipOptions> FlipRuleFor(const DatasetResults& d) {
  if (d.metric == nullptr || d.metric->uses_labels() || d.metric->stats_width() != 1) {
    return std::nullopt;
  }
  FlipOptions options;
  options.direction = d.metric->direction();
  if (d.metric_spec.range_size() == 2) {
    options.right_at = (d.metric_spec.range(0) + d.metric_spec.range(1)) / 2;
  }
  return options;
}

absl::Status AddFlipCounts(const DatasetResults& d, size_t sys, emar::v1::DatasetComparison* out) {
  std::optional<FlipOptions> rule = FlipRuleFor(d);
  if (!rule || sys >= d.systems.size()) return absl::OkStatus();
  rule->first_n = 0;
  ASSIGN_OR_RETURN(const Flips flips, ListFlips(d.systems[0], d.systems[sys], *rule));
  emar::v1::FlipCounts* counts = out->mutable_flips();
  counts->set_learned(flips.learned_count);
  counts->set_forgot(flips.forgot_count);
  counts->set_items(flips.items);
  counts->set_right_at(rule->right_at);
  return absl::OkStatus();
}

std::string CutText(const std::string& text, int max_chars) {
  if (max_chars <= 0) return text;
  size_t pos = 0;
  for (int chars = 0; pos < text.size(); ++chars) {
    if (chars == max_chars) return absl::StrCat(text.substr(0, pos), "…");
    ++pos;  // past the lead byte, then past its continuation bytes
    while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
  }
  return text;
}

absl::Status ListStoredFlips(const StoredJobResults& job, const emar::v1::ListFlipsRequest& request,
                             BlobStore& blobs,
                             const std::function<absl::Status(emar::v1::FlipItem)>& emit) {
  const emar::v1::JobSpec& spec = job.request->spec();
  const std::vector<SuiteDataset> datasets = SuiteDatasets(spec);
  ASSIGN_OR_RETURN(const size_t k, FindDataset(datasets, request.dataset()));
  ASSIGN_OR_RETURN(const DatasetResults* d, FindMetric(job.assembled, k, request.metric()));
  std::optional<FlipOptions> rule = FlipRuleFor(*d);
  if (!rule) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric '", d->metric_spec.name(), "' of dataset '", request.dataset(),
        "' has no per-item outcome, so no flips (they need accuracy, exact_match, score, ...)"));
  }
  const std::string& kind = request.kind();
  if (!kind.empty() && kind != "learned" && kind != "forgot") {
    return absl::InvalidArgumentError(
        absl::StrCat("kind '", kind, "': must be learned or forgot (empty: both)"));
  }
  if (request.limit() < 0 || request.max_chars() < 0) {
    return absl::InvalidArgumentError("limit and max_chars must not be negative");
  }
  ASSIGN_OR_RETURN(const std::vector<size_t> systems, FindCandidates(spec, request.candidate()));
  rule->first_n = request.limit() > 0 ? static_cast<size_t>(request.limit())
                                      : std::numeric_limits<size_t>::max();
  // Every model's shard tasks name its outputs blob; any one names the references blob.
  std::map<std::string, const emar::v1::ShardTask*> task_of_model;
  for (const StoredShard& s : job.shards) {
    if (ShardOfDataset(s.task, datasets[k])) task_of_model.emplace(s.task.model(), &s.task);
  }
  if (task_of_model.empty()) return absl::InternalError("the dataset has no stored shards");
  ASSIGN_OR_RETURN(const ReferenceTable refs,
                   ItemTable(*task_of_model.begin()->second, *datasets[k].spec, blobs));
  auto load = [&](const std::string& model) -> absl::StatusOr<OutputsFile> {
    auto it = task_of_model.find(model);
    if (it == task_of_model.end()) {
      return absl::InternalError(absl::StrCat("model '", model, "' has no stored shard"));
    }
    return OutputsFile::Load(*it->second, blobs,
                             d->sample_metric != nullptr ? *d->sample_metric : *d->metric);
  };
  ASSIGN_OR_RETURN(const OutputsFile base_out, load(spec.base().name()));
  const bool no_references = task_of_model.begin()->second->ids_from_outputs();
  for (const size_t sys : systems) {
    const std::string& name = spec.candidates(static_cast<int>(sys) - 1).name();
    ASSIGN_OR_RETURN(const Flips flips, ListFlips(d->systems[0], d->systems[sys], *rule));
    ASSIGN_OR_RETURN(const OutputsFile cand_out, load(name));
    const FlipSource source{request, *d, refs, no_references, sys, base_out, cand_out};
    for (const char* what : {"learned", "forgot"}) {
      if (!kind.empty() && kind != what) continue;
      for (const Flip& f : std::strcmp(what, "learned") == 0 ? flips.learned : flips.forgot) {
        ASSIGN_OR_RETURN(emar::v1::FlipItem item, MakeFlipItem(source, name, what, f));
        RETURN_IF_ERROR(emit(std::move(item)));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace emar
