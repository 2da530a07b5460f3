// Tests of BuildReport (scores, deltas, EMAR, gates, leaderboard, determinism) and DescribeInputs.
#include "server/report_builder.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/status_matchers.h"
#include "eval/job/job_defaults.h"
#include "eval/metrics/metric_registry.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kEps = 1e-12;

using Systems = std::vector<std::vector<double>>;

// A request with defaults applied, as PlanJob stores it. Candidates are named `candidates`.
emar::v1::CreateJobRequest Request(const std::string& target_metric,
                                   const std::string& benchmark_metric,
                                   const std::vector<std::string>& candidates,
                                   const std::string& formula = "",
                                   const emar::v1::GateSpec& gates = {}) {
  emar::v1::CreateJobRequest req;
  emar::v1::JobSpec& s = *req.mutable_spec();
  s.set_name("report");
  s.mutable_target()->set_name("sentiment");
  s.mutable_target()->set_references("t_refs.jsonl");
  s.mutable_target()->set_metric(target_metric);
  s.mutable_benchmark()->set_name("general");
  s.mutable_benchmark()->set_references("b_refs.jsonl");
  s.mutable_benchmark()->set_metric(benchmark_metric);
  s.mutable_base()->set_name("base");
  s.mutable_base()->set_target_outputs("base_t.jsonl");
  s.mutable_base()->set_benchmark_outputs("base_b.jsonl");
  for (const std::string& name : candidates) {
    emar::v1::ModelSpec* c = s.add_candidates();
    c->set_name(name);
    c->set_target_outputs(name + "_t.jsonl");
    c->set_benchmark_outputs(name + "_b.jsonl");
  }
  s.set_formula(formula);
  *s.mutable_gates() = gates;
  ApplyJobDefaults(s);
  return req;
}

// systems[0] is the base, systems[k] candidate k-1; each n * stats_width values.
DatasetResults Dataset(const emar::v1::DatasetSpec& spec, Systems systems) {
  DatasetResults d;
  d.spec = &spec;
  d.metric = *MakeMetric(spec.metric());
  d.metric_spec.set_name(spec.metric());
  d.n = systems[0].size() / d.metric->stats_width();
  d.systems = std::move(systems);
  return d;
}

AssembledResults Results(const emar::v1::CreateJobRequest& req, Systems target, Systems benchmark) {
  AssembledResults r;
  r.results.push_back(Dataset(req.spec().target(), std::move(target)));
  r.results.push_back(Dataset(req.spec().benchmark(), std::move(benchmark)));
  r.results[1].dataset = 1;
  return r;
}

// n rows, every one holding `row`: every bootstrap resample then has the full-data score, so
// interval bounds equal the point values and gate boundaries can be hit exactly.
std::vector<double> Constant(std::vector<double> row, size_t n = 4) {
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) out.insert(out.end(), row.begin(), row.end());
  return out;
}

// Accuracy rows computed by hand:
//   target    base 1 0 1 0 0 -> T0 = 2/5 = 0.4;   candidate 1 1 1 0 1 -> T1 = 4/5 = 0.8
//   benchmark base 1 1 1 0   -> B0 = 3/4 = 0.75;  candidate 1 1 0 0   -> B1 = 2/4 = 0.5
const std::vector<double> kT0 = {1, 0, 1, 0, 0};
const std::vector<double> kT1 = {1, 1, 1, 0, 1};
const std::vector<double> kB0 = {1, 1, 1, 0};
const std::vector<double> kB1 = {1, 1, 0, 0};

