#include "server/report_builder.h"

#include <algorithm>
#include <numeric>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/parallel_for.h"
#include "common/status_macros.h"
#include "eval/formula/emar_formula.h"
#include "eval/job/job_defaults.h"
#include "eval/job/job_inputs.h"
#include "eval/job/suite.h"
#include "eval/stats/paired_bootstrap.h"
#include "eval/stats/suite_bootstrap.h"
#include "server/report_flips.h"
#include "server/report_slices.h"
#include "server/report_statistics.h"

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

// What a comparison's header says: one dataset's metric, or a side's aggregate.
struct Header {
  std::string dataset, metric, direction, signature;
  size_t n = 0;
};

Header HeaderOf(const DatasetResults& d) {
  return {d.spec->name(), d.metric_spec.name(), std::string(DirectionName(d.metric->direction())),
          d.metric->signature_for(d.nrefs), d.n};
}

void FillComparison(const Header& h, const MetricValue& base, const MetricValue& cand,
                    const emar::Estimate& base_stats, const emar::Estimate& cand_stats,
                    const emar::Estimate& delta_stats, const PValue& p,
                    emar::v1::DatasetComparison* out) {
  out->set_dataset(h.dataset);
  out->set_metric(h.metric);
  out->set_direction(h.direction);
  out->set_signature(h.signature);
  out->set_n(static_cast<int32_t>(h.n));
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
             emar::v1::CandidateReport* c, const std::string& dataset = "") {
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
  g->set_dataset(dataset);
  if (!passed) c->set_gates_passed(false);
}

std::optional<double> Low(const emar::v1::Estimate& e) {
  return e.has_ci_low() ? std::optional<double>(e.ci_low()) : std::nullopt;
}

// min_target_gain (gain) or a regression bound (max_benchmark_regression,
// max_suite_regression) on one comparison's delta; `prefix` names it in the bound
// ("target", "benchmark", "mmlu").
void DeltaGate(const std::string& gate, double threshold, bool gain, const std::string& prefix,
               const emar::v1::DatasetComparison& d, emar::v1::CandidateReport* c,
               const std::string& dataset = "") {
  const bool lower = d.direction() == "lower_is_better";
  // gain: delta >= x (lower-is-better: delta <= -x); regression: delta >= -x (lower: <= x).
  const double limit = gain == !lower ? threshold : -threshold;
  std::string source;  // small 0/1 datasets: the more conservative of bootstrap and Wilson
  const std::optional<double> bound = GateDeltaBound(d, lower, &source);
  AddGate(
      gate, threshold,
      absl::StrCat(prefix, ".delta.", source.empty() ? "ci_" : "wilson_", lower ? "high" : "low"),
      bound, !lower, limit, c, dataset);
  emar::v1::GateResult* g = c->mutable_gates(c->gates_size() - 1);
  g->set_bound_source(source);
  if (!gain) MarkPower(d, g);
}

void EvaluateGates(const emar::v1::JobSpec& spec, const std::vector<SuiteDataset>& datasets,
                   emar::v1::CandidateReport* c) {
  const emar::v1::GateSpec& gates = spec.gates();
  c->set_gates_passed(true);
  if (gates.has_min_emar()) {
    AddGate("min_emar", gates.min_emar(), "emar.ci_low", Low(c->emar()), true, gates.min_emar(), c);
  }
  if (!IsSuiteForm(spec)) {
    if (gates.has_min_target_gain()) {
      DeltaGate("min_target_gain", gates.min_target_gain(), true, "target", c->target(), c);
    }
    if (gates.has_max_benchmark_regression()) {
      DeltaGate("max_benchmark_regression", gates.max_benchmark_regression(), false, "benchmark",
                c->benchmark(), c);
    }
    return;
  }
  // Suites: every dataset passes its own bound (an intersection-union test: no correction),
  // its `gates` overriding the job's; then the aggregate's.
  for (const SuiteDataset& d : datasets) {
    const bool target = d.role == emar::v1::DATASET_ROLE_TARGET;
    const emar::v1::GateSpec& own = d.spec->gates();
    std::optional<double> x;
    if (target && own.has_min_target_gain()) x = own.min_target_gain();
    if (target && !x && gates.has_min_target_gain()) x = gates.min_target_gain();
    if (!target && own.has_max_benchmark_regression()) x = own.max_benchmark_regression();
    if (!target && !x && gates.has_max_benchmark_regression()) {
      x = gates.max_benchmark_regression();
    }
    if (!x) continue;
    for (const emar::v1::DatasetComparison& dc : c->datasets()) {
      if (dc.dataset() != d.spec->name() || !dc.primary()) continue;
      DeltaGate(target ? "min_target_gain" : "max_benchmark_regression", *x, target, d.spec->name(),
                dc, c, d.spec->name());
    }
  }
  if (gates.has_max_suite_regression()) {
    DeltaGate("max_suite_regression", gates.max_suite_regression(), false, "benchmark",
              c->benchmark(), c);
  }
}

