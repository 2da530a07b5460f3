#include "eval/stats/suite_bootstrap.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/parallel_for.h"
#include "common/status_macros.h"
#include "eval/stats/significance.h"

namespace emar {
namespace {

using Values = std::vector<std::optional<double>>;

// Streams past any a study of two datasets uses (0, 1, and 2.. for its candidates' tests).
constexpr uint64_t kSuiteResampleStreams = uint64_t{1} << 40;
constexpr uint64_t kSuiteTestStreams = uint64_t{2} << 40;
constexpr uint64_t kMaxDatasetsPerStream = uint64_t{1} << 16;
constexpr uint64_t kMaxMetricsPerStream = uint64_t{1} << 8;

Values Column(const ResampledScores& scores, size_t system) {
  Values out(static_cast<size_t>(scores.resamples));
  for (int64_t r = 0; r < scores.resamples; ++r) out[r] = scores.value(r, system);
  return out;
}

std::optional<double> Diff(const std::optional<double>& x, const std::optional<double>& y) {
  if (!x || !y) return std::nullopt;
  return *x - *y;
}

absl::Status CheckInputs(const std::vector<SuiteDatasetRows>& datasets) {
  bool target = false, benchmark = false;
  size_t systems = 0;
  for (size_t k = 0; k < datasets.size(); ++k) {
    const SuiteDatasetRows& d = datasets[k];
    (d.target ? target : benchmark) = true;
    if (d.metrics.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("suite dataset ", k, " has no metrics"));
    }
    if (!(std::isfinite(d.weight) && d.weight > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("suite dataset ", k, " has weight ", d.weight, "; need positive, finite"));
    }
    for (const ValidRows* rows : d.metrics) {
      if (systems == 0) systems = rows->num_systems();
      if (rows->num_systems() != systems || systems < 2) {
        return absl::InvalidArgumentError(
            absl::StrCat("suite dataset ", k, " has ", rows->num_systems(), " systems and another ",
                         systems, "; need the same number, at least 2 (base + candidate)"));
      }
    }
  }
  if (!target || !benchmark) {
    return absl::InvalidArgumentError("a suite needs at least one target and one benchmark");
  }
  return absl::OkStatus();
}

// Per candidate: base, candidate and delta estimates and the delta's p-value.
absl::StatusOr<std::vector<MetricComparison>> Compare(const ValidRows& rows,
                                                      const ResampledScores& scores, size_t k,
                                                      size_t m, const BootstrapOptions& options) {
  std::vector<MetricComparison> out;
  const Values base = Column(scores, 0);
  for (size_t c = 1; c < scores.num_systems; ++c) {
    const Values cand = Column(scores, c);
    Values delta(base.size());
    for (size_t r = 0; r < base.size(); ++r) delta[r] = Diff(cand[r], base[r]);
    MetricComparison mc;
    mc.base = {scores.point[0], IntervalOf(base, options.confidence)};
    mc.candidate = {scores.point[c], IntervalOf(cand, options.confidence)};
    mc.delta = {Diff(scores.point[c], scores.point[0]), IntervalOf(delta, options.confidence)};
    ASSIGN_OR_RETURN(mc.p, DeltaPValue(rows, static_cast<int>(c), options,
                                       SuiteTestStream(static_cast<int>(c), k, m),
                                       BootstrapPValue(mc.delta.value, delta)));
    out.push_back(std::move(mc));
  }
  return out;
}

// EMAR per (candidate, resample) from the aggregates and the datasets' primary scores.
class SuiteEmar {
 public:
  SuiteEmar(const SuiteEmarFn& fn, const ResampledScores& t, const ResampledScores& b,
            const std::vector<const ResampledScores*>& primaries)
      : fn_(fn),
        t_(t),
        b_(b),
        primaries_(primaries),
        base_(primaries.size()),
        cand_(primaries.size()) {}

