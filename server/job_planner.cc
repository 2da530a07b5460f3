#include "server/job_planner.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <set>
#include <thread>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "eval/formula/emar_formula.h"
#include "eval/input/decompress.h"
#include "eval/input/reference_table.h"
#include "eval/input/shard_splitter.h"
#include "eval/input/slice_reader.h"
#include "eval/job/field_names.h"
#include "eval/job/job_defaults.h"
#include "eval/job/job_inputs.h"
#include "eval/job/output_ids.h"
#include "eval/job/suite.h"
#include "eval/metrics/metric.h"
#include "eval/metrics/metric_registry.h"

namespace emar {
namespace {

using emar::v1::CreateJobRequest;
using emar::v1::JobSpec;
using emar::v1::ModelSpec;

// An input's content: the digest of its (decompressed) bytes, and the bytes, mapped from the
// blob store or, for a compressed upload, expanded in memory.
struct LoadedInput {
  std::string digest;
  FileBytes mapped;
  std::string expanded;
  absl::string_view bytes() const { return expanded.empty() ? mapped.bytes() : expanded; }
};

// Resolves a spec path to its uploaded, decompressed blob. Holds no file contents itself: the
// planner maps one input at a time per thread, and copies into memory only what it expands.
// Decompressed copies are written to temporary files and published only by Publish(), once the
// whole plan is accepted: a refused job leaves no expansion behind.
class InputResolver {
 public:
  InputResolver(const CreateJobRequest& request, BlobStore& blobs, uint64_t max_input_bytes)
      : request_(request), blobs_(blobs), max_input_bytes_(max_input_bytes) {}

  // The digest of the (decompressed) content and its bytes. Thread-safe: two threads may Load
  // different paths at once.
  absl::StatusOr<LoadedInput> Load(const std::string& field, const std::string& path) {
    if (path.empty()) return InvalidSpecField(field, "missing (a path to a JSONL file)");
    auto it = request_.input_digests().find(path);
    if (it == request_.input_digests().end()) {
      return InvalidSpecField(
          field,
          absl::StrCat("input '", path, "' has no digest in input_digests (was it uploaded?)"));
    }
    const std::string& sha = it->second;
    const absl::StatusOr<int64_t> size = blobs_.Size(sha);
    if (!size.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("job spec field '", field, "': blob ", sha,
                                                        " for '", path, "' was not uploaded"));
    }
    if (static_cast<uint64_t>(*size) > max_input_bytes_) {
      return absl::ResourceExhaustedError(
          absl::StrCat(path, ": ", *size, " bytes exceed the input limit of ", max_input_bytes_,
                       " bytes (emar-coordinator --max-input-mb)"));
    }
    LoadedInput out;
    ASSIGN_OR_RETURN(out.mapped, blobs_.Map(sha));
    if (DetectCompression(out.mapped.bytes()) == Compression::kNone) {
      out.digest = sha;  // verified at upload: no second hash
      return out;
    }
    // Decoded straight from the mapping: the compressed bytes are never copied.
    absl::StatusOr<std::string> expanded = Decompress(path, out.mapped.bytes(), max_input_bytes_);
    out.mapped = FileBytes();
    if (absl::IsResourceExhausted(expanded.status())) {
      return absl::ResourceExhaustedError(
          absl::StrCat(expanded.status().message(), " (emar-coordinator --max-input-mb)"));
    }
    RETURN_IF_ERROR(expanded.status());
    out.digest = Sha256Hex(*expanded);
    out.expanded = std::move(*expanded);
    const std::string& digest = out.digest;
    {
      // One copy per content: a file named by several inputs (both datasets' outputs, say) is
      // written once.
      absl::MutexLock lock(&mu_);
      if (pending_.contains(digest) || blobs_.Has(digest)) return out;
      pending_[digest] = nullptr;  // claimed: another thread loading the same content skips it
    }
    ASSIGN_OR_RETURN(std::unique_ptr<BlobStore::Writer> w,
                     blobs_.StartWrite(digest, static_cast<int64_t>(out.expanded.size())));
    RETURN_IF_ERROR(w->Append(out.expanded));
    {
      absl::MutexLock lock(&mu_);
      pending_[digest] = std::move(w);
    }
    return out;
  }

  // Publishes the decompressed copies written so far. Without it they are discarded.
  absl::Status Publish() {
    absl::MutexLock lock(&mu_);
    for (auto& [digest, w] : pending_) RETURN_IF_ERROR(w->Commit());
    pending_.clear();
    return absl::OkStatus();
  }