MetricValue ValueOf(const std::optional<double>& v, const std::string& why) {
  return v ? MetricValue::Of(*v) : MetricValue::Undefined(why);
}

// The job's statistics inputs: every (dataset, metric) validated, with its corpus scores.
struct Scored {
  const DatasetResults* results;
  ValidRows rows;
  std::vector<MetricValue> scores;  // per system
};

// Each (dataset, metric) is a pass over its rows, so they run side by side on `threads`; the
// first error in suite order wins.
absl::StatusOr<std::vector<Scored>> ScoreAll(const AssembledResults& assembled, bool suite,
                                             int threads) {
  const std::vector<DatasetResults>& all = assembled.results;
  std::vector<absl::StatusOr<ValidRows>> rows(all.size(), absl::UnknownError("not validated"));
  std::vector<std::vector<MetricValue>> scores(all.size());
  ParallelFor(all.size(), threads, [&](size_t i) {
    const DatasetResults& d = all[i];
    const std::string what = !suite && d.metric_index == 0
                                 ? std::string(d.dataset == 0 ? "target" : "benchmark")
                                 : absl::StrCat("dataset '", d.spec->name(), "' metric '",
                                                MetricSpecKey(d.metric_spec), "'");
    rows[i] = ValidRows::Validate(RowsOf(d), what);
    if (rows[i].ok()) scores[i] = CorpusScores(*rows[i]);
  });
  std::vector<Scored> out;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!rows[i].ok()) return rows[i].status();
    out.push_back({&all[i], *std::move(rows[i]), std::move(scores[i])});
  }
  return out;
}

// The aggregate comparison of one side for candidate system `sys`: the dataset's own when the
// side has one dataset (a suite of one reads as before), else the weighted mean.
void FillSide(bool target, const std::vector<SuiteDataset>& datasets,
              const std::vector<const Scored*>& primaries, const CandidateStats& st, size_t sys,
              const ReportStatsSettings& settings, emar::v1::DatasetComparison* out) {
  std::vector<size_t> ks;
  for (const SuiteDataset& d : datasets) {
    if ((d.role == emar::v1::DATASET_ROLE_TARGET) == target) ks.push_back(d.index);
  }
  const emar::Estimate& e0 = target ? st.t0 : st.b0;
  const emar::Estimate& e1 = target ? st.t1 : st.b1;
  const emar::Estimate& ed = target ? st.dt : st.db;
  const PValue& p = target ? st.dt_p : st.db_p;
  if (ks.size() == 1) {
    const Scored& s = *primaries[ks[0]];
    FillComparison(HeaderOf(*s.results), s.scores[0], s.scores[sys], e0, e1, ed, p, out);
    AddComparisonStatistics(*s.results, sys, ed, settings, out);
    return;
  }
  Header h;
  h.dataset = absl::StrCat("weighted mean of ", ks.size(), target ? " targets" : " benchmarks");
  std::string why_base, why_cand;
  for (size_t k : ks) {
    const Scored& s = *primaries[k];
    const std::string& metric = s.results->metric_spec.name();
    h.metric = h.metric.empty() || h.metric == metric ? metric : "primary metrics";
    h.direction = std::string(DirectionName(s.results->metric->direction()));
    h.n += s.results->n;
    if (!s.scores[0].value && why_base.empty()) {
      why_base = absl::StrCat("the score of dataset '", s.results->spec->name(), "' is undefined");
    }
    if (!s.scores[sys].value && why_cand.empty()) {
      why_cand = absl::StrCat("the score of dataset '", s.results->spec->name(), "' is undefined");
    }
  }
  FillComparison(h, ValueOf(e0.value, why_base), ValueOf(e1.value, why_cand), e0, e1, ed, p, out);
  AddAggregateStatistics(ed, settings, out);
}