  std::optional<double> operator()(size_t c, int64_t r) {
    auto at = [r](const ResampledScores& s, size_t system) {
      return r < 0 ? s.point[system] : s.value(r, system);
    };
    const std::optional<double> t0 = at(t_, 0), t1 = at(t_, c), b0 = at(b_, 0), b1 = at(b_, c);
    if (!t0 || !t1 || !b0 || !b1) return std::nullopt;
    for (size_t k = 0; k < primaries_.size(); ++k) {
      const std::optional<double> x = at(*primaries_[k], 0), y = at(*primaries_[k], c);
      if (!x || !y) return std::nullopt;
      base_[k] = *x;
      cand_[k] = *y;
    }
    return fn_(SuiteScores{*t0, *t1, *b0, *b1, base_, cand_});
  }

 private:
  const SuiteEmarFn& fn_;
  const ResampledScores& t_;
  const ResampledScores& b_;
  const std::vector<const ResampledScores*>& primaries_;
  std::vector<double> base_, cand_;
};

// One (dataset, metric) of a suite: resampled, and compared per candidate.
struct Resampled {
  absl::Status status;
  ResamplingMethod method{};
  ResampledScores scores;
  std::vector<MetricComparison> comparisons;
};

Resampled ResampleOne(const ValidRows& rows, size_t k, size_t m, const BootstrapOptions& options,
                      int threads) {
  Resampled out;
  absl::StatusOr<BootstrapResampler> resampler = BootstrapResampler::Create(rows, options.method);
  if (!resampler.ok()) return {resampler.status()};
  absl::StatusOr<ResampledScores> s =
      resampler->Run(options.resamples, options.seed, SuiteResampleStream(k), threads);
  if (!s.ok()) return {s.status()};
  absl::StatusOr<std::vector<MetricComparison>> mc = Compare(rows, *s, k, m, options);
  if (!mc.ok()) return {mc.status()};
  out.method = resampler->method();
  out.scores = *std::move(s);
  out.comparisons = *std::move(mc);
  return out;
}

// Every (dataset, metric) resampled and compared, several at once: each is a pass over its rows
// (the joint-outcome cells, the exact tests) that one thread would otherwise do for all of them
// in turn. The values do not depend on which thread ran what (each has its own streams). The
// first error in suite order wins.
absl::StatusOr<std::vector<DatasetStats>> ResampleEach(
    const std::vector<SuiteDatasetRows>& datasets, const BootstrapOptions& options,
    std::vector<std::vector<ResampledScores>>& scores) {
  std::vector<std::pair<size_t, size_t>> items;  // (k, m)
  for (size_t k = 0; k < datasets.size(); ++k) {
    for (size_t m = 0; m < datasets[k].metrics.size(); ++m) items.emplace_back(k, m);
  }
  const int threads = ResolveBootstrapThreads(options.num_threads);
  const int outer = static_cast<int>(std::min(items.size(), static_cast<size_t>(threads)));
  std::vector<Resampled> done(items.size());
  ParallelFor(items.size(), outer, [&](size_t i) {
    const auto [k, m] = items[i];
    done[i] = ResampleOne(*datasets[k].metrics[m], k, m, options, std::max(1, threads / outer));
  });
  std::vector<DatasetStats> out(datasets.size());
  for (size_t i = 0; i < items.size(); ++i) {
    RETURN_IF_ERROR(done[i].status);
    const size_t k = items[i].first;
    out[k].metrics.push_back(std::move(done[i].comparisons));
    out[k].methods.push_back(done[i].method);
    scores[k].push_back(std::move(done[i].scores));
  }
  return out;
}

}  // namespace

uint64_t SuiteResampleStream(size_t k) {
  return k < 2 ? k : kSuiteResampleStreams + static_cast<uint64_t>(k);
}

uint64_t SuiteTestStream(int c, size_t k, size_t m) {
  if (k < 2 && m == 0) return 2 + 2 * static_cast<uint64_t>(c - 1) + k;
  return kSuiteTestStreams +
         (static_cast<uint64_t>(c - 1) * kMaxDatasetsPerStream + k) * kMaxMetricsPerStream + m;
}