TEST(BuildReportTest, FourScoresAndDeltasMatchHandComputedAccuracy) {
  const auto req = Request("accuracy", "accuracy", {"ft"});
  const AssembledResults r = Results(req, {kT0, kT1}, {kB0, kB1});
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("job-7", req, r, {}));

  EXPECT_EQ(report.job_id(), "job-7");
  EXPECT_EQ(report.name(), "report");
  EXPECT_EQ(report.bootstrap().resamples(), 1000);
  EXPECT_DOUBLE_EQ(report.bootstrap().confidence(), 0.95);
  EXPECT_EQ(report.bootstrap().seed(), 12345u);
  EXPECT_EQ(report.provenance().version(), EmarVersion());
  ASSERT_EQ(report.candidates_size(), 1);
  const emar::v1::CandidateReport& c = report.candidates(0);
  EXPECT_EQ(c.name(), "ft");
  EXPECT_EQ(c.rank(), 1);

  const emar::v1::DatasetComparison& t = c.target();
  EXPECT_EQ(t.dataset(), "sentiment");
  EXPECT_EQ(t.metric(), "accuracy");
  EXPECT_EQ(t.direction(), "higher_is_better");
  EXPECT_EQ(t.n(), 5);
  EXPECT_THAT(t.base().value(), DoubleNear(0.4, kEps));
  EXPECT_THAT(t.candidate().value(), DoubleNear(0.8, kEps));
  EXPECT_THAT(t.delta().value(), DoubleNear(0.4, kEps));
  // McNemar: 2 examples only the candidate gets right, none only the base: p = 2 * 0.5^2.
  EXPECT_EQ(t.delta().test(), "mcnemar_exact");
  EXPECT_THAT(t.delta().p_value(), DoubleNear(0.5, 1e-9));

  const emar::v1::DatasetComparison& b = c.benchmark();
  EXPECT_EQ(b.dataset(), "general");
  EXPECT_EQ(b.n(), 4);
  EXPECT_THAT(b.base().value(), DoubleNear(0.75, kEps));
  EXPECT_THAT(b.candidate().value(), DoubleNear(0.5, kEps));
  EXPECT_THAT(b.delta().value(), DoubleNear(-0.25, kEps));
  // One discordant example: p = 2 * 0.5 = 1.
  EXPECT_THAT(b.delta().p_value(), DoubleNear(1.0, 1e-9));

  // Every estimate has an interval around its point value.
  for (const emar::v1::Estimate* e :
       {&t.base(), &t.candidate(), &t.delta(), &b.base(), &b.candidate(), &b.delta()}) {
    ASSERT_TRUE(e->has_value() && e->has_ci_low() && e->has_ci_high()) << e->DebugString();
    EXPECT_LE(e->ci_low(), e->value() + kEps) << e->DebugString();
    EXPECT_GE(e->ci_high(), e->value() - kEps) << e->DebugString();
  }
  // EMAR = (T1 - T0) / T0 is undefined in a resample that misses both examples the base gets
  // right: chance 0.6^5 = 7.8%, about 78 of 1000, more than the 5% a 95% interval may drop.
  EXPECT_TRUE(c.emar().has_value());
  EXPECT_FALSE(c.emar().has_ci_low());
  EXPECT_FALSE(c.emar().has_ci_high());
  EXPECT_GT(c.emar().undefined_resamples(), 50);
  EXPECT_LT(c.emar().undefined_resamples(), 120);
  // Accuracy of 5 examples can only be a multiple of 1/5, resampled or not.
  EXPECT_THAT(std::remainder(t.base().ci_low() * 5, 1.0), DoubleNear(0, 1e-9));
  EXPECT_THAT(std::remainder(t.base().ci_high() * 5, 1.0), DoubleNear(0, 1e-9));
}

TEST(BuildReportTest, EmarByRelativeGainPresetIsGainOverBaseTargetScore) {
  const auto req = Request("accuracy", "accuracy", {"ft"});  // formula left to the default
  const AssembledResults r = Results(req, {kT0, kT1}, {kB0, kB1});
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, r, {}));
  EXPECT_EQ(report.formula().name(), "relative_gain");
  EXPECT_EQ(report.formula().expression(), "(T1 - T0) / T0");
  // (0.8 - 0.4) / 0.4 = 1
  EXPECT_THAT(report.candidates(0).emar().value(), DoubleNear(1.0, 1e-9));
}

TEST(BuildReportTest, EmarByExplicitExpression) {
  const auto req = Request("accuracy", "accuracy", {"ft"}, "dT / B0 + dB");
  const AssembledResults r = Results(req, {kT0, kT1}, {kB0, kB1});
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, r, {}));
  EXPECT_EQ(report.formula().name(), "custom");
  EXPECT_EQ(report.formula().expression(), "dT / B0 + dB");
  // 0.4 / 0.75 + (-0.25) = 0.28333...
  EXPECT_THAT(report.candidates(0).emar().value(), DoubleNear(0.4 / 0.75 - 0.25, 1e-9));
}