// The report's header: the job, its formula and bootstrap settings, and its inputs.
emar::v1::Report ReportHeader(const std::string& job_id, const JobSpec& spec,
                              const EmarFormula& formula, const ReportStatsSettings& settings,
                              std::vector<emar::v1::InputFile> inputs) {
  emar::v1::Report report;
  report.set_job_id(job_id);
  report.set_name(spec.name());
  report.mutable_formula()->set_name(formula.name());
  report.mutable_formula()->set_expression(formula.expression());
  report.mutable_bootstrap()->set_resamples(spec.bootstrap().resamples());
  report.mutable_bootstrap()->set_confidence(spec.bootstrap().confidence());
  report.mutable_bootstrap()->set_seed(spec.bootstrap().seed());
  report.mutable_bootstrap()->set_power(settings.power);
  report.mutable_bootstrap()->set_small_dataset_items(settings.small_dataset_items);
  for (auto& f : inputs) *report.mutable_provenance()->add_inputs() = std::move(f);
  report.mutable_provenance()->set_version(EmarVersion());
  return report;
}

// The statistics inputs per dataset (suite order): its primary metric's, and every metric's rows.
struct DatasetGroups {
  std::vector<const Scored*> primaries;
  std::vector<SuiteDatasetRows> rows;
};

absl::StatusOr<DatasetGroups> GroupByDataset(const std::vector<Scored>& scored,
                                             const std::vector<SuiteDataset>& datasets) {
  DatasetGroups g;
  g.primaries.assign(datasets.size(), nullptr);
  g.rows.resize(datasets.size());
  for (const Scored& s : scored) {
    const size_t k = static_cast<size_t>(s.results->dataset);
    if (k >= datasets.size()) return absl::InternalError("assembled results name no dataset");
    if (s.results->metric_index == 0) g.primaries[k] = &s;
    g.rows[k].target = datasets[k].role == emar::v1::DATASET_ROLE_TARGET;
    g.rows[k].weight = datasets[k].weight;
    g.rows[k].metrics.push_back(&s.rows);
  }
  for (const Scored* p : g.primaries) {
    if (p == nullptr) return absl::InternalError("a dataset has no assembled results");
  }
  return g;
}

// The formula with the datasets it names: each `T1[name]` of it reads dataset ref_dataset_[i]'s
// base, candidate or delta score. Not thread-safe (its scratch values are reused).
class DatasetFormula {
 public:
  static absl::StatusOr<DatasetFormula> Create(const EmarFormula& formula,
                                               const std::vector<SuiteDataset>& datasets) {
    DatasetFormula f(formula);
    for (const FormulaDatasetRef& ref : formula.dataset_refs()) {
      auto it = std::find_if(datasets.begin(), datasets.end(),
                             [&](const SuiteDataset& d) { return d.spec->name() == ref.dataset; });
      if (it == datasets.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("formula names dataset '", ref.dataset, "', which the job does not have"));
      }
      f.ref_dataset_.push_back(static_cast<size_t>(it->index));
    }
    f.ref_values_.resize(f.ref_dataset_.size());
    return f;
  }

  // EMAR from the sides' aggregates and each dataset's base and candidate scores.
  EmarValue Evaluate(const EmarScores& agg, absl::Span<const double> base,
                     absl::Span<const double> cand) {
    for (size_t i = 0; i < ref_dataset_.size(); ++i) {
      const size_t k = ref_dataset_[i];
      const FormulaVar v = formula_->dataset_refs()[i].var;
      ref_values_[i] = v == kVarT0 || v == kVarB0   ? base[k]
                       : v == kVarT1 || v == kVarB1 ? cand[k]
                                                    : cand[k] - base[k];
    }
    return formula_->Evaluate(agg, ref_values_);
  }

 private:
  explicit DatasetFormula(const EmarFormula& formula) : formula_(&formula) {}
  const EmarFormula* formula_;
  std::vector<size_t> ref_dataset_;
  std::vector<double> ref_values_;
};

