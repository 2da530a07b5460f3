// The statistics of a suite: base (system 0) and candidates (1..K) scored on several target and
// benchmark datasets, each with one or more metrics (the first is the dataset's primary).
//
//   std::vector<SuiteDatasetRows> datasets = {
//       {/*target=*/true, /*weight=*/1, {&tickets_accuracy, &tickets_macro_f1}},
//       {/*target=*/false, 1, {&mmlu_accuracy}}, {false, 2, {&gsm8k_exact_match}}};
//   ASSIGN_OR_RETURN(SuiteStats s, RunSuiteBootstrap(datasets, emar, options));
//   s.study.candidates[c - 1].emar          // EMAR on the aggregates, with its interval
//   s.datasets[1].metrics[0][c - 1].delta   // mmlu's accuracy delta of candidate c
//
// Aggregates: T (B) is the weighted mean of the target (benchmark) datasets' primary scores,
// on the full data and on every resample; it is undefined where any of them is.
//
// Resampling is stratified by dataset: one resample draws each dataset's rows independently
// (dataset k from stream SuiteResampleStream(k) of options.seed), and every system, aggregate,
// per-dataset score, delta and EMAR of resample r is computed from that same draw. The metrics
// of one dataset share its stream. A suite of one target and one benchmark is exactly
// RunPairedBootstrap: streams 0 and 1, the same p-value streams, the same bits.
//
// p-values: per (dataset, metric) and candidate, the test the metric calls for (McNemar's exact
// test for 0/1 metrics, else paired bootstrap or approximate randomization); for an aggregate of
// one dataset, that dataset's; for an aggregate of several, the paired bootstrap of the
// aggregate delta. p_holm: Holm's correction, per candidate, over the benchmark datasets'
// primary delta p-values.
#ifndef EMAR_EVAL_STATS_SUITE_BOOTSTRAP_H_
#define EMAR_EVAL_STATS_SUITE_BOOTSTRAP_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/stats/bootstrap_resampler.h"
#include "eval/stats/paired_bootstrap.h"

namespace emar {

// One dataset of a suite. The ValidRows must outlive RunSuiteBootstrap and have the same
// number of systems.
struct SuiteDatasetRows {
  bool target = false;                    // which side's aggregate it enters
  double weight = 1;                      // > 0
  std::vector<const ValidRows*> metrics;  // metrics[0] is the primary
};

// The scores EMAR may read on one resample (or the full data): the four aggregates and every
// dataset's primary score for the base and the candidate, indexed like the datasets.
struct SuiteScores {
  double t0 = 0, t1 = 0, b0 = 0, b1 = 0;
  absl::Span<const double> base;
  absl::Span<const double> candidate;
};
// EMAR from a resample's scores; nullopt when undefined. Called from one thread.
using SuiteEmarFn = std::function<std::optional<double>(const SuiteScores& scores)>;

// One (dataset, metric) compared for one candidate.
struct MetricComparison {
  Estimate base, candidate, delta;
  PValue p;
  std::optional<double> p_holm;  // benchmark primaries only
};

struct DatasetStats {
  // metrics[m][c - 1]: metric m of the dataset, candidate system c.
  std::vector<std::vector<MetricComparison>> metrics;
  std::vector<ResamplingMethod> methods;  // per metric
};

struct SuiteStats {
  StudyStats study;                    // the aggregates: T0 T1 B0 B1 dT dB EMAR, pairwise, ranks
  std::vector<DatasetStats> datasets;  // in the order given
};

// The resampling stream of dataset k: 0 and 1 for the first two (a suite of one keeps today's
// streams), then streams no test uses.
uint64_t SuiteResampleStream(size_t k);
// The approximate-randomization stream of candidate c, dataset k, metric m (distinct for every
// triple; 2 + 2 (c - 1) + k for the primaries of the first two datasets, as RunPairedBootstrap).
uint64_t SuiteTestStream(int c, size_t k, size_t m);

// INVALID_ARGUMENT for no target or no benchmark dataset, a dataset without metrics, a weight
// that is not positive and finite, differing numbers of systems (need >= 2), bad options.
absl::StatusOr<SuiteStats> RunSuiteBootstrap(const std::vector<SuiteDatasetRows>& datasets,
                                             const SuiteEmarFn& emar,
                                             const BootstrapOptions& options);

// The weighted mean of per-dataset scores, for each system on the full data and on each
// resample; undefined where any part is. One part is returned as it is (no arithmetic).
ResampledScores WeightedMean(absl::Span<const ResampledScores* const> parts,
                             absl::Span<const double> weights);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_SUITE_BOOTSTRAP_H_