TEST(BuildReportTest, MalformedFormulaIsRejected) {
  const auto req = Request("accuracy", "accuracy", {"ft"}, "(T1 - ");
  const AssembledResults r = Results(req, {kT0, kT1}, {kB0, kB1});
  EXPECT_THAT(BuildReport("j", req, r, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(T1 -")));
}

TEST(BuildReportTest, RowsTheMetricCannotHoldAreRejected) {
  const auto req = Request("accuracy", "accuracy", {"ft"});
  const AssembledResults r = Results(req, {kT0, {1, 1, 2, 0, 1}}, {kB0, kB1});
  EXPECT_THAT(BuildReport("j", req, r, {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BuildReportTest, LeaderboardRanksCandidatesByEmar) {
  // "weak": T1 = 3/5 = 0.6, EMAR 0.5; "strong": T1 = 0.8, EMAR 1. Spec order is weak, strong.
  const auto req = Request("accuracy", "accuracy", {"weak", "strong"});
  const AssembledResults r = Results(req, {kT0, {1, 1, 1, 0, 0}, kT1}, {kB0, kB1, kB1});
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, r, {}));
  ASSERT_EQ(report.candidates_size(), 2);
  EXPECT_EQ(report.candidates(0).name(), "weak");
  EXPECT_EQ(report.candidates(1).name(), "strong");
  EXPECT_THAT(report.candidates(0).emar().value(), DoubleNear(0.5, 1e-9));
  EXPECT_THAT(report.candidates(1).emar().value(), DoubleNear(1.0, 1e-9));
  EXPECT_EQ(report.candidates(0).rank(), 2);
  EXPECT_EQ(report.candidates(1).rank(), 1);
  ASSERT_EQ(report.pairwise_size(), 1);
  const emar::v1::PairwiseComparison& p = report.pairwise(0);
  EXPECT_EQ(p.a(), "weak");
  EXPECT_EQ(p.b(), "strong");
  EXPECT_THAT(p.emar_difference(), DoubleNear(-0.5, 1e-9));
  ASSERT_TRUE(p.has_p_value());
  ASSERT_TRUE(p.has_p_value_holm());
  EXPECT_DOUBLE_EQ(p.p_value_holm(), p.p_value());  // one pair: Holm changes nothing
  EXPECT_GE(p.p_value(), 0.0);
  EXPECT_LE(p.p_value(), 1.0);
}

TEST(BuildReportTest, SameInputsGiveByteIdenticalReports) {
  emar::v1::GateSpec gates;
  gates.set_min_emar(0.1);
  // token_f1 rows are arbitrary fractions, so the bootstrap draws examples one by one.
  const auto req = Request("token_f1", "accuracy", {"a", "b"}, "", gates);
  auto results = [&] {
    return Results(req,
                   {{0.1, 0.5, 0.25, 0.9, 0.0, 0.3},
                    {0.2, 0.5, 0.5, 1.0, 0.1, 0.2},
                    {0.6, 0.4, 0.3, 0.8, 0.5, 0.7}},
                   {kB0, kB1, {1, 0, 1, 1}});
  };
  const AssembledResults first_results = results();
  const AssembledResults second_results = results();
  auto inputs = [&] { return DescribeInputs(req); };
  ASSERT_OK_AND_ASSIGN(emar::v1::Report first, BuildReport("j", req, first_results, inputs()));
  ASSERT_OK_AND_ASSIGN(emar::v1::Report second, BuildReport("j", req, second_results, inputs()));
  ASSERT_OK_AND_ASSIGN(emar::v1::Report again, BuildReport("j", req, first_results, inputs()));
  std::string a, b, c;
  ASSERT_TRUE(first.SerializeToString(&a));
  ASSERT_TRUE(second.SerializeToString(&b));
  ASSERT_TRUE(again.SerializeToString(&c));
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_TRUE(first.candidates(0).target().delta().has_ci_low());
}

// --- Gates ---------------------------------------------------------------------------------
//
// Constant token_f1 rows: T0 = 0.5, T1 = 0.75, B0 = 0.75, B1 = 0.5 in every resample (all
// dyadic, so exact in binary). dT = 0.25, dB = -0.25, EMAR (relative gain) = 0.25 / 0.5 = 0.5,
// and every interval is [value, value].

emar::v1::Report GateReport(const emar::v1::GateSpec& gates) {
  const auto req = Request("token_f1", "token_f1", {"ft"}, "", gates);
  const AssembledResults r =
      Results(req, {Constant({0.5}), Constant({0.75})}, {Constant({0.75}), Constant({0.5})});
  absl::StatusOr<emar::v1::Report> report = BuildReport("j", req, r, {});
  EXPECT_OK(report.status());
  return report.value_or(emar::v1::Report());
}

TEST(BuildReportGateTest, NoGatesPass) {
  const emar::v1::Report report = GateReport({});
  ASSERT_EQ(report.candidates_size(), 1);
  EXPECT_EQ(report.candidates(0).gates_size(), 0);
  EXPECT_TRUE(report.candidates(0).gates_passed());
  EXPECT_TRUE(report.gates_passed());
}

TEST(BuildReportGateTest, MinEmarPassesWhenLowerBoundEqualsThreshold) {
  emar::v1::GateSpec gates;
  gates.set_min_emar(0.5);
  const emar::v1::Report report = GateReport(gates);
  const emar::v1::CandidateReport& c = report.candidates(0);
  EXPECT_EQ(c.emar().value(), 0.5);
  EXPECT_EQ(c.emar().ci_low(), 0.5);
  ASSERT_EQ(c.gates_size(), 1);
  const emar::v1::GateResult& g = c.gates(0);
  EXPECT_EQ(g.gate(), "min_emar");
  EXPECT_EQ(g.threshold(), 0.5);
  EXPECT_EQ(g.bound(), "emar.ci_low");
  EXPECT_EQ(g.bound_value(), 0.5);
  EXPECT_TRUE(g.passed()) << g.detail();
  EXPECT_THAT(g.detail(), HasSubstr("emar.ci_low = 0.5 >= 0.5"));
  EXPECT_THAT(g.detail(), Not(HasSubstr("false")));
  EXPECT_TRUE(c.gates_passed());
  EXPECT_TRUE(report.gates_passed());
}

TEST(BuildReportGateTest, MinEmarFailsWhenLowerBoundIsBelowThreshold) {
  emar::v1::GateSpec gates;
  gates.set_min_emar(0.5001);
  const emar::v1::Report report = GateReport(gates);
  const emar::v1::CandidateReport& c = report.candidates(0);
  ASSERT_EQ(c.gates_size(), 1);
  EXPECT_EQ(c.gates(0).gate(), "min_emar");
  EXPECT_FALSE(c.gates(0).passed());
  EXPECT_EQ(c.gates(0).bound_value(), 0.5);
  EXPECT_THAT(c.gates(0).detail(), HasSubstr("is false"));
  EXPECT_FALSE(c.gates_passed());
  EXPECT_FALSE(report.gates_passed());
}

TEST(BuildReportGateTest, MinTargetGainPassesWhenLowerBoundEqualsThreshold) {
  emar::v1::GateSpec gates;
  gates.set_min_target_gain(0.25);
  const emar::v1::Report report = GateReport(gates);
  const emar::v1::CandidateReport& c = report.candidates(0);
  ASSERT_EQ(c.gates_size(), 1);
  const emar::v1::GateResult& g = c.gates(0);
  EXPECT_EQ(g.gate(), "min_target_gain");
  EXPECT_EQ(g.bound(), "target.delta.ci_low");
  EXPECT_EQ(g.bound_value(), 0.25);
  EXPECT_TRUE(g.passed()) << g.detail();
  EXPECT_TRUE(report.gates_passed());
}

TEST(BuildReportGateTest, MinTargetGainFailsWhenLowerBoundIsBelowThreshold) {
  emar::v1::GateSpec gates;
  gates.set_min_target_gain(0.3);
  const emar::v1::Report report = GateReport(gates);
  const emar::v1::GateResult& g = report.candidates(0).gates(0);
  EXPECT_EQ(g.gate(), "min_target_gain");
  EXPECT_FALSE(g.passed());
  EXPECT_THAT(g.detail(), HasSubstr("is false"));
  EXPECT_FALSE(report.candidates(0).gates_passed());
  EXPECT_FALSE(report.gates_passed());
}

TEST(BuildReportGateTest, MaxBenchmarkRegressionPassesWhenRegressionEqualsAllowance) {
  emar::v1::GateSpec gates;
  gates.set_max_benchmark_regression(0.25);  // dB lower bound -0.25 >= -0.25
  const emar::v1::Report report = GateReport(gates);
  const emar::v1::GateResult& g = report.candidates(0).gates(0);
  EXPECT_EQ(g.gate(), "max_benchmark_regression");
  EXPECT_EQ(g.threshold(), 0.25);
  EXPECT_EQ(g.bound(), "benchmark.delta.ci_low");
  EXPECT_EQ(g.bound_value(), -0.25);
  EXPECT_TRUE(g.passed()) << g.detail();
  EXPECT_THAT(g.detail(), HasSubstr(">= -0.25"));
  EXPECT_TRUE(report.gates_passed());
}

TEST(BuildReportGateTest, MaxBenchmarkRegressionFailsWhenRegressionExceedsAllowance) {
  emar::v1::GateSpec gates;
  gates.set_max_benchmark_regression(0.2);
  const emar::v1::Report report = GateReport(gates);
  const emar::v1::GateResult& g = report.candidates(0).gates(0);
  EXPECT_EQ(g.gate(), "max_benchmark_regression");
  EXPECT_FALSE(g.passed());
  EXPECT_THAT(g.detail(), HasSubstr("is false"));
  EXPECT_FALSE(report.gates_passed());
}

TEST(BuildReportGateTest, AllGatesAreReportedAndOneFailureFailsTheCandidate) {
  emar::v1::GateSpec gates;
  gates.set_min_emar(0.4);                  // passes
  gates.set_min_target_gain(0.1);           // passes
  gates.set_max_benchmark_regression(0.1);  // fails: dB = -0.25
  const emar::v1::Report report = GateReport(gates);
  const emar::v1::CandidateReport& c = report.candidates(0);
  ASSERT_EQ(c.gates_size(), 3);
  EXPECT_EQ(c.gates(0).gate(), "min_emar");
  EXPECT_TRUE(c.gates(0).passed());
  EXPECT_EQ(c.gates(1).gate(), "min_target_gain");
  EXPECT_TRUE(c.gates(1).passed());
  EXPECT_EQ(c.gates(2).gate(), "max_benchmark_regression");
  EXPECT_FALSE(c.gates(2).passed());
  EXPECT_FALSE(c.gates_passed());
  EXPECT_FALSE(report.gates_passed());
}

TEST(BuildReportGateTest, OneFailingCandidateFailsTheReportButNotTheOther) {
  emar::v1::GateSpec gates;
  gates.set_min_target_gain(0.2);
  const auto req = Request("token_f1", "token_f1", {"good", "bad"}, "", gates);
  // good: dT = 0.25; bad: dT = 0.
  const AssembledResults r = Results(req, {Constant({0.5}), Constant({0.75}), Constant({0.5})},
                                     {Constant({0.75}), Constant({0.75}), Constant({0.75})});
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, r, {}));
  EXPECT_TRUE(report.candidates(0).gates_passed());
  EXPECT_FALSE(report.candidates(1).gates_passed());
  EXPECT_FALSE(report.gates_passed());
}

// Perplexity rows {Σ log p, tokens, -inf tokens}: a row {-2, 1, 0} repeated has perplexity e^2,
// {-1, 1, 0} e^1 (lower is better). Target improves by e - e^2 = -4.67; benchmark regresses by
// e^2 - e = +4.67.
emar::v1::Report PerplexityGateReport(const emar::v1::GateSpec& gates) {
  const auto req = Request("perplexity", "perplexity", {"ft"}, "(T0 - T1) / T0", gates);
  const AssembledResults r = Results(req, {Constant({-2, 1, 0}), Constant({-1, 1, 0})},
                                     {Constant({-1, 1, 0}), Constant({-2, 1, 0})});
  absl::StatusOr<emar::v1::Report> report = BuildReport("j", req, r, {});
  EXPECT_OK(report.status());
  return report.value_or(emar::v1::Report());
}

const double kPerplexityGain = std::exp(2.0) - std::exp(1.0);  // 4.6708...

TEST(BuildReportGateTest, LowerIsBetterTargetGainComparesUpperBoundOfNegatedDelta) {
  emar::v1::GateSpec pass;
  pass.set_min_target_gain(4.6);  // dT upper bound -4.67 <= -4.6
  const emar::v1::Report passed = PerplexityGateReport(pass);
  const emar::v1::CandidateReport& c = passed.candidates(0);
  EXPECT_EQ(c.target().direction(), "lower_is_better");
  EXPECT_THAT(c.target().delta().value(), DoubleNear(-kPerplexityGain, 1e-9));
  ASSERT_EQ(c.gates_size(), 1);
  EXPECT_EQ(c.gates(0).gate(), "min_target_gain");
  EXPECT_EQ(c.gates(0).bound(), "target.delta.ci_high");
  EXPECT_THAT(c.gates(0).bound_value(), DoubleNear(-kPerplexityGain, 1e-9));
  EXPECT_TRUE(c.gates(0).passed()) << c.gates(0).detail();
  EXPECT_THAT(c.gates(0).detail(), HasSubstr("<= -4.6"));

  emar::v1::GateSpec fail;
  fail.set_min_target_gain(4.7);
  const emar::v1::Report failed = PerplexityGateReport(fail);
  EXPECT_EQ(failed.candidates(0).gates(0).bound(), "target.delta.ci_high");
  EXPECT_FALSE(failed.candidates(0).gates(0).passed());
  EXPECT_FALSE(failed.gates_passed());
}

TEST(BuildReportGateTest, LowerIsBetterBenchmarkRegressionComparesUpperBound) {
  emar::v1::GateSpec pass;
  pass.set_max_benchmark_regression(4.7);  // dB upper bound 4.67 <= 4.7
  const emar::v1::Report passed = PerplexityGateReport(pass);
  const emar::v1::CandidateReport& c = passed.candidates(0);
  EXPECT_THAT(c.benchmark().delta().value(), DoubleNear(kPerplexityGain, 1e-9));
  ASSERT_EQ(c.gates_size(), 1);
  EXPECT_EQ(c.gates(0).gate(), "max_benchmark_regression");
  EXPECT_EQ(c.gates(0).bound(), "benchmark.delta.ci_high");
  EXPECT_THAT(c.gates(0).bound_value(), DoubleNear(kPerplexityGain, 1e-9));
  EXPECT_TRUE(c.gates(0).passed()) << c.gates(0).detail();

  emar::v1::GateSpec fail;
  fail.set_max_benchmark_regression(4.6);
  const emar::v1::Report failed = PerplexityGateReport(fail);
  EXPECT_FALSE(failed.candidates(0).gates(0).passed());
  EXPECT_THAT(failed.candidates(0).gates(0).detail(), HasSubstr("is false"));
  EXPECT_FALSE(failed.gates_passed());
}

TEST(BuildReportGateTest, UndefinedEmarFailsMinEmarWhateverTheThreshold) {
  emar::v1::GateSpec gates;
  gates.set_min_emar(-1e9);
  // T0 = 0, so the relative gain divides by zero on the full data and in every resample.
  const auto req = Request("token_f1", "token_f1", {"ft"}, "", gates);
  const AssembledResults r =
      Results(req, {Constant({0}), Constant({0.5})}, {Constant({0.5}), Constant({0.5})});
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, r, {}));
  const emar::v1::CandidateReport& c = report.candidates(0);
  EXPECT_FALSE(c.emar().has_value());
  EXPECT_FALSE(c.emar().undefined_reason().empty());
  EXPECT_FALSE(c.emar().has_ci_low());
  EXPECT_EQ(c.emar().undefined_resamples(), 1000);
  ASSERT_EQ(c.gates_size(), 1);
  const emar::v1::GateResult& g = c.gates(0);
  EXPECT_EQ(g.bound(), "emar.ci_low");
  EXPECT_FALSE(g.has_bound_value());
  EXPECT_FALSE(g.passed());
  EXPECT_THAT(g.detail(), HasSubstr("emar.ci_low is undefined"));
  EXPECT_FALSE(report.gates_passed());
}