 private:
  const CreateJobRequest& request_;
  BlobStore& blobs_;
  const uint64_t max_input_bytes_;
  absl::Mutex mu_;
  // Decompressed copies written but not yet published, by digest.
  absl::flat_hash_map<std::string, std::unique_ptr<BlobStore::Writer>> pending_
      ABSL_GUARDED_BY(mu_);
};

// Runs `fn` on a thread of its own; the thread is joined whatever happens on the caller's side,
// and nothing `fn` throws escapes it (std::terminate otherwise): it becomes the status.
class GuardedThread {
 public:
  explicit GuardedThread(std::function<absl::Status()> fn)
      : thread_([this, fn = std::move(fn)] { status_ = CallNoThrow(fn); }) {}
  ~GuardedThread() { Join().IgnoreError(); }  // the caller took the status, or is failing
  absl::Status Join() {
    if (thread_.joinable()) thread_.join();
    return status_;
  }

 private:
  static absl::Status CallNoThrow(const std::function<absl::Status()>& fn) {
    try {
      return fn();
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError("out of memory while checking the input");
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("unexpected error: ", e.what()));
    }
  }

  absl::Status status_;
  std::thread thread_;
};

// A shard's result travels in one gRPC message (64 MiB): about 9 bytes a statistic plus ~16 for
// the row's reference row and line. Cap the rows so a wide metric (chrF: 18 columns) with a
// large --rows-per-shard still fits, with room to spare.
uint64_t RowsPerShard(const Metric& metric, int64_t requested) {
  constexpr uint64_t kMaxResultBytes = uint64_t{48} << 20;
  return std::min<uint64_t>(static_cast<uint64_t>(requested),
                            kMaxResultBytes / (9 * metric.stats_width() + 16));
}

// Names end up in every listing, report and error message: they stay short.
absl::Status CheckName(const std::string& field, const std::string& name) {
  if (name.empty()) return InvalidSpecField(field, "missing");
  if (name.size() > kMaxNameBytes) {
    return InvalidSpecField(field, absl::StrCat(name.size(), " bytes, limit ", kMaxNameBytes));
  }
  return absl::OkStatus();
}

// Phase 1, on the spec as written: names, the suite's shape (datasets, metrics, weights, gate
// overrides, outputs per model) and the models.
absl::Status CheckShape(const JobSpec& spec, const SuiteLimits& limits) {
  RETURN_IF_ERROR(CheckName("name", spec.name()));
  for (const SuiteDataset& d : SuiteDatasets(spec)) {
    RETURN_IF_ERROR(CheckName(d.field + ".name", d.spec->name()));
    if (d.spec->metrics_size() == 0) {
      RETURN_IF_ERROR(CheckName(d.field + ".metric", d.spec->metric()));
    }
    for (int m = 0; m < d.spec->metrics_size(); ++m) {
      RETURN_IF_ERROR(
          CheckName(absl::StrCat(d.field, ".metrics[", m, "].name"), d.spec->metrics(m).name()));
    }
  }
  RETURN_IF_ERROR(CheckName("base.name", spec.base().name()));
  if (spec.candidates().empty())
    return InvalidSpecField("candidates", "at least one candidate is required");
  if (spec.candidates_size() > kMaxCandidates) {
    return InvalidSpecField(
        "candidates", absl::StrCat(spec.candidates_size(), " candidates, limit ", kMaxCandidates));
  }
  std::set<std::string> names = {spec.base().name()};
  for (int i = 0; i < spec.candidates_size(); ++i) {
    const std::string& n = spec.candidates(i).name();
    RETURN_IF_ERROR(CheckName(absl::StrCat("candidates[", i, "].name"), n));
    if (!names.insert(n).second) {
      return InvalidSpecField(absl::StrCat("candidates[", i, "].name"),
                              absl::StrCat("model name '", n, "' is used twice"));
    }
  }
  return ValidateSuite(spec, limits);
}

