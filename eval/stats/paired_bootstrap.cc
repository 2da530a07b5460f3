#include "eval/stats/paired_bootstrap.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/stats/significance.h"

namespace emar {
namespace {

using Values = std::vector<std::optional<double>>;

std::optional<double> Diff(const std::optional<double>& x, const std::optional<double>& y) {
  if (!x.has_value() || !y.has_value()) return std::nullopt;
  return *x - *y;
}

std::optional<double> Finite(std::optional<double> e) {
  if (e.has_value() && !std::isfinite(*e)) return std::nullopt;
  return e;
}

std::optional<double> EmarOf(const EmarFn& emar, const std::optional<double>& t0,
                             const std::optional<double>& t1, const std::optional<double>& b0,
                             const std::optional<double>& b1) {
  if (!t0 || !t1 || !b0 || !b1) return std::nullopt;
  std::optional<double> e = emar(*t0, *t1, *b0, *b1);
  if (e.has_value() && !std::isfinite(*e)) return std::nullopt;
  return e;
}

Values Column(const ResampledScores& scores, size_t system) {
  Values out(static_cast<size_t>(scores.resamples));
  for (int64_t r = 0; r < scores.resamples; ++r) out[r] = scores.value(r, system);
  return out;
}

Values Minus(const Values& x, const Values& y) {
  Values out(x.size());
  for (size_t r = 0; r < x.size(); ++r) out[r] = Diff(x[r], y[r]);
  return out;
}

Estimate EstimateOf(std::optional<double> point, const Values& resampled, double confidence) {
  return Estimate{point, IntervalOf(resampled, confidence)};
}

}  // namespace

absl::Status ValidateBootstrapOptions(const BootstrapOptions& options) {
  if (options.resamples < 1 || options.resamples > 10'000'000) {
    return absl::InvalidArgumentError(
        absl::StrCat("bootstrap resamples must be in [1, 10000000], got ", options.resamples));
  }
  if (!(options.confidence > 0 && options.confidence < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("bootstrap confidence must be in (0, 1), got ", options.confidence));
  }
  if (options.ar_trials < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ar_trials must be >= 1, got ", options.ar_trials));
  }
  return absl::OkStatus();
}

PValue BootstrapPValue(const std::optional<double>& observed,
                       absl::Span<const std::optional<double>> diffs) {
  PValue out;
  out.test = "paired_bootstrap";
  std::vector<double> defined;
  for (const std::optional<double>& d : diffs) {
    if (d.has_value()) defined.push_back(*d);
  }
  out.undefined_trials = static_cast<int64_t>(diffs.size() - defined.size());
  out.trials = static_cast<int64_t>(defined.size());
  if (observed.has_value() && !defined.empty()) {
    out.p = PairedBootstrapPValue(*observed, defined).p;
  }
  return out;
}

absl::StatusOr<PValue> DeltaPValue(const ValidRows& valid, int c, const BootstrapOptions& options,
                                   uint64_t ar_stream, PValue bootstrap_p) {
  const DatasetRows& rows = valid.rows();
  if (rows.metric->is_binary()) {
    ASSIGN_OR_RETURN(McNemarResult m, McNemarExact(rows.systems[0], rows.systems[c]));
    PValue out;
    out.test = "mcnemar_exact";
    out.p = m.p;
    out.trials = m.b + m.c;
    return out;
  }
  if (options.test == SignificanceTest::kApproximateRandomization) {
    ASSIGN_OR_RETURN(PairedTestResult ar,
                     PairedApproximateRandomization(valid, 0, static_cast<size_t>(c),
                                                    options.ar_trials, options.seed, ar_stream));
    PValue out;
    out.test = "paired_approximate_randomization";
    out.p = ar.p;
    out.trials = ar.trials;
    out.undefined_trials = ar.undefined_trials;
    return out;
  }
  return bootstrap_p;
}

Interval IntervalOf(absl::Span<const std::optional<double>> values, double confidence) {
  Interval out;
  std::vector<double> defined;
  for (const std::optional<double>& v : values) {
    if (v.has_value()) defined.push_back(*v);
  }
  out.defined_resamples = static_cast<int64_t>(defined.size());
  out.undefined_resamples = static_cast<int64_t>(values.size() - defined.size());
  if (defined.empty()) return out;
  double mean = 0;
  for (double v : defined) mean += v;
  mean /= static_cast<double>(defined.size());
  out.resample_mean = mean;
  if (defined.size() >= 2) {
    double ss = 0;
    for (double v : defined) ss += (v - mean) * (v - mean);
    out.std_error = std::sqrt(ss / static_cast<double>(defined.size() - 1));
  }
  // The two tails together may drop floor(B (1 - c)) resamples; more undefined ones than that
  // and no interval at confidence c exists.
  const int64_t b = static_cast<int64_t>(values.size());
  const int64_t budget =
      static_cast<int64_t>(std::floor(static_cast<double>(b) * (1.0 - confidence) + 1e-9));
  if (out.undefined_resamples <= budget) {
    PercentileBounds bounds = PercentileInterval(std::move(defined), confidence);
    out.low = bounds.low;
    out.high = bounds.high;
  }
  return out;
}

std::vector<int> LeaderboardOrder(absl::Span<const std::optional<double>> emar, int first_system) {
  std::vector<int> order(emar.size());
  for (size_t i = 0; i < emar.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    if (emar[x].has_value() != emar[y].has_value()) return emar[x].has_value();
    return emar[x].has_value() && *emar[x] > *emar[y];
  });
  for (int& s : order) s += first_system;
  return order;
}

