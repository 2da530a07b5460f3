// Puts a job's per-shard results back together: for each dataset, one statistics matrix per model
// in references-file order (row i of every model is the same item, which is what pairing and
// resampling need), with classification labels remapped from shard-local tables to one table per
// dataset. Checks the join: every reference row must be answered exactly once per model.
//
//   ResultAssembler a(spec, target_rows, benchmark_rows, lookup);
//   for (...) RETURN_IF_ERROR(a.Add(task, result));
//   ASSIGN_OR_RETURN(AssembledResults r, std::move(a).Finish());
#ifndef EMAR_SERVER_RESULT_ASSEMBLER_H_
#define EMAR_SERVER_RESULT_ASSEMBLER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "emar/v1/service.pb.h"
#include "eval/metrics/metric.h"

namespace emar {

struct DatasetResults {
  const emar::v1::DatasetSpec* spec = nullptr;  // points into the job spec given to the assembler
  std::unique_ptr<Metric> metric;
  size_t n = 0;
  LabelTable labels;
  // systems[0] is the base model, systems[k] candidate k-1; each n * stats_width values.
  std::vector<std::vector<double>> systems;
};

struct AssembledResults {
  DatasetResults target;
  DatasetResults benchmark;
};

// The id and 1-based line of a reference row, for error messages only: the happy path never
// needs the references' texts or ids, so the coordinator parses them only when an error is found.
using ReferenceLookup = std::function<absl::StatusOr<std::pair<std::string, uint64_t>>(
    emar::v1::DatasetRole role, size_t row)>;

class ResultAssembler {
 public:
  // `spec` must outlive the assembler; `*_rows` are the references files' row counts.
  ResultAssembler(const emar::v1::JobSpec& spec, size_t target_rows, size_t benchmark_rows,
                  ReferenceLookup lookup);

  // Adds one shard's rows. INVALID_ARGUMENT for a malformed result or an id answered twice by
  // the same model (naming both lines).
  absl::Status Add(const emar::v1::ShardTask& task, const emar::v1::ShardResult& result);
  // INVALID_ARGUMENT naming the first reference id a model left unanswered.
  absl::StatusOr<AssembledResults> Finish() &&;

 private:
  struct Coverage {
    std::string display_name;
    std::vector<uint64_t> line;  // outputs line per reference row; 0 = unanswered
  };
  absl::Status Init();
  DatasetResults& dataset(emar::v1::DatasetRole role);
  // "id 'r17' (data/target.jsonl:17)", or "reference row 16" when the lookup fails.
  std::string Describe(emar::v1::DatasetRole role, size_t row, bool with_location) const;
  int ModelIndex(const std::string& model) const;

  const emar::v1::JobSpec& spec_;
  const size_t target_rows_;
  const size_t benchmark_rows_;
  const ReferenceLookup lookup_;
  AssembledResults out_;
  absl::Status init_status_;
  // (role, model index) -> coverage
  absl::flat_hash_map<int, Coverage> coverage_;
};

}  // namespace emar

#endif  // EMAR_SERVER_RESULT_ASSEMBLER_H_
