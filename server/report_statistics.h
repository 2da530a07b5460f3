// What the report adds to every comparison beyond scores, deltas and their intervals: the
// samples per item (several samples per item: a cluster bootstrap over items), the delta's
// minimum detectable effect (MDE) at the job's power and alpha = 1 - confidence, and for 0/1
// datasets with few items the Wilson intervals (and Newcombe's paired interval of the delta) that
// gates on them use when more conservative than the bootstrap's. Called by BuildReport
// (server/report_builder.h); pure.
//
//   const ReportStatsSettings s = ReportStatsSettingsOf(spec);
//   AddComparisonStatistics(results, sys, delta_stats, s, dc);   // per (dataset, metric)
//   std::string source;
//   std::optional<double> bound = GateDeltaBound(*dc, /*upper=*/false, &source);
//   ... AddGate ... then MarkPower(*dc, gate)
//
// MDE (eval/stats/power.h): 0/1 metrics from McNemar's discordant proportion ψ = (b + c) / n of
// the run (Connor 1987); other metrics, and 0/1 runs where the two models never disagree, from
// the bootstrap standard error of the delta. A regression gate (max_benchmark_regression,
// max_suite_regression) whose margin is below the MDE is underpowered: the run could not have
// detected a regression of that size with the given power, so its pass means little.
#ifndef EMAR_SERVER_REPORT_STATISTICS_H_
#define EMAR_SERVER_REPORT_STATISTICS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "emar/v1/job.pb.h"
#include "emar/v1/report.pb.h"
#include "eval/stats/paired_bootstrap.h"
#include "server/result_assembler.h"

namespace emar {

struct ReportStatsSettings {
  double confidence = 0.95;
  double power = 0.8;
  int32_t small_dataset_items = 100;
};

// From the stored spec; defaults for settings a job stored before they existed left unset.
ReportStatsSettings ReportStatsSettingsOf(const emar::v1::JobSpec& spec);

// Samples per item, MDE and (small 0/1 datasets) Wilson and Newcombe intervals of dataset
// result `d` for candidate system `sys`, whose bootstrap delta is `delta`.
void AddComparisonStatistics(const DatasetResults& d, size_t sys, const emar::Estimate& delta,
                             const ReportStatsSettings& settings, emar::v1::DatasetComparison* dc);

// The MDE of an aggregate of several datasets, from the bootstrap standard error of its delta.
void AddAggregateStatistics(const emar::Estimate& delta, const ReportStatsSettings& settings,
                            emar::v1::DatasetComparison* dc);

// The delta bound a gate compares: the bootstrap's lower (upper when `upper`) bound, or on a
// small 0/1 dataset the more conservative of it and Newcombe's, in which case `source` is set
// to "wilson".
std::optional<double> GateDeltaBound(const emar::v1::DatasetComparison& d, bool upper,
                                     std::string* source);

// Records the delta's MDE on a regression gate and marks it underpowered when its threshold is
// below the MDE.
void MarkPower(const emar::v1::DatasetComparison& d, emar::v1::GateResult* gate);

}  // namespace emar

#endif  // EMAR_SERVER_REPORT_STATISTICS_H_