BootstrapOptions BootstrapOptionsOf(const JobSpec& spec) {
  BootstrapOptions opts;
  opts.resamples = spec.bootstrap().resamples();
  opts.confidence = spec.bootstrap().confidence();
  opts.seed = spec.bootstrap().seed();
  if (spec.bootstrap().test() == kApproximateRandomizationTest)
    opts.test = SignificanceTest::kApproximateRandomization;
  if (spec.bootstrap().ar_trials() > 0) opts.ar_trials = spec.bootstrap().ar_trials();
  opts.num_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return opts;
}

// What every candidate's part of the report is filled from.
struct ReportInputs {
  const JobSpec& spec;
  bool suite;
  const std::vector<SuiteDataset>& datasets;
  const std::vector<Scored>& scored;
  const DatasetGroups& groups;
  const SuiteStats& stats;
  const ReportSlices& slices;
  const ReportStatsSettings& settings;
  DatasetFormula& formula;
  int threads;  // for the per-dataset passes over rows
};

// Candidate system `sys`'s EMAR: its value from the aggregates (or why it is undefined) and
// its interval from the study.
void FillEmar(const ReportInputs& in, size_t sys, const CandidateStats& st,
              emar::v1::CandidateReport* cr) {
  const std::vector<const Scored*>& primaries = in.groups.primaries;
  std::vector<double> base(in.datasets.size()), cand(in.datasets.size());
  bool defined = cr->target().base().has_value() && cr->target().candidate().has_value() &&
                 cr->benchmark().base().has_value() && cr->benchmark().candidate().has_value();
  for (size_t k = 0; k < in.datasets.size() && defined; ++k) {
    defined = primaries[k]->scores[0].value && primaries[k]->scores[sys].value;
    if (defined) {
      base[k] = *primaries[k]->scores[0].value;
      cand[k] = *primaries[k]->scores[sys].value;
    }
  }
  emar::v1::Estimate* emar = cr->mutable_emar();
  if (defined) {
    const EmarValue e =
        in.formula.Evaluate({cr->target().base().value(), cr->target().candidate().value(),
                             cr->benchmark().base().value(), cr->benchmark().candidate().value()},
                            base, cand);
    if (e.value) {
      emar->set_value(*e.value);
    } else {
      emar->set_undefined_reason(e.undefined_reason);
    }
  } else {
    emar->set_undefined_reason("a score it depends on is undefined");
  }
  SetInterval(st.emar.ci, emar);
}

// Candidate system `sys`'s comparison on (dataset, metric) `i` of the scored ones, with flips
// and slices.
absl::Status FillDataset(const ReportInputs& in, size_t i, size_t sys,
                         emar::v1::DatasetComparison* dc) {
  const Scored& s = in.scored[i];
  const DatasetResults& d = *s.results;
  const MetricComparison& mc =
      in.stats.datasets[static_cast<size_t>(d.dataset)].metrics[d.metric_index][sys - 1];
  FillComparison(HeaderOf(d), s.scores[0], s.scores[sys], mc.base, mc.candidate, mc.delta, mc.p,
                 dc);
  AddComparisonStatistics(d, sys, mc.delta, in.settings, dc);
  const SuiteDataset& sd = in.datasets[static_cast<size_t>(d.dataset)];
  dc->set_role(sd.role == emar::v1::DATASET_ROLE_TARGET ? "target" : "benchmark");
  dc->set_primary(d.metric_index == 0);
  if (d.metric_index == 0) dc->set_weight(sd.weight);
  if (in.suite && mc.p_holm) dc->mutable_delta()->set_p_value_holm(*mc.p_holm);
  RETURN_IF_ERROR(AddFlipCounts(d, sys, dc));
  in.slices.Fill(i, sys, dc);
  return absl::OkStatus();
}