// The formula against the suite: presets need higher-is-better primaries, a side's aggregate
// needs one direction, and every `T1[name]` names a dataset of the right side.
absl::Status CheckFormula(const JobSpec& spec, const std::vector<SuiteDataset>& datasets) {
  auto formula = EmarFormula::Parse(spec.formula());
  if (!formula.ok()) return InvalidSpecField("formula", formula.status().message());
  std::optional<Direction> side[2];
  for (const SuiteDataset& d : datasets) {
    auto metric = MakeMetricFromSpec(d.metrics[0]);  // validated by ValidateSuite
    if (!metric.ok()) return InvalidSpecField(d.field + ".metrics", metric.status().message());
    const Direction dir = (*metric)->direction();
    if (formula->is_preset() && dir == Direction::kLowerIsBetter) {
      return InvalidSpecField(
          "formula", absl::StrCat("preset '", formula->name(),
                                  "' assumes higher-is-better scores but metric '",
                                  d.metrics[0].name(), "' of dataset '", d.spec->name(),
                                  "' is lower-is-better; write an explicit expression instead"));
    }
    std::optional<Direction>& s = side[d.role == emar::v1::DATASET_ROLE_TARGET ? 0 : 1];
    if (s && *s != dir) {
      return InvalidSpecField(
          d.field + ".metrics",
          absl::StrCat("the primary metric '", d.metrics[0].name(), "' of dataset '",
                       d.spec->name(), "' is ", DirectionName(dir),
                       " but an earlier dataset of the same side is not; a weighted "
                       "mean of both kinds has no direction"));
    }
    s = dir;
  }
  for (const FormulaDatasetRef& ref : formula->dataset_refs()) {
    const bool wants_target = ref.var == kVarT0 || ref.var == kVarT1 || ref.var == kVarDT;
    auto it = std::find_if(datasets.begin(), datasets.end(),
                           [&](const SuiteDataset& d) { return d.spec->name() == ref.dataset; });
    if (it == datasets.end()) {
      return InvalidSpecField("formula",
                              absl::StrCat("'", FormulaVarName(ref.var), "[", ref.dataset,
                                           "]' names no dataset of the job"));
    }
    if ((it->role == emar::v1::DATASET_ROLE_TARGET) != wants_target) {
      const std::string& n = ref.dataset;
      const char* side = wants_target ? "B" : "T";
      return InvalidSpecField(
          "formula",
          absl::StrCat("'", FormulaVarName(ref.var), "[", n, "]': '", n, "' is a ",
                       wants_target ? "benchmark" : "target", " dataset; its scores are ", side,
                       "0[", n, "], ", side, "1[", n, "], d", side, "[", n, "]"));
    }
  }
  return absl::OkStatus();
}

// Phase 2, on the spec with defaults: formula, bootstrap and gate settings.
absl::Status CheckSettings(const JobSpec& spec, const std::vector<SuiteDataset>& datasets) {
  RETURN_IF_ERROR(CheckFormula(spec, datasets));
  const emar::v1::BootstrapSpec* bs = &spec.bootstrap();
  if (bs->resamples() < 0 || bs->resamples() > 100000)
    return InvalidSpecField("bootstrap.resamples", "must be in 1..100000");
  if (!(bs->confidence() > 0 && bs->confidence() < 1))
    return InvalidSpecField("bootstrap.confidence", "must be in (0, 1)");
  if (bs->test() != kPairedBootstrapTest && bs->test() != kApproximateRandomizationTest) {
    return InvalidSpecField("bootstrap.test",
                            absl::StrCat("'", bs->test(), "' is not ", kPairedBootstrapTest, " or ",
                                         kApproximateRandomizationTest));
  }
  if (bs->ar_trials() < 0 || bs->ar_trials() > 1000000)
    return InvalidSpecField("bootstrap.ar_trials", "must be in 1..1000000");
  if (!(bs->power() > 0 && bs->power() < 1))
    return InvalidSpecField("bootstrap.power", "must be in (0, 1)");
  if (bs->small_dataset_items() < 0)
    return InvalidSpecField("bootstrap.small_dataset_items", "must be >= 0 (0: never)");
  for (const SuiteDataset& d : datasets) {
    if (d.spec->fields().sample_field().empty()) continue;
    for (size_t m = 0; m < d.metrics.size(); ++m) {
      auto metric = MakeMetricFromSpec(d.metrics[m]);
      if (metric.ok() && (*metric)->uses_labels()) {
        return InvalidSpecField(
            absl::StrCat(d.field, ".metrics[", m, "]"),
            absl::StrCat("metric '", d.metrics[m].name(), "' of dataset '", d.spec->name(),
                         "' counts labels and cannot average several samples per item "
                         "(fields.sample_field '",
                         d.spec->fields().sample_field(), "')"));
      }
    }
  }
  const emar::v1::GateSpec& g = spec.gates();
  for (auto [name, present, v] :
       {std::tuple{"gates.min_emar", g.has_min_emar(), g.min_emar()},
        std::tuple{"gates.max_benchmark_regression", g.has_max_benchmark_regression(),
                   g.max_benchmark_regression()},
        std::tuple{"gates.min_target_gain", g.has_min_target_gain(), g.min_target_gain()},
        std::tuple{"gates.max_suite_regression", g.has_max_suite_regression(),
                   g.max_suite_regression()}}) {
    if (present && !std::isfinite(v)) return InvalidSpecField(name, "must be a finite number");
  }
  return absl::OkStatus();
}