ResampledScores WeightedMean(absl::Span<const ResampledScores* const> parts,
                             absl::Span<const double> weights) {
  if (parts.size() == 1) return *parts[0];
  ResampledScores out;
  out.num_systems = parts[0]->num_systems;
  out.resamples = parts[0]->resamples;
  double total = 0;
  for (double w : weights) total += w;
  auto mean = [&](auto value_of) -> std::optional<double> {
    double sum = 0;
    for (size_t k = 0; k < parts.size(); ++k) {
      const std::optional<double> v = value_of(*parts[k]);
      if (!v) return std::nullopt;
      sum += weights[k] * *v;
    }
    return sum / total;
  };
  for (size_t s = 0; s < out.num_systems; ++s) {
    out.point.push_back(mean([s](const ResampledScores& p) { return p.point[s]; }));
  }
  out.values.resize(static_cast<size_t>(out.resamples) * out.num_systems);
  for (int64_t r = 0; r < out.resamples; ++r) {
    for (size_t s = 0; s < out.num_systems; ++s) {
      out.values[static_cast<size_t>(r) * out.num_systems + s] =
          mean([r, s](const ResampledScores& p) { return p.value(r, s); });
    }
  }
  return out;
}

absl::StatusOr<SuiteStats> RunSuiteBootstrap(const std::vector<SuiteDatasetRows>& datasets,
                                             const SuiteEmarFn& emar,
                                             const BootstrapOptions& options) {
  RETURN_IF_ERROR(ValidateBootstrapOptions(options));
  RETURN_IF_ERROR(CheckInputs(datasets));
  if (!emar) return absl::InvalidArgumentError("no EMAR function");
  SuiteStats out;
  // scores[k][m]: every system's score of metric m of dataset k, on each resample.
  std::vector<std::vector<ResampledScores>> scores(datasets.size());
  ASSIGN_OR_RETURN(out.datasets, ResampleEach(datasets, options, scores));
  std::vector<const ResampledScores*> side[2], primaries;
  std::vector<double> weights[2];
  std::vector<size_t> side_datasets[2];
  for (size_t k = 0; k < datasets.size(); ++k) {
    const int i = datasets[k].target ? 0 : 1;
    side[i].push_back(&scores[k][0]);
    weights[i].push_back(datasets[k].weight);
    side_datasets[i].push_back(k);
    primaries.push_back(&scores[k][0]);
  }
  const ResampledScores t = WeightedMean(side[0], weights[0]);
  const ResampledScores b = WeightedMean(side[1], weights[1]);
  SuiteEmar emar_at(emar, t, b, primaries);
  ASSIGN_OR_RETURN(
      out.study, SummarizeStudyWith(
                     t, b, [&](size_t c, int64_t r) { return emar_at(c, r); }, options.confidence));
  out.study.seed = options.seed;
  out.study.target_method = out.datasets[side_datasets[0][0]].methods[0];
  out.study.benchmark_method = out.datasets[side_datasets[1][0]].methods[0];
  // An aggregate of one dataset takes that dataset's test (McNemar, AR); several keep the
  // aggregate's paired bootstrap.
  for (CandidateStats& s : out.study.candidates) {
    const size_t c = static_cast<size_t>(s.system) - 1;
    if (side_datasets[0].size() == 1) s.dt_p = out.datasets[side_datasets[0][0]].metrics[0][c].p;
    if (side_datasets[1].size() == 1) s.db_p = out.datasets[side_datasets[1][0]].metrics[0][c].p;
  }
  // Holm over the benchmarks' primary deltas, per candidate.
  for (size_t c = 0; c < out.study.candidates.size(); ++c) {
    std::vector<std::optional<double>> raw;
    for (size_t k : side_datasets[1]) raw.push_back(out.datasets[k].metrics[0][c].p.p);
    const std::vector<std::optional<double>> holm = HolmBonferroni(raw);
    for (size_t i = 0; i < side_datasets[1].size(); ++i) {
      out.datasets[side_datasets[1][i]].metrics[0][c].p_holm = holm[i];
    }
  }
  return out;
}

}  // namespace emar
