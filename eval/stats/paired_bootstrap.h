// The statistics of one EMAR study: base (system 0) and candidates (1..K) scored on a target and
// a benchmark dataset; for each candidate, point values and percentile intervals of T0 T1 B0 B1,
// dT = T1 - T0, dB = B1 - B0 and EMAR, p-values for dT and dB, and pairwise EMAR comparisons
// between candidates with Holm-Bonferroni correction (docs/statistics.md).
//
//   EmarFn relative_gain = [](double t0, double t1, double, double) -> std::optional<double> {
//     if (std::fabs(t0) < 1e-12) return std::nullopt;
//     return (t1 - t0) / t0;
//   };
//   ASSIGN_OR_RETURN(StudyStats study,
//                    RunPairedBootstrap(target_rows, benchmark_rows, relative_gain, {}));
//   for (int c : study.leaderboard) { const CandidateStats& s = study.candidates[c - 1]; ... }
//
// Resampling: target resamples come from stream 0 and benchmark resamples from stream 1 of
// options.seed (BootstrapResampler); resample r of the study pairs target resample r with
// benchmark resample r, and every candidate sees the same resamples (paired and stratified).
// EMAR is recomputed on each resample from the resampled scores. A resample where a quantity
// is undefined (a score undefined, or the EmarFn returns nullopt) is counted in
// Interval::undefined_resamples, never silently dropped.
//
// Interval rule (significance.h PercentileInterval): over the B' defined resample values,
// k = floor(B' (1 - c) / 2), low = s[k], high = s[B' - 1 - k] (sacrebleu's s[B//40],
// s[B-B//40-1] at c = 0.95). If more than floor(B (1 - c)) of the B resamples are undefined,
// no interval can honestly claim confidence c, and low/high are nullopt.
//
// p-values (two-sided): for is_binary() metrics McNemar's exact test; otherwise sacrebleu's
// paired bootstrap on the same resamples (default) or paired approximate randomization with
// options.ar_trials trials (streams 2 and 3). Pairwise EMAR: paired bootstrap rule on
// EMAR_a - EMAR_b over resamples where both are defined.
//
// Same inputs and options give bit-identical StudyStats whatever num_threads and machine.
#ifndef EMAR_EVAL_STATS_PAIRED_BOOTSTRAP_H_
#define EMAR_EVAL_STATS_PAIRED_BOOTSTRAP_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/stats/bootstrap_resampler.h"
#include "eval/stats/dataset_rows.h"

