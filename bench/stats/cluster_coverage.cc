// Coverage of the bootstrap interval of accuracy when every item has several samples whose
// outcomes are correlated (the item is easy or hard for the model): the naive bootstrap, which
// resamples single samples, against the cluster bootstrap, which resamples items (the service's
// path: SampleMeanMetric over item-mean rows, the same BootstrapResampler as every score).
//
//   build/bench/cluster_coverage                       # 1,000 replications, prints both
//   build/bench/cluster_coverage --check               # also exit 1 unless cluster coverage is
//                                                      # in [93 %, 97 %] and naive < 90 % (ctest)
//   build/bench/cluster_coverage --replications 200 --items 100 --samples 4
//
// Model: item i has a chance p_i ~ Beta(3, 2) (mean 0.6, drawn as the 3rd smallest of 4
// uniforms) and its k samples are right independently with chance p_i, so the intra-item
// correlation is 1 / (3 + 2 + 1) = 1/6. The quantity is the population accuracy 0.6; each
// replication draws a fresh dataset and asks whether the 95 % percentile interval holds 0.6.
// Fully deterministic (DeterministicRng, fixed seeds): the same figures on every run.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "eval/metrics/accuracy_scorer.h"
#include "eval/metrics/sample_mean_metric.h"
#include "eval/stats/bootstrap_resampler.h"
#include "eval/stats/deterministic_rng.h"
#include "eval/stats/significance.h"

namespace emar {
namespace {

struct Config {
  int replications = 1000;
  int items = 200;
  int samples = 8;
  int resamples = 1000;
  double confidence = 0.95;
  bool check = false;
};

struct Tally {
  int covered = 0;
  double width_sum = 0;
};

// The 95 % percentile interval of the one system in `rows`; adds to the tally.
bool Interval(const Metric& metric, const std::vector<double>& rows, const Config& config,
              uint64_t seed, double truth, Tally* tally) {
  auto valid = ValidRows::Validate({&metric, 0, rows.size(), {rows}}, "sim");
  if (!valid.ok()) return false;
  auto resampler = BootstrapResampler::Create(*valid);
  if (!resampler.ok()) return false;
  auto scores = resampler->Run(config.resamples, seed, 0, 1);
  if (!scores.ok()) return false;
  std::vector<double> values;
  values.reserve(static_cast<size_t>(config.resamples));
  for (int64_t r = 0; r < scores->resamples; ++r) values.push_back(*scores->value(r, 0));
  const PercentileBounds b = PercentileInterval(std::move(values), config.confidence);
  if (b.low <= truth && truth <= b.high) ++tally->covered;
  tally->width_sum += b.high - b.low;
  return true;
}

int Run(const Config& config) {
  AccuracyMetric accuracy;
  auto item_metric = SampleMeanMetric::Create(accuracy);
  if (!item_metric.ok()) return 1;
  constexpr double kTruth = 0.6;  // E[Beta(3, 2)]
  Tally naive, cluster;
  std::vector<double> sample_rows, item_rows;
  for (int rep = 0; rep < config.replications; ++rep) {
    DeterministicRng rng = DeterministicRng::ForStream(20261207, {static_cast<uint64_t>(rep)});
    sample_rows.clear();
    item_rows.clear();
    for (int i = 0; i < config.items; ++i) {
      double u[4] = {rng.UniformOpen01(), rng.UniformOpen01(), rng.UniformOpen01(),
                     rng.UniformOpen01()};
      std::sort(u, u + 4);
      const double p = u[2];
      int right = 0;
      for (int s = 0; s < config.samples; ++s) {
        const bool ok = rng.UniformOpen01() < p;
        right += ok;
        sample_rows.push_back(ok ? 1 : 0);
      }
      item_rows.push_back(static_cast<double>(right) / config.samples);
    }
    const uint64_t seed = 1000 + static_cast<uint64_t>(rep);
    if (!Interval(accuracy, sample_rows, config, seed, kTruth, &naive) ||
        !Interval(**item_metric, item_rows, config, seed, kTruth, &cluster)) {
      std::fprintf(stderr, "cluster_coverage: bootstrap failed\n");
      return 1;
    }
  }
  const double n = config.replications;
  const double naive_cov = naive.covered / n, cluster_cov = cluster.covered / n;
  std::printf(
      "cluster coverage simulation: %d replications, %d items x %d samples, item accuracy ~ "
      "Beta(3,2) (intra-item correlation 1/6), %d resamples, %.0f %% intervals of the true 0.6\n",
      config.replications, config.items, config.samples, config.resamples, 100 * config.confidence);
  std::printf("  naive bootstrap (resamples single samples): coverage %5.1f %%, mean width %.4f\n",
              100 * naive_cov, naive.width_sum / n);
  std::printf("  cluster bootstrap (resamples items):        coverage %5.1f %%, mean width %.4f\n",
              100 * cluster_cov, cluster.width_sum / n);
  if (config.check && !(cluster_cov >= 0.93 && cluster_cov <= 0.97 && naive_cov < 0.90)) {
    std::fprintf(stderr, "cluster_coverage: expected cluster in [93 %%, 97 %%], naive < 90 %%\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace emar

int main(int argc, char** argv) {
  emar::Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> int {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "cluster_coverage: %s needs a value\n", arg.c_str());
        std::exit(2);  // NOLINT(concurrency-mt-unsafe): parsing arguments, no thread yet
      }
      return std::atoi(argv[++i]);
    };
    if (arg == "--check") {
      config.check = true;
    } else if (arg == "--replications") {
      config.replications = next();
    } else if (arg == "--items") {
      config.items = next();
    } else if (arg == "--samples") {
      config.samples = next();
    } else if (arg == "--resamples") {
      config.resamples = next();
    } else {
      std::fprintf(stderr,
                   "usage: cluster_coverage [--check] [--replications N] [--items N] "
                   "[--samples K] [--resamples B]\n");
      return 2;
    }
  }
  if (config.replications < 1 || config.items < 2 || config.samples < 1 || config.resamples < 1) {
    std::fprintf(stderr, "cluster_coverage: every count must be positive (items >= 2)\n");
    return 2;
  }
  return emar::Run(config);
}
