#include "server/result_assembler.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/parallel_for.h"
#include "common/status_macros.h"
#include "eval/job/job_inputs.h"
#include "eval/job/suite.h"
#include "eval/metrics/pass_at_k.h"
#include "eval/metrics/sample_mean_metric.h"

namespace emar {

const DatasetResults& AssembledResults::at(int dataset, int metric_index) const {
  for (const DatasetResults& d : results) {
    if (d.dataset == dataset && d.metric_index == metric_index) return d;
  }
  return results.front();  // callers ask only for what the spec has; never reached
}

ResultAssembler::ResultAssembler(const emar::v1::JobSpec& spec, std::vector<size_t> rows,
                                 ReferenceLookup lookup)
    : spec_(spec), rows_(std::move(rows)), lookup_(std::move(lookup)) {
  init_status_ = Init();
}

absl::Status ResultAssembler::Init() {
  const size_t models = 1 + spec_.candidates_size();
  const std::vector<SuiteDataset> datasets = SuiteDatasets(spec_);
  if (datasets.size() != rows_.size()) {
    return absl::InternalError(absl::StrCat("the job has ", datasets.size(),
                                            " datasets but row counts for ", rows_.size()));
  }
  const std::vector<const emar::v1::ModelSpec*> model_specs = ModelsInOrder(spec_);
  // The per-example arrays are zero-filled at the end, on two threads: at a million examples a
  // model they are tens of megabytes of fresh pages, which one thread alone would take a good
  // part of a second to fault in while the other core idles (the results are added after this).
  struct Fill {
    std::vector<double>* stats;
    std::vector<uint32_t>* lines;
    size_t n;
  };
  std::vector<Fill> fills;
  size_t total_results = 0;
  for (const SuiteDataset& sd : datasets) total_results += sd.metrics.size();
  out_.results.reserve(total_results);  // `fills` points into it
  coverage_.reserve(total_results * models);
  for (const SuiteDataset& sd : datasets) {
    for (size_t m = 0; m < sd.metrics.size(); ++m) {
      DatasetResults& d = out_.results.emplace_back();
      d.spec = sd.spec;
      d.dataset = sd.index;
      d.metric_index = static_cast<int>(m);
      d.metric_spec = sd.metrics[m];
      ASSIGN_OR_RETURN(d.metric, MakeMetricFromSpec(sd.metrics[m]));
      d.n = rows_[static_cast<size_t>(sd.index)];
      d.systems.resize(models);
      const bool samples = !sd.spec->fields().sample_field().empty();
      for (size_t k = 0; k < models; ++k) {
        Coverage& c = coverage_.emplace_back();
        c.display_name = OutputsOf(*model_specs[k], sd);
        if (!samples) fills.push_back({nullptr, &c.line, d.n});
        fills.push_back({&d.systems[k], nullptr, d.n * d.metric->stats_width()});
        groupers_.push_back(samples ? std::make_unique<SampleGrouper>(
                                          d.n,
                                          [this, dataset = sd.index](uint32_t item) {
                                            return ItemName(dataset, item);
                                          },
                                          c.display_name, d.metric->stats_width())
                                    : nullptr);
      }
    }
  }
  ParallelFor(fills.size(), 2, [&](size_t i) {
    if (fills[i].stats != nullptr) fills[i].stats->assign(fills[i].n, 0.0);
    if (fills[i].lines != nullptr) fills[i].lines->assign(fills[i].n, 0);
  });
  return absl::OkStatus();
}

absl::StatusOr<size_t> ResultAssembler::ResultIndex(const emar::v1::ShardTask& task) const {
  // Tasks stored before suites name no dataset: their role is the dataset (target 0, benchmark 1).
  const std::string key = task.metrics_size() > 0 ? MetricSpecKey(task.metrics(0)) : task.metric();
  for (size_t i = 0; i < out_.results.size(); ++i) {
    const DatasetResults& d = out_.results[i];
    const bool dataset = task.dataset().empty()
                             ? d.dataset == (task.role() == emar::v1::DATASET_ROLE_TARGET ? 0 : 1)
                             : d.spec->name() == task.dataset();
    // A task naming no metric (none the planner makes) is its dataset's primary.
    if (dataset && (key.empty() ? d.metric_index == 0 : MetricSpecKey(d.metric_spec) == key)) {
      return i;
    }
  }
  return absl::InternalError(absl::StrCat("shard ", task.shard_id(), " names dataset '",
                                          task.dataset(), "' metric '", key,
                                          "', which the job does not have"));
}

std::string ResultAssembler::Describe(int dataset, size_t row, bool with_location) const {
  absl::StatusOr<std::pair<std::string, uint64_t>> ref =
      lookup_ ? lookup_(dataset, row) : absl::UnavailableError("no lookup");
  if (!ref.ok()) return absl::StrCat("reference row ", row + 1);
  if (!with_location) return absl::StrCat("id '", ref->first, "'");
  const emar::v1::DatasetSpec& ds = *SuiteDatasets(spec_)[static_cast<size_t>(dataset)].spec;
  return absl::StrCat("id '", ref->first, "' (", ds.references(), ":", ref->second, ")");
}

std::pair<std::string, uint64_t> ResultAssembler::ItemName(int dataset, size_t row) const {
  absl::StatusOr<std::pair<std::string, uint64_t>> ref =
      lookup_ ? lookup_(dataset, row) : absl::UnavailableError("no lookup");
  if (!ref.ok()) return {absl::StrCat("reference row ", row + 1), 0};
  return *ref;
}

int ResultAssembler::ModelIndex(const std::string& model) const {
  if (model == spec_.base().name()) return 0;
  for (int i = 0; i < spec_.candidates_size(); ++i) {
    if (spec_.candidates(i).name() == model) return i + 1;
  }
  return -1;
}

absl::Status ResultAssembler::Add(const emar::v1::ShardTask& task,
                                  const emar::v1::ShardResult& result) {
  RETURN_IF_ERROR(init_status_);
  ASSIGN_OR_RETURN(const ShardSlot shard, CheckShard(task, result));
  DatasetResults& d = out_.results[shard.index];
  ASSIGN_OR_RETURN(const std::vector<double> remap, InternLabels(result, d));
  const size_t slot =
      shard.index * (1 + spec_.candidates_size()) + static_cast<size_t>(shard.model);
  if (groupers_[slot] != nullptr) return AddSamples(task, result, *groupers_[slot], d.n);
  RETURN_IF_ERROR(AddRows(task, result, remap, d, coverage_[slot],
                          d.systems[static_cast<size_t>(shard.model)]));
  if (result.reference_row_size() > 0) d.nrefs.MergeNrefs(result.nrefs());
  return absl::OkStatus();
}

absl::StatusOr<ResultAssembler::ShardSlot> ResultAssembler::CheckShard(
    const emar::v1::ShardTask& task, const emar::v1::ShardResult& result) const {
  // The task is the coordinator's own (stored at CreateJob), so a bad one is our bug.
  if (task.role() != emar::v1::DATASET_ROLE_TARGET &&
      task.role() != emar::v1::DATASET_ROLE_BENCHMARK) {
    return absl::InternalError(absl::StrCat("shard ", task.shard_id(), " names unknown role ",
                                            static_cast<int>(task.role())));
  }
  const int model = ModelIndex(task.model());
  if (model < 0) {
    return absl::InternalError(
        absl::StrCat("shard ", task.shard_id(), " names unknown model '", task.model(), "'"));
  }
  ASSIGN_OR_RETURN(const size_t index, ResultIndex(task));
  const DatasetResults& d = out_.results[index];
  const size_t width = d.metric->stats_width();
  const size_t rows = static_cast<size_t>(result.reference_row_size());
  if (static_cast<size_t>(result.stats_width()) != width ||
      result.line_size() != result.reference_row_size() ||
      static_cast<size_t>(result.stats_size()) != rows * width) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", task.shard_id(), " result is malformed: ", rows, " rows, width ",
                     result.stats_width(), " (metric '", d.metric->name(), "' needs ", width, "), ",
                     result.stats_size(), " values"));
  }
  return ShardSlot{index, model};
}

