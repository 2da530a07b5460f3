// Groups the samples of one model's outputs on one dataset by item (k predictions per reference
// id) and turns each item's samples into one statistics row, so that the bootstrap resamples
// items (a cluster bootstrap) and base and candidate stay paired by item.
//
//   SampleGrouper grouper(references, "out/base.code.jsonl", metric.stats_width());
//   RETURN_IF_ERROR(grouper.AddShard(shard_bytes, first_line, config, "sample", metric));
//   ... more shards of the same file, in any order ...
//   ASSIGN_OR_RETURN(SampleGroups groups, std::move(grouper).Finish());
//   ASSIGN_OR_RETURN(std::vector<double> rows, ItemRows(groups, metric));  // n items x width
//   // score the rows with SampleMeanMetric (eval/metrics/sample_mean_metric.h), or with the
//   // PassAtKMetric itself, through ValidRows and the bootstrap as for any dataset
//
// Every item must have the same number of samples k (k may differ between models): an item
// with another count, an item with none, a sample index given twice for an id, or an id not in
// the references is INVALID_ARGUMENT naming the id, the outputs file and the line. The sample
// indices themselves need not be 0..k-1; only their distinctness per item is checked.
//
// Not thread-safe; the ReferenceTable must outlive the grouper. The coordinator, which has no
// references table, builds a grouper from an ItemNamer and Adds the workers' sample rows.
#ifndef EMAR_EVAL_INPUT_SAMPLE_GROUPS_H_
#define EMAR_EVAL_INPUT_SAMPLE_GROUPS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eval/input/field_config.h"
#include "eval/input/reference_table.h"
#include "eval/metrics/metric.h"

namespace emar {

// One model's samples on one dataset, summed per item in reference-row order.
struct SampleGroups {
  std::string outputs_name;           // how errors name the outputs file
  size_t width = 0;                   // the sample metric's stats_width
  int64_t samples_per_item = 0;       // k
  std::vector<double> sums;           // items x width: the sum of the item's sample rows
  std::vector<uint64_t> first_lines;  // per item: the 1-based line of its first sample
  size_t items() const { return width == 0 ? 0 : sums.size() / width; }
};

class SampleGrouper {
 public:
  // An item's id and its 1-based references line, for error messages.
  using ItemNamer = std::function<std::pair<std::string, uint64_t>(uint32_t item)>;

  // `outputs_name` is how errors name the outputs file.
  SampleGrouper(const ReferenceTable& references, std::string outputs_name, size_t width);
  // Without the references' texts (the coordinator puts workers' sample rows together): `items`
  // reference rows, named in errors by `namer`. AddShard is then FAILED_PRECONDITION.
  SampleGrouper(size_t items, ItemNamer namer, std::string outputs_name, size_t width);

  // One sample of reference row `item`. INVALID_ARGUMENT for a (item, sample) seen before,
  // naming both lines; `row` must hold `width` values.
  absl::Status Add(uint32_t item, uint64_t sample, uint64_t line, absl::Span<const double> row);

  // Reads one shard of the outputs (SampleReader), joins each sample to the references by id
  // and scores it with `metric` (which must not use labels), then Adds it. Errors name the file,
  // line and field.
  absl::Status AddShard(absl::string_view data, uint64_t first_line, const FieldConfig& config,
                        absl::string_view sample_field, const Metric& metric);

  // Checks that every item has the same count k (the most common count; ties go to the count
  // of the earliest item) and returns the sums.
  absl::StatusOr<SampleGroups> Finish() &&;

 private:
  std::string ItemLines(uint32_t item) const;

  const ReferenceTable* references_;  // null when built from an ItemNamer
  ItemNamer namer_;
  std::string outputs_name_;
  size_t width_;
  std::vector<double> sums_;
  std::vector<uint32_t> counts_;
  std::vector<uint64_t> first_line_;
  absl::flat_hash_map<std::pair<uint32_t, uint64_t>, uint64_t> seen_;  // (item, sample) -> line
};

// Each item's row: the mean of its samples' rows (sums / k), or, for a PassAtKMetric, its
// pass@k from (k samples, the sum of their 0/1 rows). INVALID_ARGUMENT from PassAtKMetric when
// k exceeds the samples per item.
absl::StatusOr<std::vector<double>> ItemRows(const SampleGroups& groups,
                                             const Metric& sample_metric);

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_SAMPLE_GROUPS_H_
