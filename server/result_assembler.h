// Puts a job's per-shard results back together: for each dataset and metric, one statistics
// matrix per model in references-file order (row i of every model is the same item, which is
// what pairing and resampling need), with classification labels remapped from shard-local tables
// to one table per dataset and metric. Checks the join: every reference row must be answered
// exactly once per model and metric. A dataset with several samples per item gets one row per
// item, from its samples (eval/input/sample_groups.h): every item needs the same number of
// distinct samples per model, so the bootstrap resamples items.
//
//   ResultAssembler a(spec, {target_rows, benchmark_rows}, lookup);   // rows per dataset
//   for (...) RETURN_IF_ERROR(a.Add(task, result));
//   ASSIGN_OR_RETURN(AssembledResults r, std::move(a).Finish());
#ifndef EMAR_SERVER_RESULT_ASSEMBLER_H_
#define EMAR_SERVER_RESULT_ASSEMBLER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "emar/v1/service.pb.h"
#include "eval/input/sample_groups.h"
#include "eval/input/slice_reader.h"
#include "eval/metrics/metric.h"

namespace emar {

struct DatasetResults {
  const emar::v1::DatasetSpec* spec = nullptr;  // points into the job spec given to the assembler
  int dataset = 0;                              // index in suite order (SuiteDatasets)
  int metric_index = 0;                         // in the dataset's metrics; 0 is the primary
  emar::v1::MetricSpec metric_spec;
  std::unique_ptr<Metric> metric;
  size_t n = 0;
  LabelTable labels;
  ReferenceCounts nrefs;  // over every model's results: sacrebleu's nrefs for the signature
  // systems[0] is the base model, systems[k] candidate k-1; each n * stats_width values.
  std::vector<std::vector<double>> systems;
  // lines[s][i]: the 1-based outputs line system s answered reference row i with (flips list
  // the predictions of those lines); with several samples per item, the item's first sample's.
  // 32 bits: an outputs file of 4G lines is far beyond the input limit (a line beyond is an
  // error when its result is added).
  std::vector<std::vector<uint32_t>> lines;
  // Several samples per item (the dataset names a sample field): each system's samples per item
  // k, and the per-sample metric when `metric` wraps it to score item rows (each row the mean of
  // the item's samples, or its pass@k). Empty / null for one output per item.
  std::vector<int64_t> samples_per_item;
  std::unique_ptr<Metric> sample_metric;
};

struct AssembledResults {
  // Every (dataset, metric) in suite order, the metrics of a dataset in spec order.
  std::vector<DatasetResults> results;
  // Datasets with `fields.slice_field`, by index: each row's slice (filled by AssembleStoredJob).
  std::map<int, SliceColumn> slices;
  // The entry of dataset `dataset`'s metric `metric_index`.
  const DatasetResults& at(int dataset, int metric_index = 0) const;
};

// The id and 1-based line of a reference row of dataset `dataset` (suite order), for error
// messages only: the happy path never needs the references' texts or ids, so the coordinator
// parses them only when an error is found.
using ReferenceLookup =
    std::function<absl::StatusOr<std::pair<std::string, uint64_t>>(int dataset, size_t row)>;

class ResultAssembler {
 public:
  // `spec` must outlive the assembler; `rows[k]` is dataset k's references row count.
  ResultAssembler(const emar::v1::JobSpec& spec, std::vector<size_t> rows, ReferenceLookup lookup);

  // Adds one shard's rows. INVALID_ARGUMENT for a malformed result or an id answered twice by
  // the same model (naming both lines).
  absl::Status Add(const emar::v1::ShardTask& task, const emar::v1::ShardResult& result);
  // INVALID_ARGUMENT naming the first reference id a model left unanswered.
  absl::StatusOr<AssembledResults> Finish() &&;

 private:
  struct Coverage {
    std::string display_name;
    std::vector<uint32_t> line;  // outputs line per reference row; 0 = unanswered
  };
  absl::Status Init();
  // Which result and model a shard's result goes to: its (dataset, metric) index in
  // out_.results and its model index (0 base, k candidate k-1).
  struct ShardSlot {
    size_t index;
    int model;
  };
  // INTERNAL for a task naming an unknown role, model or (dataset, metric); INVALID_ARGUMENT
  // for a result whose row, line and statistics counts disagree with each other or the metric.
  absl::StatusOr<ShardSlot> CheckShard(const emar::v1::ShardTask& task,
                                       const emar::v1::ShardResult& result) const;
  // Interns the result's shard-local labels into `d`'s label table: remap[shard label id] is the
  // dataset's label id (empty for a metric without labels).
  static absl::StatusOr<std::vector<double>> InternLabels(const emar::v1::ShardResult& result,
                                                          DatasetResults& d);
  // Checks each row (reference row in range, line set, not answered before) and writes its
  // statistics into `dest`, remapping label ids; on an error unmarks the rows it marked.
  absl::Status AddRows(const emar::v1::ShardTask& task, const emar::v1::ShardResult& result,
                       const std::vector<double>& remap, const DatasetResults& d, Coverage& cov,
                       std::vector<double>& dest) const;
  // The index into out_.results of the task's (dataset, metric); INTERNAL when it names none.
  absl::StatusOr<size_t> ResultIndex(const emar::v1::ShardTask& task) const;
  // "id 'r17' (data/target.jsonl:17)", or "reference row 16" when the lookup fails.
  std::string Describe(int dataset, size_t row, bool with_location) const;
  int ModelIndex(const std::string& model) const;
  // The id and references line of a row, or "reference row N" and 0 when the lookup fails.
  std::pair<std::string, uint64_t> ItemName(int dataset, size_t row) const;
  // A shard of a dataset with several samples per item: its rows go to the item's grouper.
  absl::Status AddSamples(const emar::v1::ShardTask& task, const emar::v1::ShardResult& result,
                          SampleGrouper& grouper, size_t n);
  // Turns result `index`'s groupers into item rows and sets its samples per item and metric.
  absl::Status FinishSamples(size_t index);

  const emar::v1::JobSpec& spec_;
  const std::vector<size_t> rows_;
  const ReferenceLookup lookup_;
  AssembledResults out_;
  absl::Status init_status_;
  // coverage_[result index * models + model index]
  std::vector<Coverage> coverage_;
  // The same index; set for datasets with several samples per item (they use no coverage).
  std::vector<std::unique_ptr<SampleGrouper>> groupers_;
};

}  // namespace emar

#endif  // EMAR_SERVER_RESULT_ASSEMBLER_H_