TEST(BuildReportGateTest, UndefinedDeltaFailsTargetAndBenchmarkGates) {
  emar::v1::GateSpec gates;
  gates.set_min_target_gain(-1e9);
  gates.set_max_benchmark_regression(1e9);
  // A -inf token log-prob in every base row: the base perplexity is undefined on both datasets.
  const auto req = Request("perplexity", "perplexity", {"ft"}, "T1 - T0", gates);
  const AssembledResults r = Results(req, {Constant({0, 1, 1}), Constant({-1, 1, 0})},
                                     {Constant({0, 1, 1}), Constant({-1, 1, 0})});
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, r, {}));
  const emar::v1::CandidateReport& c = report.candidates(0);
  EXPECT_FALSE(c.target().base().has_value());
  EXPECT_THAT(c.target().delta().undefined_reason(), HasSubstr("base score is undefined"));
  EXPECT_FALSE(c.target().delta().has_ci_high());
  EXPECT_FALSE(c.emar().has_value());
  ASSERT_EQ(c.gates_size(), 2);
  EXPECT_EQ(c.gates(0).bound(), "target.delta.ci_high");
  EXPECT_FALSE(c.gates(0).passed());
  EXPECT_FALSE(c.gates(0).has_bound_value());
  EXPECT_THAT(c.gates(0).detail(), HasSubstr("target.delta.ci_high is undefined"));
  EXPECT_EQ(c.gates(1).bound(), "benchmark.delta.ci_high");
  EXPECT_FALSE(c.gates(1).passed());
  EXPECT_THAT(c.gates(1).detail(), HasSubstr("is undefined"));
  EXPECT_FALSE(report.gates_passed());
}

