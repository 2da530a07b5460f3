// One dataset's per-example statistics for every system of a study, as the bootstrap consumes
// them: system 0 is the base model, systems 1..K the candidates, and row i of every system is
// the same example (the caller has joined and aligned them by id).
//
//   std::vector<double> base_rows = ..., cand_rows = ...;   // n * metric.stats_width() each
//   ASSIGN_OR_RETURN(ValidRows target, ValidRows::Validate({&metric, /*num_labels=*/0, n,
//                                                            {base_rows, cand_rows}}, "target"));
//   std::vector<MetricValue> scores = CorpusScores(target);
//
// Rows are checked once, by ValidRows::Validate; every statistics entry point (CorpusScores,
// BootstrapResampler, the paired tests, RunPairedBootstrap) takes a ValidRows and trusts it.
// Neither type owns anything: the metric and the row buffers must outlive every call that is
// given them (BootstrapResampler copies what it needs at Create()).
#ifndef EMAR_EVAL_STATS_DATASET_ROWS_H_
#define EMAR_EVAL_STATS_DATASET_ROWS_H_

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eval/metrics/metric.h"

namespace emar {

struct DatasetRows {
  const Metric* metric = nullptr;
  // Size of the dataset's LabelTable, for metrics with uses_labels(); ignored otherwise.
  size_t num_labels = 0;
  // Number of examples (rows per system).
  size_t n = 0;
  // systems[s] holds n * metric->stats_width() doubles, row-major.
  std::vector<absl::Span<const double>> systems;
};

// DatasetRows that passed the checks below. The only way to make one is Validate(), and it is
// read-only afterwards, so a function taking a ValidRows never checks again.
class ValidRows {
 public:
  // INVALID_ARGUMENT (message prefixed with `what`, e.g. "target") unless: metric set; n >= 1
  // and n < 2^32; at least one system; every span holds n * stats_width() values; for
  // is_binary() metrics every value is 0 or 1; for uses_labels() metrics every value is an
  // integer label id in [0, num_labels). The last two protect the resamplers, which rely on them.
  static absl::StatusOr<ValidRows> Validate(DatasetRows rows, absl::string_view what);

  const DatasetRows& rows() const { return rows_; }
  const Metric& metric() const { return *rows_.metric; }
  size_t n() const { return rows_.n; }
  size_t num_systems() const { return rows_.systems.size(); }

 private:
  explicit ValidRows(DatasetRows rows) : rows_(std::move(rows)) {}
  DatasetRows rows_;
};

// The corpus score of every system on the full data (each row once, weight 1), in system order.
std::vector<MetricValue> CorpusScores(const ValidRows& rows);

// Finalize()s an accumulator; returns the value or nullopt when the metric says undefined, or
// when the value is not finite (a metric bug we refuse to propagate as inf/NaN).
std::optional<double> FinalizeScore(const Metric& metric, absl::Span<const double> acc,
                                    size_t num_labels, double n);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_DATASET_ROWS_H_