absl::StatusOr<StudyStats> SummarizeStudy(const ResampledScores& target,
                                          const ResampledScores& benchmark, const EmarFn& emar,
                                          double confidence) {
  const EmarAt emar_at = [&](size_t c, int64_t r) -> std::optional<double> {
    if (r < 0) {
      return EmarOf(emar, target.point[0], target.point[c], benchmark.point[0], benchmark.point[c]);
    }
    return EmarOf(emar, target.value(r, 0), target.value(r, c), benchmark.value(r, 0),
                  benchmark.value(r, c));
  };
  return SummarizeStudyWith(target, benchmark, emar_at, confidence);
}

absl::StatusOr<StudyStats> SummarizeStudyWith(const ResampledScores& target,
                                              const ResampledScores& benchmark,
                                              const EmarAt& emar_at, double confidence) {
  if (target.num_systems != benchmark.num_systems || target.num_systems < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target has ", target.num_systems, " systems and benchmark ", benchmark.num_systems,
        "; need the same number, at least 2 (base + candidate)"));
  }
  if (target.resamples != benchmark.resamples || target.resamples < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target has ", target.resamples, " resamples and benchmark ", benchmark.resamples));
  }
  if (!(confidence > 0 && confidence < 1)) {
    return absl::InvalidArgumentError(absl::StrCat("confidence ", confidence, " not in (0, 1)"));
  }
  StudyStats study;
  study.resamples = target.resamples;
  study.confidence = confidence;
  const size_t b_count = static_cast<size_t>(target.resamples);
  const Values t0 = Column(target, 0);
  const Values b0 = Column(benchmark, 0);
  std::vector<Values> emar_r;
  std::vector<std::optional<double>> emar_point;
  for (size_t c = 1; c < target.num_systems; ++c) {
    const Values t1 = Column(target, c);
    const Values b1 = Column(benchmark, c);
    const Values dt = Minus(t1, t0);
    const Values db = Minus(b1, b0);
    Values e(b_count);
    for (size_t r = 0; r < b_count; ++r) e[r] = Finite(emar_at(c, static_cast<int64_t>(r)));
    CandidateStats s;
    s.system = static_cast<int>(c);
    s.t0 = EstimateOf(target.point[0], t0, confidence);
    s.t1 = EstimateOf(target.point[c], t1, confidence);
    s.b0 = EstimateOf(benchmark.point[0], b0, confidence);
    s.b1 = EstimateOf(benchmark.point[c], b1, confidence);
    s.dt = EstimateOf(Diff(target.point[c], target.point[0]), dt, confidence);
    s.db = EstimateOf(Diff(benchmark.point[c], benchmark.point[0]), db, confidence);
    s.emar = EstimateOf(Finite(emar_at(c, -1)), e, confidence);
    s.dt_p = BootstrapPValue(s.dt.value, dt);
    s.db_p = BootstrapPValue(s.db.value, db);
    emar_point.push_back(s.emar.value);
    emar_r.push_back(std::move(e));
    study.candidates.push_back(std::move(s));
  }
  std::vector<std::optional<double>> raw_p;
  for (size_t a = 0; a < emar_r.size(); ++a) {
    for (size_t b = a + 1; b < emar_r.size(); ++b) {
      PairwiseEmar pair;
      pair.a = static_cast<int>(a + 1);
      pair.b = static_cast<int>(b + 1);
      const Values diff = Minus(emar_r[a], emar_r[b]);
      pair.diff = EstimateOf(Diff(emar_point[a], emar_point[b]), diff, confidence);
      pair.p = BootstrapPValue(pair.diff.value, diff);
      raw_p.push_back(pair.p.p);
      study.pairwise.push_back(std::move(pair));
    }
  }
  const std::vector<std::optional<double>> holm = HolmBonferroni(raw_p);
  for (size_t i = 0; i < holm.size(); ++i) study.pairwise[i].p_holm = holm[i];
  study.leaderboard = LeaderboardOrder(emar_point, 1);
  return study;
}

absl::StatusOr<StudyStats> RunPairedBootstrap(const ValidRows& target, const ValidRows& benchmark,
                                              const EmarFn& emar, const BootstrapOptions& options) {
  RETURN_IF_ERROR(ValidateBootstrapOptions(options));
  if (target.num_systems() != benchmark.num_systems() || target.num_systems() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target has ", target.num_systems(), " systems and benchmark ", benchmark.num_systems(),
        "; need the same number, at least 2 (base + candidate)"));
  }
  if (!emar) return absl::InvalidArgumentError("no EMAR function");
  ASSIGN_OR_RETURN(BootstrapResampler target_resampler,
                   BootstrapResampler::Create(target, options.method));
  ASSIGN_OR_RETURN(BootstrapResampler benchmark_resampler,
                   BootstrapResampler::Create(benchmark, options.method));
  ASSIGN_OR_RETURN(ResampledScores target_scores,
                   target_resampler.Run(options.resamples, options.seed, 0, options.num_threads));
  ASSIGN_OR_RETURN(
      ResampledScores benchmark_scores,
      benchmark_resampler.Run(options.resamples, options.seed, 1, options.num_threads));
  ASSIGN_OR_RETURN(StudyStats study,
                   SummarizeStudy(target_scores, benchmark_scores, emar, options.confidence));
  study.seed = options.seed;
  study.target_method = target_resampler.method();
  study.benchmark_method = benchmark_resampler.method();
  for (CandidateStats& s : study.candidates) {
    const uint64_t base_stream = 2 + 2 * static_cast<uint64_t>(s.system - 1);
    ASSIGN_OR_RETURN(s.dt_p, DeltaPValue(target, s.system, options, base_stream, s.dt_p));
    ASSIGN_OR_RETURN(s.db_p, DeltaPValue(benchmark, s.system, options, base_stream + 1, s.db_p));
  }
  return study;
}

}  // namespace emar