absl::StatusOr<std::vector<double>> ResultAssembler::InternLabels(
    const emar::v1::ShardResult& result, DatasetResults& d) {
  std::vector<double> remap;
  if (!d.metric->uses_labels()) return remap;
  for (const std::string& label : result.labels()) remap.push_back(d.labels.Intern(label));
  if (d.labels.size() > kMaxLabels) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset '", d.spec->name(), "': more than ", kMaxLabels,
                     " distinct labels across its outputs, more than metric '", d.metric->name(),
                     "' supports; for free-text answers use exact_match or token_f1"));
  }
  return remap;
}

absl::Status ResultAssembler::AddRows(const emar::v1::ShardTask& task,
                                      const emar::v1::ShardResult& result,
                                      const std::vector<double>& remap, const DatasetResults& d,
                                      Coverage& cov, std::vector<double>& dest) const {
  const size_t width = d.metric->stats_width();
  const size_t rows = static_cast<size_t>(result.reference_row_size());
  // A refused result leaves nothing behind: the rows it marked are unmarked again (values it
  // wrote sit in unmarked rows, which a later result overwrites).
  std::vector<uint32_t> marked;
  marked.reserve(rows);
  auto refuse = [&](absl::Status error) {
    for (uint32_t r : marked) cov.line[r] = 0;
    return error;
  };
  // Rows arrive in the outputs' order, so their reference rows jump around arrays of millions:
  // the coverage and statistics slots of a row some way ahead are fetched while this one is
  // checked and written.
  constexpr size_t kAhead = 16;
  const uint32_t* ref_rows = result.reference_row().data();
  for (size_t i = 0; i < rows; ++i) {
    if (i + kAhead < rows && ref_rows[i + kAhead] < d.n) {
      const size_t ahead = ref_rows[i + kAhead];
      __builtin_prefetch(&cov.line[ahead], 1);
      __builtin_prefetch(&dest[ahead * width], 1);
    }
    const uint32_t ref_row = ref_rows[i];
    const uint64_t line = result.line(static_cast<int>(i));
    if (ref_row >= d.n) {
      return refuse(absl::InvalidArgumentError(absl::StrCat(
          "shard ", task.shard_id(), " result names reference row ", ref_row, " of ", d.n)));
    }
    if (line == 0) {  // lines count from 1; 0 marks a row not yet seen
      return refuse(absl::InvalidArgumentError(
          absl::StrCat("shard ", task.shard_id(), " result names line 0 for reference row ",
                       ref_row, " (lines count from 1)")));
    }
    if (line > std::numeric_limits<uint32_t>::max()) {
      return refuse(absl::InvalidArgumentError(
          absl::StrCat(cov.display_name, ":", line,
                       ": outputs files of more than 4294967295 lines are not "
                       "supported")));
    }
    if (cov.line[ref_row] != 0) {
      return refuse(absl::InvalidArgumentError(absl::StrCat(
          cov.display_name, ":", line, ": duplicate ", Describe(d.dataset, ref_row, false),
          " (first at line ", cov.line[ref_row], ")")));
    }
    cov.line[ref_row] = static_cast<uint32_t>(line);
    marked.push_back(ref_row);
    for (size_t k = 0; k < width; ++k) {
      double v = result.stats(static_cast<int>(i * width + k));
      if (d.metric->uses_labels()) {
        // Checked as a double first: casting a negative, huge or NaN value is undefined.
        if (!(v >= 0 && v < static_cast<double>(remap.size())) || v != std::floor(v)) {
          return refuse(absl::InvalidArgumentError(
              absl::StrCat("shard ", task.shard_id(), " result has label id ", v,
                           ", not an index into its label table of ", remap.size())));
        }
        v = remap[static_cast<size_t>(v)];
      }
      dest[ref_row * width + k] = v;
    }
  }
  return absl::OkStatus();
}

