// Benchmarks of the EMAR study statistics: 1,000 paired resamples over 1M target +
// 1M benchmark examples, base + one candidate, for a 0/1 metric (joint-cell multinomial), a
// BLEU-like ratio of sums and a width-10 BLEU row (per-example draws) and macro-F1 (label
// cells). bench/stats/compare.sh runs this next to the numpy index-gather version.
//
//   build-stats/bench/stats_bench --benchmark_filter=Study
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "benchmark/benchmark.h"
#include "eval/metrics/classification_scorer.h"
#include "eval/stats/bootstrap_resampler.h"
#include "eval/stats/deterministic_rng.h"
#include "eval/stats/paired_bootstrap.h"
#include "tests/eval/stats/test_metrics.h"

namespace emar {
namespace {

using stats_test::BinaryMeanMetric;
using stats_test::MacroF1Metric;
using stats_test::RatioMetric;
using stats_test::TestBleuMetric;

constexpr size_t kN = 1'000'000;

std::optional<double> RelativeGain(double t0, double t1, double, double) {
  if (std::fabs(t0) < 1e-12) return std::nullopt;
  return (t1 - t0) / t0;
}

// One dataset: base and candidate rows for `kind`, generated once per process.
struct Dataset {
  std::vector<double> base, cand;
};

enum Kind { kBinary, kRatio, kBleu, kMacroF1 };

Dataset Make(Kind kind, size_t n, uint64_t seed) {
  DeterministicRng rng(seed);
  Dataset d;
  for (size_t i = 0; i < n; ++i) {
    switch (kind) {
      case kBinary:
        d.base.push_back(rng.UniformOpen01() < 0.70);
        d.cand.push_back(rng.UniformOpen01() < 0.78);
        break;
      case kRatio: {  // sentence-level (matches, total) like BLEU unigram counts
        const double total = 5 + static_cast<double>(rng.UniformBelow(40));
        d.base.insert(d.base.end(), {std::floor(total * rng.UniformOpen01()), total});
        d.cand.insert(d.cand.end(), {std::floor(total * rng.UniformOpen01()), total});
        break;
      }
      case kBleu: {  // 4 matches, 4 totals, hyp_len, ref_len
        for (std::vector<double>* rows : {&d.base, &d.cand}) {
          const double len = 5 + static_cast<double>(rng.UniformBelow(40));
          double m = std::floor(len * rng.UniformOpen01());
          for (int k = 0; k < 4; ++k) rows->push_back(std::max(0.0, m - k));
          for (int k = 0; k < 4; ++k) rows->push_back(len - k);
          rows->insert(rows->end(), {len, len + static_cast<double>(rng.UniformBelow(5))});
        }
        break;
      }
      case kMacroF1: {
        const double gold = static_cast<double>(rng.UniformBelow(5));
        d.base.insert(
            d.base.end(),
            {rng.UniformOpen01() < 0.7 ? gold : static_cast<double>(rng.UniformBelow(5)), gold});
        d.cand.insert(
            d.cand.end(),
            {rng.UniformOpen01() < 0.8 ? gold : static_cast<double>(rng.UniformBelow(5)), gold});
        break;
      }
    }
  }
  return d;
}

const Metric& MetricFor(Kind kind) {
  static const BinaryMeanMetric binary;
  static const RatioMetric ratio;
  static const TestBleuMetric bleu;
  static const MacroF1Metric f1;
  switch (kind) {
    case kBinary:
      return binary;
    case kRatio:
      return ratio;
    case kBleu:
      return bleu;
    case kMacroF1:
      return f1;
  }
  return binary;
}

// The benchmark's data is valid by construction; validation is part of what is measured.
ValidRows RowsOf(Kind kind, const Dataset& d) {
  const Metric& m = MetricFor(kind);
  return ValidRows::Validate(DatasetRows{&m,
                                         kind == kMacroF1 ? size_t{5} : size_t{0},
                                         d.base.size() / m.stats_width(),
                                         {d.base, d.cand}},
                             "bench")
      .value();
}

// The whole study: validation, point scores, resampler set-up (cell counting or packing),
// 1,000 resamples of both datasets, intervals and p-values.
void BM_Study(benchmark::State& state) {
  const Kind kind = static_cast<Kind>(state.range(0));
  const size_t n = static_cast<size_t>(state.range(1));
  const Dataset target = Make(kind, n, 1), bench = Make(kind, n, 2);
  BootstrapOptions options;  // 1000 resamples, 95 %, seed 12345, all hardware threads
  for (auto _ : state) {
    absl::StatusOr<StudyStats> s =
        RunPairedBootstrap(RowsOf(kind, target), RowsOf(kind, bench), &RelativeGain, options);
    if (!s.ok()) state.SkipWithError(std::string(s.status().message()).c_str());
    benchmark::DoNotOptimize(s);
  }
  state.SetLabel(kind == kBinary  ? "binary"
                 : kind == kRatio ? "ratio"
                 : kind == kBleu  ? "bleu10"
                                  : "macro_f1");
}
BENCHMARK(BM_Study)
    ->ArgsProduct({{kBinary, kRatio, kBleu, kMacroF1}, {static_cast<int64_t>(kN)}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// Only the 1,000 resamples of one dataset (after Create): for 0/1 metrics this does not grow
// with n.
void BM_ResampleOnly(benchmark::State& state) {
  const Kind kind = static_cast<Kind>(state.range(0));
  const size_t n = static_cast<size_t>(state.range(1));
  const Dataset d = Make(kind, n, 3);
  absl::StatusOr<BootstrapResampler> r = BootstrapResampler::Create(RowsOf(kind, d));
  for (auto _ : state) {
    absl::StatusOr<ResampledScores> s = r->Run(1000, 12345, 0, 0);
    benchmark::DoNotOptimize(s);
  }
  state.SetLabel(std::string(ResamplingMethodName(r->method())));
}
BENCHMARK(BM_ResampleOnly)
    ->ArgsProduct({{kBinary, kMacroF1}, {10'000, 1'000'000, 10'000'000}})
    ->ArgsProduct({{kRatio, kBleu}, {10'000, 1'000'000}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The real macro_f1 (eval/metrics) on a small dataset with many labels: the per-resample cost
// is the summary over the labels, which was quadratic in them (a 4,096-example job with 2,048
// labels took 86 s to finalize, mostly allocating 64 MiB confusion matrices) and is now linear.
void BM_ManyLabels(benchmark::State& state) {
  const size_t labels = static_cast<size_t>(state.range(0));
  const size_t n = 4096;
  static const emar::MacroF1Metric f1;
  std::vector<double> base, cand;
  DeterministicRng rng(7);
  for (size_t i = 0; i < n; ++i) {
    const double gold = static_cast<double>(i % labels);
    base.insert(base.end(), {gold, static_cast<double>(rng.UniformBelow(labels))});
    cand.insert(
        cand.end(),
        {gold, rng.UniformOpen01() < 0.6 ? gold : static_cast<double>(rng.UniformBelow(labels))});
  }
  for (auto _ : state) {
    ValidRows rows =
        ValidRows::Validate(DatasetRows{&f1, labels, n, {base, cand}}, "bench").value();
    absl::StatusOr<BootstrapResampler> r = BootstrapResampler::Create(rows);
    absl::StatusOr<ResampledScores> s = r->Run(1000, 12345, 0, 0);
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ManyLabels)->Arg(5)->Arg(256)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace emar

BENCHMARK_MAIN();