// Candidate `c` (0-based): both sides, EMAR, every dataset's comparison, and its gates.
absl::Status FillCandidate(const ReportInputs& in, int c, emar::v1::CandidateReport* cr) {
  const size_t sys = static_cast<size_t>(c) + 1;
  const CandidateStats& st = in.stats.study.candidates[static_cast<size_t>(c)];
  cr->set_name(in.spec.candidates(c).name());
  // The two sides and every (dataset, metric) count paired outcomes and flips, a pass or two
  // over their rows each, so they are filled side by side. Each task writes only its own
  // message, created here first (creating one sets a field of `cr`).
  emar::v1::DatasetComparison* sides[2] = {cr->mutable_target(), cr->mutable_benchmark()};
  std::vector<emar::v1::DatasetComparison*> dcs;
  for (size_t i = 0; i < in.scored.size(); ++i) dcs.push_back(cr->add_datasets());
  std::vector<absl::Status> filled(dcs.size());
  ParallelFor(2 + dcs.size(), in.threads, [&](size_t task) {
    if (task < 2) {
      FillSide(task == 0, in.datasets, in.groups.primaries, st, sys, in.settings, sides[task]);
    } else {
      filled[task - 2] = FillDataset(in, task - 2, sys, dcs[task - 2]);
    }
  });
  for (const absl::Status& s : filled) RETURN_IF_ERROR(s);
  FillEmar(in, sys, st, cr);
  EvaluateGates(in.spec, in.datasets, cr);
  AddSliceGates(in.spec, cr);
  return absl::OkStatus();
}

// The candidates' ranks and the comparisons of each pair of them.
void FillRanking(const StudyStats& study, const JobSpec& spec, emar::v1::Report* report) {
  for (size_t r = 0; r < study.leaderboard.size(); ++r) {
    report->mutable_candidates(study.leaderboard[r] - 1)->set_rank(static_cast<int32_t>(r + 1));
  }
  for (const PairwiseEmar& p : study.pairwise) {
    emar::v1::PairwiseComparison* pc = report->add_pairwise();
    pc->set_a(spec.candidates(p.a - 1).name());
    pc->set_b(spec.candidates(p.b - 1).name());
    if (p.diff.value) pc->set_emar_difference(*p.diff.value);
    if (p.p.p) pc->set_p_value(*p.p.p);
    if (p.p_holm) pc->set_p_value_holm(*p.p_holm);
    pc->set_test(p.p.test);
  }
}

}  // namespace

const char* EmarVersion() { return "emar-0.1.0"; }

std::vector<emar::v1::InputFile> DescribeInputs(const emar::v1::CreateJobRequest& request) {
  std::vector<emar::v1::InputFile> out;
  for (const JobInput& in : ListJobInputs(request.spec())) {
    if (in.path.empty()) continue;  // a score dataset without references
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
  const ReportStatsSettings stats_settings = ReportStatsSettingsOf(spec);
  emar::v1::Report report = ReportHeader(job_id, spec, formula, stats_settings, std::move(inputs));

  const bool suite = IsSuiteForm(spec);
  const std::vector<SuiteDataset> datasets = SuiteDatasets(spec);
  // Checked once here; every statistic below takes the validated rows as they are.
  const BootstrapOptions opts = BootstrapOptionsOf(spec);
  ASSIGN_OR_RETURN(const std::vector<Scored> scored, ScoreAll(results, suite, opts.num_threads));
  ASSIGN_OR_RETURN(const DatasetGroups groups, GroupByDataset(scored, datasets));
  ASSIGN_OR_RETURN(DatasetFormula dataset_formula, DatasetFormula::Create(formula, datasets));

  SuiteEmarFn emar_fn = [&](const SuiteScores& s) {
    return dataset_formula.Evaluate({s.t0, s.t1, s.b0, s.b1}, s.base, s.candidate).value;
  };
  ASSIGN_OR_RETURN(const SuiteStats stats, RunSuiteBootstrap(groups.rows, emar_fn, opts));

  std::vector<const ValidRows*> valid;
  valid.reserve(scored.size());
  for (const Scored& s : scored) valid.push_back(&s.rows);
  ASSIGN_OR_RETURN(
      const ReportSlices slices,
      ReportSlices::Compute(results, valid, opts,
                            spec.gates().has_min_slice_items() ? spec.gates().min_slice_items()
                                                               : kDefaultMinSliceItems));

  const ReportInputs in{spec,  suite,  datasets,       scored,          groups,
                        stats, slices, stats_settings, dataset_formula, opts.num_threads};
  report.set_gates_passed(true);
  for (int c = 0; c < spec.candidates_size(); ++c) {
    emar::v1::CandidateReport* cr = report.add_candidates();
    RETURN_IF_ERROR(FillCandidate(in, c, cr));
    if (!cr->gates_passed()) report.set_gates_passed(false);
  }
  FillRanking(stats.study, spec, &report);
  return report;
}

}  // namespace emar
