#include "server/result_assembler.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/metrics/metric_registry.h"

namespace emar {
namespace {
int CoverageKey(emar::v1::DatasetRole role, int model) {
  return model * 4 + static_cast<int>(role);
}
}  // namespace

ResultAssembler::ResultAssembler(const emar::v1::JobSpec& spec, size_t target_rows,
                                 size_t benchmark_rows, ReferenceLookup lookup)
    : spec_(spec),
      target_rows_(target_rows),
      benchmark_rows_(benchmark_rows),
      lookup_(std::move(lookup)) {
  init_status_ = Init();
}

absl::Status ResultAssembler::Init() {
  const size_t models = 1 + spec_.candidates_size();
  for (auto role : {emar::v1::DATASET_ROLE_TARGET, emar::v1::DATASET_ROLE_BENCHMARK}) {
    DatasetResults& d = dataset(role);
    d.spec = role == emar::v1::DATASET_ROLE_TARGET ? &spec_.target() : &spec_.benchmark();
    ASSIGN_OR_RETURN(d.metric, MakeMetric(d.spec->metric()));
    d.n = role == emar::v1::DATASET_ROLE_TARGET ? target_rows_ : benchmark_rows_;
    d.systems.assign(models, std::vector<double>(d.n * d.metric->stats_width(), 0.0));
    for (size_t m = 0; m < models; ++m) {
      Coverage& c = coverage_[CoverageKey(role, static_cast<int>(m))];
      const emar::v1::ModelSpec& ms =
          m == 0 ? spec_.base() : spec_.candidates(static_cast<int>(m) - 1);
      c.display_name =
          role == emar::v1::DATASET_ROLE_TARGET ? ms.target_outputs() : ms.benchmark_outputs();
      c.line.assign(d.n, 0);
    }
  }
  return absl::OkStatus();
}

DatasetResults& ResultAssembler::dataset(emar::v1::DatasetRole role) {
  return role == emar::v1::DATASET_ROLE_TARGET ? out_.target : out_.benchmark;
}

std::string ResultAssembler::Describe(emar::v1::DatasetRole role, size_t row,
                                      bool with_location) const {
  absl::StatusOr<std::pair<std::string, uint64_t>> ref =
      lookup_ ? lookup_(role, row) : absl::UnavailableError("no lookup");
  if (!ref.ok()) return absl::StrCat("reference row ", row + 1);
  if (!with_location) return absl::StrCat("id '", ref->first, "'");
  const emar::v1::DatasetSpec& ds =
      role == emar::v1::DATASET_ROLE_TARGET ? spec_.target() : spec_.benchmark();
  return absl::StrCat("id '", ref->first, "' (", ds.references(), ":", ref->second, ")");
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
  DatasetResults& d = dataset(task.role());
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
  // Shard-local label ids -> dataset label ids.
  std::vector<double> remap;
  if (d.metric->uses_labels()) {
    for (const std::string& label : result.labels()) remap.push_back(d.labels.Intern(label));
    if (d.labels.size() > kMaxLabels) {
      return absl::InvalidArgumentError(
          absl::StrCat("dataset '", d.spec->name(), "': more than ", kMaxLabels,
                       " distinct labels across its outputs, more than metric '", d.metric->name(),
                       "' supports; for free-text answers use exact_match or token_f1"));
    }
  }
  Coverage& cov = coverage_[CoverageKey(task.role(), model)];
  std::vector<double>& dest = d.systems[static_cast<size_t>(model)];
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
    if (cov.line[ref_row] != 0) {
      return refuse(absl::InvalidArgumentError(absl::StrCat(
          cov.display_name, ":", line, ": duplicate ", Describe(task.role(), ref_row, false),
          " (first at line ", cov.line[ref_row], ")")));
    }
    cov.line[ref_row] = line;
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

absl::StatusOr<AssembledResults> ResultAssembler::Finish() && {
  RETURN_IF_ERROR(init_status_);
  const size_t models = 1 + spec_.candidates_size();
  for (auto role : {emar::v1::DATASET_ROLE_TARGET, emar::v1::DATASET_ROLE_BENCHMARK}) {
    for (size_t m = 0; m < models; ++m) {
      const Coverage& cov = coverage_[CoverageKey(role, static_cast<int>(m))];
      size_t missing = 0;
      size_t first = 0;
      for (size_t r = 0; r < cov.line.size(); ++r) {
        if (cov.line[r] == 0 && missing++ == 0) first = r;
      }
      if (missing > 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(cov.display_name, ": missing prediction for ", Describe(role, first, true),
                         missing > 1 ? absl::StrCat(" and ", missing - 1, " more ids") : ""));
      }
    }
  }
  return std::move(out_);
}

}  // namespace emar