// An outputs file read and split into shard-sized line ranges.
struct SplitOutput {
  std::string digest;  // of the (decompressed) content
  std::vector<LineRange> ranges;
};

absl::Status SplitOutputs(InputResolver& inputs, const JobInput& in, uint64_t rows_per_shard,
                          SplitOutput* out) {
  ASSIGN_OR_RETURN(auto loaded, inputs.Load(in.field, in.path));
  out->ranges = SplitIntoShards(loaded.bytes(), rows_per_shard);
  if (out->ranges.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(in.path, ": empty file (no JSON lines)"));
  }
  out->digest = std::move(loaded.digest);
  return absl::OkStatus();
}

// A dataset as the planner shards it.
struct PlannedDataset {
  SuiteDataset suite;
  std::vector<std::unique_ptr<Metric>> metrics;
  uint64_t rows_per_shard = 0;  // the narrowest cap of its metrics
  std::string refs_digest;
  size_t rows = 0;
  // No references file (a score dataset): the rows are the base outputs' ids, read from
  // `refs_path`, the base model's outputs.
  bool ids_from_outputs = false;
  std::string refs_path;
};

// Phase 3: every input is one work item, taken in turn by two threads: the references (the
// last dataset's first: benchmarks are usually the larger files) are parsed and checked, so a
// bad file is an INVALID_ARGUMENT from CreateJob rather than a failed job later; the outputs are
// read and split into line ranges. Errors are reported in the order of sequential checks: the
// references in suite order, then (after the cost check, by the caller) the outputs.
absl::Status ReadInputs(InputResolver& inputs, const std::vector<JobInput>& job_inputs,
                        std::vector<PlannedDataset>& datasets,
                        const ParsedReferencesSink& parsed_references,
                        std::vector<SplitOutput>& outputs, std::vector<absl::Status>& item_status) {
  auto check_references = [&](int i) -> absl::Status {
    const JobInput& in = job_inputs[i];
    PlannedDataset& d = datasets[in.dataset_index];
    d.refs_path = in.path;
    if (in.path.empty()) {
      RETURN_IF_ERROR(CheckReferencesOptional(*d.suite.spec, d.suite.field));
      auto base = std::find_if(job_inputs.begin(), job_inputs.end(), [&](const JobInput& o) {
        return o.model_index == 0 && o.dataset_index == in.dataset_index;
      });
      if (base == job_inputs.end()) return absl::InternalError("a dataset has no base outputs");
      ASSIGN_OR_RETURN(auto loaded, inputs.Load(base->field, base->path));
      ASSIGN_OR_RETURN(
          ReferenceTable ids,
          IdsOfOutputs(base->path, loaded.bytes(), d.suite.spec->fields(), d.suite.metrics[0]));
      d.refs_digest = loaded.digest;
      d.rows = ids.size();
      d.ids_from_outputs = true;
      d.refs_path = base->path;
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(auto loaded, inputs.Load(in.field, in.path));
    // Each file on two threads too: files differ in size, and the smaller one's thread would
    // otherwise idle at the end while the larger one is parsed alone. A table no sink takes
    // only checks the file, and its reference texts are not kept.
    const bool hand_over = parsed_references && in.dataset_index < kParsedReferencesTables;
    ASSIGN_OR_RETURN(
        ReferenceTable table,
        ReferenceTable::Parse(
            in.path, loaded.bytes(), ToFieldConfig(d.suite.spec->fields()), /*threads=*/2,
            hand_over ? ReferenceTable::Texts::kKeep : ReferenceTable::Texts::kDrop));
    d.refs_digest = loaded.digest;
    d.rows = table.size();
    if (const std::string& slice = d.suite.spec->fields().slice_field(); !slice.empty()) {
      // Every line must name its slice: a missing one fails CreateJob, not the finished job.
      RETURN_IF_ERROR(ReadSlices(in.path, loaded.bytes(), slice).status());
    }
    if (hand_over) {
      loaded = LoadedInput();  // the text is not needed any more; the table is
      parsed_references(d.refs_digest, d.suite.spec->fields(),
                        std::make_shared<const ReferenceTable>(std::move(table)));
    }
    return absl::OkStatus();
  };
  outputs.assign(job_inputs.size(), SplitOutput());
  item_status.assign(job_inputs.size(), absl::OkStatus());
  std::vector<int> order;
  for (int i = static_cast<int>(datasets.size()) - 1; i >= 0; --i) order.push_back(i);
  for (int i = 0; i < static_cast<int>(job_inputs.size()); ++i) {
    if (!job_inputs[i].is_references()) order.push_back(i);
  }
  std::atomic<size_t> next{0};
  auto work = [&]() -> absl::Status {
    for (size_t k; (k = next.fetch_add(1)) < order.size();) {
      const int i = order[k];
      const JobInput& in = job_inputs[i];
      item_status[i] =
          in.is_references()
              ? check_references(i)
              : SplitOutputs(inputs, in, datasets[in.dataset_index].rows_per_shard, &outputs[i]);
    }
    return absl::OkStatus();
  };
  // An exception on this thread unwinds through helper (joined) to PlanJob.
  GuardedThread helper(work);
  const absl::Status mine = work();
  const absl::Status helper_status = helper.Join();
  RETURN_IF_ERROR(mine);
  RETURN_IF_ERROR(helper_status);
  for (size_t i = 0; i < datasets.size(); ++i) RETURN_IF_ERROR(item_status[i]);
  return absl::OkStatus();
}

// Phase 4: the statistics' cost grows with resamples x models x examples scored (every metric
// of a dataset is resampled): refused up front rather than tying up a finalizer for hours. An
// approximate-randomization trial costs about 100 bootstrap resamples (it re-accumulates every
// differing row; the bootstrap has fast paths), measured: 300,000 trials on 2 x 10,000 chrF
// rows took 290 s. Label metrics add a summary over the labels to each resample, linear in them
// (3 doubles a label); every example brings at most two labels, so that term is within a
// constant of the examples and needs no term of its own.
absl::Status CheckCost(const JobSpec& spec, const std::vector<PlannedDataset>& datasets,
                       double max_bootstrap_work) {
  const emar::v1::BootstrapSpec& bs = spec.bootstrap();
  const bool ar = bs.test() == kApproximateRandomizationTest;
  const double draws =
      static_cast<double>(bs.resamples()) + (ar ? 100.0 * static_cast<double>(bs.ar_trials()) : 0);
  size_t examples = 0;
  for (const PlannedDataset& d : datasets) examples += d.rows * d.metrics.size();
  const double work = draws * (spec.candidates_size() + 1) * static_cast<double>(examples);
  if (work <= max_bootstrap_work) return absl::OkStatus();
  return InvalidSpecField(
      ar ? "bootstrap.ar_trials" : "bootstrap.resamples",
      absl::StrCat(bs.resamples(), " resamples",
                   ar ? absl::StrCat(" + 100 x ", bs.ar_trials(), " trials") : "", " x ",
                   spec.candidates_size() + 1, " models x ", examples,
                   " examples = ", absl::SixDigits(work), " exceeds the coordinator's limit of ",
                   absl::SixDigits(max_bootstrap_work),
                   " (emar-coordinator --max-bootstrap-work); use fewer resamples or "
                   "trials"));
}

// Phase 5: one shard per (model, dataset, metric, line range), in input order. Each metric of a
// dataset is its own shard, so the score cache, the shard result and the assembly stay per
// metric: a second metric re-reads the outputs (cheap beside scoring) rather than widening rows.
absl::Status MakeShards(const JobSpec& spec, const std::vector<JobInput>& job_inputs,
                        const std::vector<PlannedDataset>& datasets,
                        const std::vector<SplitOutput>& outputs,
                        const std::vector<absl::Status>& item_status, JobPlan& plan) {
  int32_t shard_id = 0;
  const std::vector<const ModelSpec*> models = ModelsInOrder(spec);
  for (size_t i = 0; i < job_inputs.size(); ++i) {
    const JobInput& in = job_inputs[i];
    if (in.is_references()) continue;
    const PlannedDataset& d = datasets[in.dataset_index];
    RETURN_IF_ERROR(item_status[i]);
    const SplitOutput& loaded = outputs[i];
    for (const emar::v1::MetricSpec& metric : d.suite.metrics) {
      for (const LineRange& range : loaded.ranges) {
        StoredShard s;
        emar::v1::ShardTask& t = s.task;
        t.set_shard_id(shard_id++);
        t.set_role(in.dataset);
        t.set_model(models[in.model_index]->name());
        t.set_metric(metric.name());
        t.set_dataset(d.suite.spec->name());
        *t.add_metrics() = metric;
        *t.mutable_fields() = d.suite.spec->fields();
        t.mutable_outputs()->set_sha256(loaded.digest);
        t.mutable_outputs()->set_display_name(in.path);
        t.mutable_outputs()->set_offset(static_cast<int64_t>(range.offset));
        t.mutable_outputs()->set_length(static_cast<int64_t>(range.length));
        t.set_first_line(static_cast<int64_t>(range.first_line));
        t.mutable_references()->set_sha256(d.refs_digest);
        t.mutable_references()->set_display_name(d.refs_path);
        t.set_ids_from_outputs(d.ids_from_outputs);
        t.mutable_references()->set_offset(0);
        t.mutable_references()->set_length(-1);
        t.set_reference_rows(static_cast<int64_t>(d.rows));
        s.rows = static_cast<int64_t>(range.rows);
        plan.shards.push_back(std::move(s));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<JobPlan> PlanJobUnguarded(const CreateJobRequest& original, BlobStore& blobs,
                                         int64_t rows_per_shard, uint64_t max_input_bytes,
                                         double max_bootstrap_work,
                                         const ParsedReferencesSink& parsed_references,
                                         const SuiteLimits& limits) {
  JobPlan plan;
  plan.request = original;
  JobSpec& spec = *plan.request.mutable_spec();
  RETURN_IF_ERROR(CheckShape(spec, limits));
  ApplyJobDefaults(spec);
  std::vector<PlannedDataset> datasets;
  if (rows_per_shard <= 0) rows_per_shard = kDefaultRowsPerShard;
  for (SuiteDataset& s : SuiteDatasets(spec)) {
    PlannedDataset& d = datasets.emplace_back();
    d.suite = std::move(s);
    d.rows_per_shard = static_cast<uint64_t>(rows_per_shard);
    for (const emar::v1::MetricSpec& m : d.suite.metrics) {
      ASSIGN_OR_RETURN(std::unique_ptr<Metric> metric, MakeMetricFromSpec(m));
      d.rows_per_shard = std::min(d.rows_per_shard, RowsPerShard(*metric, rows_per_shard));
      d.metrics.push_back(std::move(metric));
    }
  }
  std::vector<SuiteDataset> suite;
  for (const PlannedDataset& d : datasets) suite.push_back(d.suite);
  RETURN_IF_ERROR(CheckSettings(spec, suite));

  InputResolver inputs(plan.request, blobs, max_input_bytes);
  const std::vector<JobInput> job_inputs = ListJobInputs(spec);
  for (const JobInput& in : job_inputs) {
    if (in.path.size() > kMaxPathBytes) {
      return InvalidSpecField(
          in.field, absl::StrCat("path of ", in.path.size(), " bytes, limit ", kMaxPathBytes));
    }
  }
  std::vector<SplitOutput> outputs;
  std::vector<absl::Status> item_status;
  RETURN_IF_ERROR(
      ReadInputs(inputs, job_inputs, datasets, parsed_references, outputs, item_status));
  RETURN_IF_ERROR(CheckCost(spec, datasets, max_bootstrap_work));
  RETURN_IF_ERROR(MakeShards(spec, job_inputs, datasets, outputs, item_status, plan));
  RETURN_IF_ERROR(inputs.Publish());
  return plan;
}

}  // namespace

absl::StatusOr<JobPlan> PlanJob(const CreateJobRequest& request, BlobStore& blobs,
                                int64_t rows_per_shard, uint64_t max_input_bytes,
                                double max_bootstrap_work,
                                const ParsedReferencesSink& parsed_references,
                                const SuiteLimits& limits) {
  try {
    return PlanJobUnguarded(request, blobs, rows_per_shard, max_input_bytes, max_bootstrap_work,
                            parsed_references, limits);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        "out of memory while planning the job (inputs too large for this coordinator)");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("unexpected error while planning the job: ", e.what()));
  }
}

}  // namespace emar
