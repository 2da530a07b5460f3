#include "server/job_planner.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/formula/emar_formula.h"
#include "eval/input/decompress.h"
#include "eval/input/reference_table.h"
#include "eval/input/shard_splitter.h"
#include "eval/job/field_names.h"
#include "eval/job/job_defaults.h"
#include "eval/job/job_inputs.h"
#include "eval/metrics/metric.h"
#include "eval/metrics/metric_registry.h"

namespace emar {
namespace {

using emar::v1::CreateJobRequest;
using emar::v1::DatasetSpec;
using emar::v1::ModelSpec;

absl::Status Invalid(const std::string& field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("job spec field '", field, "': ", what));
}

// Resolves a spec path to its uploaded, decompressed blob. Holds no file contents itself: the
// planner keeps one input in memory at a time (two while the references are checked).
class InputResolver {
 public:
  InputResolver(const CreateJobRequest& request, BlobStore& blobs)
      : request_(request), blobs_(blobs) {}

  // The digest of the (decompressed) content and its bytes. Thread-compatible per call: two
  // threads may Load different paths at once.
  absl::StatusOr<std::pair<std::string, std::string>> Load(const std::string& field,
                                                           const std::string& path) const {
    if (path.empty()) return Invalid(field, "missing (a path to a JSONL file)");
    auto it = request_.input_digests().find(path);
    if (it == request_.input_digests().end()) {
      return Invalid(field, absl::StrCat("input '", path,
                                         "' has no digest in input_digests (was it uploaded?)"));
    }
    const std::string& sha = it->second;
    if (!blobs_.Has(sha)) {
      return absl::FailedPreconditionError(absl::StrCat("job spec field '", field, "': blob ", sha,
                                                        " for '", path, "' was not uploaded"));
    }
    ASSIGN_OR_RETURN(std::string data, blobs_.Read(sha, 0, -1));
    if (DetectCompression(data) == Compression::kNone) {
      return std::make_pair(sha, std::move(data));  // verified at upload: no second hash
    }
    ASSIGN_OR_RETURN(data, DecompressIfCompressed(path, std::move(data)));
    ASSIGN_OR_RETURN(std::string digest, blobs_.Put(data));
    return std::make_pair(std::move(digest), std::move(data));
  }