absl::Status ResultAssembler::AddSamples(const emar::v1::ShardTask& task,
                                         const emar::v1::ShardResult& result,
                                         SampleGrouper& grouper, size_t n) {
  const size_t width = static_cast<size_t>(result.stats_width());
  if (result.sample_size() != result.reference_row_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard ", task.shard_id(), " result is malformed: ", result.reference_row_size(),
        " rows but ", result.sample_size(), " sample indices (the dataset has several samples)"));
  }
  for (int i = 0; i < result.reference_row_size(); ++i) {
    const uint32_t ref_row = result.reference_row(i);
    if (ref_row >= n || result.line(i) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("shard ", task.shard_id(),
                                                     " result names reference row ", ref_row,
                                                     " of ", n, " or line 0"));
    }
    RETURN_IF_ERROR(grouper.Add(
        ref_row, result.sample(i), result.line(i),
        absl::MakeConstSpan(result.stats().data() + static_cast<size_t>(i) * width, width)));
  }
  return absl::OkStatus();
}

absl::Status ResultAssembler::FinishSamples(size_t index) {
  DatasetResults& d = out_.results[index];
  const size_t models = 1 + spec_.candidates_size();
  bool one_each = true;
  for (size_t m = 0; m < models; ++m) {
    ASSIGN_OR_RETURN(SampleGroups groups, std::move(*groupers_[index * models + m]).Finish());
    ASSIGN_OR_RETURN(d.systems[m], ItemRows(groups, *d.metric));
    d.samples_per_item.push_back(groups.samples_per_item);
    // Flips list an item's first sample: its line stands for the item's line.
    std::vector<uint32_t>& lines = coverage_[index * models + m].line;
    lines.clear();
    lines.reserve(groups.first_lines.size());
    for (const uint64_t line : groups.first_lines) {
      if (line > std::numeric_limits<uint32_t>::max()) {
        return absl::InvalidArgumentError(
            absl::StrCat(coverage_[index * models + m].display_name, ":", line,
                         ": outputs files of more than 4294967295 lines are not supported"));
      }
      lines.push_back(static_cast<uint32_t>(line));
    }
    one_each = one_each && groups.samples_per_item == 1;
  }
  // pass@k scores its own item rows; one sample per item keeps the metric (and McNemar's test
  // for 0/1 rows); otherwise item rows are sample means, scored by the wrapper.
  if (dynamic_cast<const PassAtKMetric*>(d.metric.get()) != nullptr || one_each) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SampleMeanMetric> items, SampleMeanMetric::Create(*d.metric));
  d.sample_metric = std::move(d.metric);
  d.metric = std::move(items);
  return absl::OkStatus();
}

absl::StatusOr<AssembledResults> ResultAssembler::Finish() && {
  RETURN_IF_ERROR(init_status_);
  const size_t models = 1 + spec_.candidates_size();
  for (size_t i = 0; i < out_.results.size(); ++i) {
    if (groupers_[i * models] != nullptr) {
      RETURN_IF_ERROR(FinishSamples(i));
      continue;
    }
    for (size_t m = 0; m < models; ++m) {
      const Coverage& cov = coverage_[i * models + m];
      size_t missing = 0;
      size_t first = 0;
      for (size_t r = 0; r < cov.line.size(); ++r) {
        if (cov.line[r] == 0 && missing++ == 0) first = r;
      }
      if (missing > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(cov.display_name, ": missing prediction for ",
                         Describe(out_.results[i].dataset, first, true),
                         missing > 1 ? absl::StrCat(" and ", missing - 1, " more ids") : ""));
      }
    }
  }
  for (size_t i = 0; i < out_.results.size(); ++i) {
    for (size_t m = 0; m < models; ++m) {
      out_.results[i].lines.push_back(std::move(coverage_[i * models + m].line));
    }
  }
  return std::move(out_);
}

}  // namespace emar
