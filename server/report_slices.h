// Slices in the report: for every (dataset, metric) whose dataset has `fields.slice_field`, each
// slice's base and candidate scores and delta with intervals (eval/stats/slice_bootstrap.h: all
// slices of a dataset, and all its metrics, share one set of whole-dataset resamples), sorted by
// delta with the worst first; and the gate `max_slice_regression` on the worst gated slice.
//
//   ASSIGN_OR_RETURN(ReportSlices slices, ReportSlices::Compute(results, rows, options));
//   slices.Fill(i, sys, &comparison);         // per (dataset, metric) entry i and candidate
//   AddSliceGates(spec, &candidate_report);   // after the candidate's datasets are filled
#ifndef EMAR_SERVER_REPORT_SLICES_H_
#define EMAR_SERVER_REPORT_SLICES_H_

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "emar/v1/report.pb.h"
#include "eval/stats/slice_bootstrap.h"
#include "server/result_assembler.h"

namespace emar {

// Default of GateSpec.min_slice_items: smaller slices are listed but not gated.
inline constexpr int kDefaultMinSliceItems = 30;

class ReportSlices {
 public:
  // `rows[i]` holds the validated rows of results.results[i].
  static absl::StatusOr<ReportSlices> Compute(const AssembledResults& results,
                                              const std::vector<const ValidRows*>& rows,
                                              const BootstrapOptions& options, int min_slice_items);
  // Adds the slices of results.results[i] for candidate system `sys` (1..K) to `out`, if any.
  void Fill(size_t i, size_t sys, emar::v1::DatasetComparison* out) const;

 private:
  struct Entry {
    const SliceColumn* column = nullptr;
    std::vector<SliceStats> stats;
    bool lower_is_better = false;
  };
  std::vector<std::optional<Entry>> entries_;
  int min_items_ = kDefaultMinSliceItems;
};

// The gate max_slice_regression (job-level, or a dataset's own): on each primary (dataset,
// metric) entry with slices, the worst gated slice's delta bound (ci_low; ci_high for a
// lower-is-better metric) must not regress by more than the threshold. Sets gates_passed false
// on a failure.
void AddSliceGates(const emar::v1::JobSpec& spec, emar::v1::CandidateReport* c);

}  // namespace emar

#endif  // EMAR_SERVER_REPORT_SLICES_H_