namespace emar {

// EMAR from the four scores; nullopt when undefined (the formula engine lives in eval/formula).
// Must be thread-compatible (it is called from one thread, many times).
using EmarFn = std::function<std::optional<double>(double t0, double t1, double b0, double b1)>;

enum class SignificanceTest { kPairedBootstrap, kApproximateRandomization };

struct BootstrapOptions {
  int64_t resamples = 1000;
  double confidence = 0.95;
  uint64_t seed = 12345;
  // For metrics that are not is_binary() (those always get McNemar's exact test).
  SignificanceTest test = SignificanceTest::kPairedBootstrap;
  int64_t ar_trials = 10000;
  // <= 0: min(hardware threads, 8). Never changes the result.
  int num_threads = 0;
  ResamplingMethod method = ResamplingMethod::kAuto;
};

struct Interval {
  std::optional<double> low, high;
  std::optional<double> resample_mean;  // mean of the defined resample values
  std::optional<double> std_error;      // their standard deviation (divisor B' - 1)
  int64_t defined_resamples = 0;
  int64_t undefined_resamples = 0;
};

// A point value on the full data (nullopt when undefined) and its bootstrap interval.
struct Estimate {
  std::optional<double> value;
  Interval ci;
};

struct PValue {
  std::optional<double> p;
  std::string test;    // "paired_bootstrap" | "paired_approximate_randomization" | "mcnemar_exact"
  int64_t trials = 0;  // resamples / AR trials used; b + c for McNemar
  int64_t undefined_trials = 0;  // dropped because a score was undefined
};

struct CandidateStats {
  int system = 0;  // 1..K
  Estimate t0, t1, b0, b1, dt, db, emar;
  PValue dt_p, db_p;
};

struct PairwiseEmar {
  int a = 0, b = 0;              // candidate systems, a < b
  Estimate diff;                 // EMAR_a - EMAR_b
  PValue p;                      // paired bootstrap, two-sided
  std::optional<double> p_holm;  // Holm-Bonferroni over all pairs with a defined p
};

struct StudyStats {
  std::vector<CandidateStats> candidates;  // candidates[c - 1] is system c
  std::vector<PairwiseEmar> pairwise;      // every pair a < b, in (a, b) order
  std::vector<int> leaderboard;            // systems by EMAR, best first (LeaderboardOrder)
  int64_t resamples = 0;
  double confidence = 0;
  uint64_t seed = 0;
  ResamplingMethod target_method = ResamplingMethod::kAuto;
  ResamplingMethod benchmark_method = ResamplingMethod::kAuto;
};

// Checks that both datasets have the same number of systems (>= 2) and the options
// (1 <= resamples <= 1e7, 0 < confidence < 1, ar_trials >= 1), resamples and summarizes.
absl::StatusOr<StudyStats> RunPairedBootstrap(const ValidRows& target, const ValidRows& benchmark,
                                              const EmarFn& emar, const BootstrapOptions& options);

// The part of RunPairedBootstrap after resampling, for given per-resample scores (e.g. from
// ScoresFromIndices). Every p-value is the paired bootstrap one; RunPairedBootstrap then
// replaces dT/dB p-values by McNemar or AR where options say so. INVALID_ARGUMENT when the two
// score sets differ in systems or resamples.
absl::StatusOr<StudyStats> SummarizeStudy(const ResampledScores& target,
                                          const ResampledScores& benchmark, const EmarFn& emar,
                                          double confidence);

// SummarizeStudy with EMAR given per (candidate system c, resample r) by `emar_at`, r = -1 for the
// point value on the full data: suites compute EMAR from more than the four aggregates (see
// suite_bootstrap.h). A non-finite value counts as undefined.
using EmarAt = std::function<std::optional<double>(size_t c, int64_t r)>;
absl::StatusOr<StudyStats> SummarizeStudyWith(const ResampledScores& target,
                                              const ResampledScores& benchmark,
                                              const EmarAt& emar_at, double confidence);

// INVALID_ARGUMENT unless 1 <= resamples <= 1e7, 0 < confidence < 1 and ar_trials >= 1.
absl::Status ValidateBootstrapOptions(const BootstrapOptions& options);

// Paired bootstrap p-value of a signed difference whose resampled values are `diffs`
// (undefined resamples are dropped and counted).
PValue BootstrapPValue(const std::optional<double>& observed,
                       absl::Span<const std::optional<double>> diffs);

// The p-value of candidate system c's delta on `valid` by the test the options and the metric
// call for: McNemar's exact test for 0/1 metrics, approximate randomization (on `ar_stream`)
// when asked, else `bootstrap_p`.
absl::StatusOr<PValue> DeltaPValue(const ValidRows& valid, int c, const BootstrapOptions& options,
                                   uint64_t ar_stream, PValue bootstrap_p);

// Interval of the given resample values (nullopt = undefined resample), rule as above.
Interval IntervalOf(absl::Span<const std::optional<double>> values, double confidence);

// Order of systems by EMAR point value, highest first; undefined last; ties keep the lower
// system first. `emar[i]` is system first_system + i. Returns system numbers.
std::vector<int> LeaderboardOrder(absl::Span<const std::optional<double>> emar,
                                  int first_system = 1);

}  // namespace emar

#endif  // EMAR_EVAL_STATS_PAIRED_BOOTSTRAP_H_