 private:
  const CreateJobRequest& request_;
  BlobStore& blobs_;
};

// A shard's result travels in one gRPC message (64 MiB): about 9 bytes a statistic plus ~16 for
// the row's reference row and line. Cap the rows so a wide metric (chrF: 18 columns) with a
// large --rows-per-shard still fits, with room to spare.
uint64_t RowsPerShard(const DatasetSpec& d, int64_t requested) {
  constexpr uint64_t kMaxResultBytes = uint64_t{48} << 20;
  auto metric = MakeMetric(d.metric());  // validated by CheckDataset
  const uint64_t width = metric.ok() ? (*metric)->stats_width() : 1;
  return std::min<uint64_t>(static_cast<uint64_t>(requested), kMaxResultBytes / (9 * width + 16));
}

absl::Status CheckDataset(const DatasetSpec& d, const std::string& field) {
  if (d.name().empty()) return Invalid(field + ".name", "missing");
  if (d.metric().empty()) return Invalid(field + ".metric", "missing");
  auto metric = MakeMetric(d.metric());
  if (!metric.ok()) return Invalid(field + ".metric", metric.status().message());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JobPlan> PlanJob(const CreateJobRequest& original, BlobStore& blobs,
                                int64_t rows_per_shard) {
  JobPlan plan;
  plan.request = original;
  emar::v1::JobSpec& spec = *plan.request.mutable_spec();
  if (spec.name().empty()) return Invalid("name", "missing");
  RETURN_IF_ERROR(CheckDataset(spec.target(), "target"));
  RETURN_IF_ERROR(CheckDataset(spec.benchmark(), "benchmark"));
  ApplyJobDefaults(spec);

  auto formula = EmarFormula::Parse(spec.formula());
  if (!formula.ok()) return Invalid("formula", formula.status().message());
  if (formula->is_preset()) {
    for (const DatasetSpec* d : {&spec.target(), &spec.benchmark()}) {
      auto metric = MakeMetric(d->metric());
      if ((*metric)->direction() == Direction::kLowerIsBetter) {
        return Invalid("formula",
                       absl::StrCat("preset '", formula->name(),
                                    "' assumes higher-is-better scores but metric '", d->metric(),
                                    "' of dataset '", d->name(),
                                    "' is lower-is-better; write an explicit expression instead"));
      }
    }
  }
  const emar::v1::BootstrapSpec* bs = &spec.bootstrap();
  if (bs->resamples() < 0 || bs->resamples() > 100000)
    return Invalid("bootstrap.resamples", "must be in 1..100000");
  if (!(bs->confidence() > 0 && bs->confidence() < 1))
    return Invalid("bootstrap.confidence", "must be in (0, 1)");
  if (bs->test() != kPairedBootstrapTest && bs->test() != kApproximateRandomizationTest) {
    return Invalid("bootstrap.test",
                   absl::StrCat("'", bs->test(), "' is not ", kPairedBootstrapTest, " or ",
                                kApproximateRandomizationTest));
  }
  if (bs->ar_trials() < 0 || bs->ar_trials() > 1000000)
    return Invalid("bootstrap.ar_trials", "must be in 1..1000000");
  const emar::v1::GateSpec& g = spec.gates();
  for (auto [name, present, v] :
       {std::tuple{"gates.min_emar", g.has_min_emar(), g.min_emar()},
        std::tuple{"gates.max_benchmark_regression", g.has_max_benchmark_regression(),
                   g.max_benchmark_regression()},
        std::tuple{"gates.min_target_gain", g.has_min_target_gain(), g.min_target_gain()}}) {
    if (present && !std::isfinite(v)) return Invalid(name, "must be a finite number");
  }

  if (spec.base().name().empty()) return Invalid("base.name", "missing");
  if (spec.candidates().empty()) return Invalid("candidates", "at least one candidate is required");
  std::set<std::string> names = {spec.base().name()};
  for (int i = 0; i < spec.candidates_size(); ++i) {
    const std::string& n = spec.candidates(i).name();
    if (n.empty()) return Invalid(absl::StrCat("candidates[", i, "].name"), "missing");
    if (!names.insert(n).second) {
      return Invalid(absl::StrCat("candidates[", i, "].name"),
                     absl::StrCat("model name '", n, "' is used twice"));
    }
  }
  if (rows_per_shard <= 0) rows_per_shard = kDefaultRowsPerShard;

  InputResolver inputs(plan.request, blobs);
  const std::vector<JobInput> job_inputs = ListJobInputs(spec);
  struct Dataset {
    const DatasetSpec* spec;
    std::string refs_digest;
    size_t rows = 0;
  };
  // Indexed by the references' position in job_inputs: 0 target, 1 benchmark.
  Dataset datasets[2] = {{&spec.target(), "", 0}, {&spec.benchmark(), "", 0}};
  auto dataset_of = [&](const JobInput& in) -> Dataset& {
    return datasets[in.dataset == emar::v1::DATASET_ROLE_TARGET ? 0 : 1];
  };
  // The references are validated now, so a bad file is an INVALID_ARGUMENT from CreateJob rather
  // than a failed job later; both files are checked at once, on two threads.
  absl::Status role_status[2];
  auto check_references = [&](int i) {
    const JobInput& in = job_inputs[i];
    Dataset& d = dataset_of(in);
    role_status[i] = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(auto loaded, inputs.Load(in.field, in.path));
      ASSIGN_OR_RETURN(
          ReferenceTable table,
          ReferenceTable::Parse(in.path, loaded.second, ToFieldConfig(d.spec->fields())));
      d.refs_digest = loaded.first;
      d.rows = table.size();
      return absl::OkStatus();
    }();
  };
  std::thread benchmark_check(check_references, 1);
  check_references(0);
  benchmark_check.join();
  RETURN_IF_ERROR(role_status[0]);
  RETURN_IF_ERROR(role_status[1]);

  int32_t shard_id = 0;
  const std::vector<const ModelSpec*> models = ModelsInOrder(spec);
  for (const JobInput& in : job_inputs) {
    if (in.is_references()) continue;
    const Dataset& d = dataset_of(in);
    ASSIGN_OR_RETURN(auto loaded, inputs.Load(in.field, in.path));
    std::vector<LineRange> ranges =
        SplitIntoShards(loaded.second, RowsPerShard(*d.spec, rows_per_shard));
    if (ranges.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(in.path, ": empty file (no JSON lines)"));
    }
    for (const LineRange& range : ranges) {
      StoredShard s;
      emar::v1::ShardTask& t = s.task;
      t.set_shard_id(shard_id++);
      t.set_role(in.dataset);
      t.set_model(models[in.model_index]->name());
      t.set_metric(d.spec->metric());
      *t.mutable_fields() = d.spec->fields();
      t.mutable_outputs()->set_sha256(loaded.first);
      t.mutable_outputs()->set_display_name(in.path);
      t.mutable_outputs()->set_offset(static_cast<int64_t>(range.offset));
      t.mutable_outputs()->set_length(static_cast<int64_t>(range.length));
      t.set_first_line(static_cast<int64_t>(range.first_line));
      t.mutable_references()->set_sha256(d.refs_digest);
      t.mutable_references()->set_display_name(d.spec->references());
      t.mutable_references()->set_offset(0);
      t.mutable_references()->set_length(-1);
      t.set_reference_rows(static_cast<int64_t>(d.rows));
      s.rows = static_cast<int64_t>(range.rows);
      plan.shards.push_back(std::move(s));
    }
  }
  return plan;
}

}  // namespace emar