// --- Provenance ----------------------------------------------------------------------------

TEST(DescribeInputsTest, ListsEveryInputInSpecOrderWithItsDigest) {
  emar::v1::CreateJobRequest req = Request("accuracy", "accuracy", {"lora", "full"});
  auto& digests = *req.mutable_input_digests();
  digests["t_refs.jsonl"] = "sha-t";
  digests["b_refs.jsonl"] = "sha-b";
  digests["base_t.jsonl"] = "sha-base-t";
  digests["base_b.jsonl"] = "sha-base-b";
  digests["lora_t.jsonl"] = "sha-lora-t";
  digests["lora_b.jsonl"] = "sha-lora-b";
  digests["full_t.jsonl"] = "sha-full-t";
  // full_b.jsonl has no digest: listed with an empty sha256.
  const std::vector<emar::v1::InputFile> inputs = DescribeInputs(req);
  const std::vector<std::vector<std::string>> want = {
      {"target.references", "t_refs.jsonl", "sha-t"},
      {"benchmark.references", "b_refs.jsonl", "sha-b"},
      {"base.target_outputs", "base_t.jsonl", "sha-base-t"},
      {"base.benchmark_outputs", "base_b.jsonl", "sha-base-b"},
      {"lora.target_outputs", "lora_t.jsonl", "sha-lora-t"},
      {"lora.benchmark_outputs", "lora_b.jsonl", "sha-lora-b"},
      {"full.target_outputs", "full_t.jsonl", "sha-full-t"},
      {"full.benchmark_outputs", "full_b.jsonl", ""},
  };
  ASSERT_EQ(inputs.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(inputs[i].role(), want[i][0]) << i;
    EXPECT_EQ(inputs[i].path_or_name(), want[i][1]) << i;
    EXPECT_EQ(inputs[i].sha256(), want[i][2]) << i;
    EXPECT_EQ(inputs[i].size_bytes(), 0) << i;
  }
}

TEST(DescribeInputsTest, BuildReportCopiesInputsIntoProvenance) {
  emar::v1::CreateJobRequest req = Request("accuracy", "accuracy", {"ft"});
  (*req.mutable_input_digests())["t_refs.jsonl"] = "sha-t";
  std::vector<emar::v1::InputFile> inputs = DescribeInputs(req);
  inputs[0].set_size_bytes(123);
  const AssembledResults r = Results(req, {kT0, kT1}, {kB0, kB1});
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, r, inputs));
  ASSERT_EQ(report.provenance().inputs_size(), 6);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(report.provenance().inputs(i).SerializeAsString(), inputs[i].SerializeAsString());
  }
  EXPECT_EQ(report.provenance().inputs(0).size_bytes(), 123);
  EXPECT_EQ(report.provenance().version(), "emar-0.1.0");
}

}  // namespace
}  // namespace emar
