#include "server/report_builder.h"

#include <algorithm>
#include <numeric>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/formula/emar_formula.h"
#include "eval/job/job_defaults.h"
#include "eval/job/job_inputs.h"
#include "eval/stats/paired_bootstrap.h"

namespace emar {
namespace {

using emar::v1::JobSpec;

void SetInterval(const Interval& ci, emar::v1::Estimate* e) {
  if (ci.low) e->set_ci_low(*ci.low);
  if (ci.high) e->set_ci_high(*ci.high);
  e->set_undefined_resamples(static_cast<int32_t>(ci.undefined_resamples));
}

// `value` comes from the metric (with its reason when undefined); the interval from the study.
void SetEstimate(const MetricValue& v, const emar::Estimate& stats, emar::v1::Estimate* e) {
  if (v.value) {
    e->set_value(*v.value);
  } else {
    e->set_undefined_reason(v.undefined_reason);
  }
  SetInterval(stats.ci, e);
}

void SetPValue(const PValue& p, emar::v1::Estimate* e) {
  if (p.p) e->set_p_value(*p.p);
  e->set_test(p.test);
}

DatasetRows RowsOf(const DatasetResults& d) {
  DatasetRows rows;
  rows.metric = d.metric.get();
  rows.num_labels = d.labels.size();
  rows.n = d.n;
  for (const std::vector<double>& s : d.systems) rows.systems.push_back(absl::MakeConstSpan(s));
  return rows;
}

void FillComparison(const DatasetResults& d, const MetricValue& base, const MetricValue& cand,
                    const emar::Estimate& base_stats, const emar::Estimate& cand_stats,
                    const emar::Estimate& delta_stats, const PValue& p,
                    emar::v1::DatasetComparison* out) {
  out->set_dataset(d.spec->name());
  out->set_metric(d.spec->metric());
  out->set_direction(std::string(DirectionName(d.metric->direction())));
  out->set_signature(d.metric->signature());
  out->set_n(static_cast<int32_t>(d.n));
  SetEstimate(base, base_stats, out->mutable_base());
  SetEstimate(cand, cand_stats, out->mutable_candidate());
  emar::v1::Estimate* delta = out->mutable_delta();
  if (base.value && cand.value) {
    delta->set_value(*cand.value - *base.value);
  } else {
    delta->set_undefined_reason(
        absl::StrCat("the ", base.value ? "candidate" : "base", " score is undefined"));
  }
  SetInterval(delta_stats.ci, delta);
  SetPValue(p, delta);
}

// A gate compares an interval bound, never a point estimate. For a lower-is-better metric an
// improvement is a negative delta, so the bound and the comparison flip.
void AddGate(const std::string& gate, double threshold, const std::string& bound_name,
             std::optional<double> bound, bool need_at_least, double limit,
             emar::v1::CandidateReport* c) {
  emar::v1::GateResult* g = c->add_gates();
  g->set_gate(gate);
  g->set_threshold(threshold);
  g->set_bound(bound_name);
  if (bound) g->set_bound_value(*bound);
  const bool passed = bound && (need_at_least ? *bound >= limit : *bound <= limit);
  g->set_passed(passed);
  g->set_detail(
      bound ? absl::StrCat(bound_name, " = ", *bound, need_at_least ? " >= " : " <= ", limit,
                           passed ? "" : " is false")
            : absl::StrCat(bound_name,
                           " is undefined (too many undefined resamples or an undefined score)"));
  if (!passed) c->set_gates_passed(false);
}

void EvaluateGates(const emar::v1::GateSpec& gates, emar::v1::CandidateReport* c) {
  c->set_gates_passed(true);
  auto low = [](const emar::v1::Estimate& e) {
    return e.has_ci_low() ? std::optional<double>(e.ci_low()) : std::nullopt;
  };
  auto high = [](const emar::v1::Estimate& e) {
    return e.has_ci_high() ? std::optional<double>(e.ci_high()) : std::nullopt;
  };
  if (gates.has_min_emar()) {
    AddGate("min_emar", gates.min_emar(), "emar.ci_low", low(c->emar()), true, gates.min_emar(), c);
  }
  if (gates.has_min_target_gain()) {
    const auto& t = c->target();
    if (t.direction() == "lower_is_better") {
      AddGate("min_target_gain", gates.min_target_gain(), "target.delta.ci_high", high(t.delta()),
              false, -gates.min_target_gain(), c);
    } else {
      AddGate("min_target_gain", gates.min_target_gain(), "target.delta.ci_low", low(t.delta()),
              true, gates.min_target_gain(), c);
    }
  }
  if (gates.has_max_benchmark_regression()) {
    const auto& b = c->benchmark();
    if (b.direction() == "lower_is_better") {
      AddGate("max_benchmark_regression", gates.max_benchmark_regression(),
              "benchmark.delta.ci_high", high(b.delta()), false, gates.max_benchmark_regression(),
              c);
    } else {
      AddGate("max_benchmark_regression", gates.max_benchmark_regression(),
              "benchmark.delta.ci_low", low(b.delta()), true, -gates.max_benchmark_regression(), c);
    }
  }
}

}  // namespace

const char* EmarVersion() { return "emar-0.1.0"; }

std::vector<emar::v1::InputFile> DescribeInputs(const emar::v1::CreateJobRequest& request) {
  std::vector<emar::v1::InputFile> out;
  for (const JobInput& in : ListJobInputs(request.spec())) {
    emar::v1::InputFile f;
    f.set_role(in.report_role);
    f.set_path_or_name(in.path);
    auto it = request.input_digests().find(in.path);
    if (it != request.input_digests().end()) f.set_sha256(it->second);
    out.push_back(std::move(f));
  }
  return out;
}

absl::StatusOr<emar::v1::Report> BuildReport(const std::string& job_id,
                                             const emar::v1::CreateJobRequest& request,
                                             const AssembledResults& results,
                                             std::vector<emar::v1::InputFile> inputs) {
  const JobSpec& spec = request.spec();
  ASSIGN_OR_RETURN(EmarFormula formula, EmarFormula::Parse(spec.formula()));
  emar::v1::Report report;
  report.set_job_id(job_id);
  report.set_name(spec.name());
  report.mutable_formula()->set_name(formula.name());
  report.mutable_formula()->set_expression(formula.expression());
  report.mutable_bootstrap()->set_resamples(spec.bootstrap().resamples());
  report.mutable_bootstrap()->set_confidence(spec.bootstrap().confidence());
  report.mutable_bootstrap()->set_seed(spec.bootstrap().seed());
  for (auto& f : inputs) *report.mutable_provenance()->add_inputs() = std::move(f);
  report.mutable_provenance()->set_version(EmarVersion());

  const DatasetResults& T = results.target;
  const DatasetResults& B = results.benchmark;
  // Checked once here; every statistic below takes the validated rows as they are.
  ASSIGN_OR_RETURN(const ValidRows target_rows, ValidRows::Validate(RowsOf(T), "target"));
  ASSIGN_OR_RETURN(const ValidRows bench_rows, ValidRows::Validate(RowsOf(B), "benchmark"));
  const std::vector<MetricValue> t_scores = CorpusScores(target_rows);
  const std::vector<MetricValue> b_scores = CorpusScores(bench_rows);

  BootstrapOptions opts;
  opts.resamples = spec.bootstrap().resamples();
  opts.confidence = spec.bootstrap().confidence();
  opts.seed = spec.bootstrap().seed();
  if (spec.bootstrap().test() == kApproximateRandomizationTest)
    opts.test = SignificanceTest::kApproximateRandomization;
  if (spec.bootstrap().ar_trials() > 0) opts.ar_trials = spec.bootstrap().ar_trials();
  opts.num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EmarFn emar_fn = [&formula](double t0, double t1, double b0, double b1) {
    return formula.Evaluate({t0, t1, b0, b1}).value;
  };
  ASSIGN_OR_RETURN(StudyStats study, RunPairedBootstrap(target_rows, bench_rows, emar_fn, opts));

  report.set_gates_passed(true);
  for (int c = 0; c < spec.candidates_size(); ++c) {
    const size_t sys = static_cast<size_t>(c) + 1;
    const CandidateStats& st = study.candidates[static_cast<size_t>(c)];
    emar::v1::CandidateReport* cr = report.add_candidates();
    cr->set_name(spec.candidates(c).name());
    FillComparison(T, t_scores[0], t_scores[sys], st.t0, st.t1, st.dt, st.dt_p,
                   cr->mutable_target());
    FillComparison(B, b_scores[0], b_scores[sys], st.b0, st.b1, st.db, st.db_p,
                   cr->mutable_benchmark());
    const MetricValue& t0 = t_scores[0];
    const MetricValue& t1 = t_scores[sys];
    const MetricValue& b0 = b_scores[0];
    const MetricValue& b1 = b_scores[sys];
    emar::v1::Estimate* emar = cr->mutable_emar();
    if (t0.value && t1.value && b0.value && b1.value) {
      const EmarValue e = formula.Evaluate({*t0.value, *t1.value, *b0.value, *b1.value});
      if (e.value) {
        emar->set_value(*e.value);
      } else {
        emar->set_undefined_reason(e.undefined_reason);
      }
    } else {
      emar->set_undefined_reason("a score it depends on is undefined");
    }
    SetInterval(st.emar.ci, emar);
    EvaluateGates(spec.gates(), cr);
    if (!cr->gates_passed()) report.set_gates_passed(false);
  }
  for (size_t r = 0; r < study.leaderboard.size(); ++r) {
    report.mutable_candidates(study.leaderboard[r] - 1)->set_rank(static_cast<int32_t>(r + 1));
  }
  for (const PairwiseEmar& p : study.pairwise) {
    emar::v1::PairwiseComparison* pc = report.add_pairwise();
    pc->set_a(spec.candidates(p.a - 1).name());
    pc->set_b(spec.candidates(p.b - 1).name());
    if (p.diff.value) pc->set_emar_difference(*p.diff.value);
    if (p.p.p) pc->set_p_value(*p.p.p);
    if (p.p_holm) pc->set_p_value_holm(*p.p_holm);
    pc->set_test(p.p.test);
  }
  return report;
}

}  // namespace emar
