// BuildReport on a suite: weighted aggregates, an entry per (dataset, metric), Holm's p for the
// benchmarks, per-dataset gates with overrides, max_suite_regression, and a formula reading a
// dataset's own scores. Rows are constant per model (token_f1 values), so every resample has the
// full-data scores and gate bounds equal the point values.
#include <string>
#include <utility>
#include <vector>

#include "common/status_matchers.h"
#include "eval/job/job_defaults.h"
#include "eval/job/suite.h"
#include "eval/metrics/metric_registry.h"
#include "server/report_builder.h"

namespace emar {
namespace {

using ::testing::DoubleNear;
using ::testing::HasSubstr;

constexpr double kEps = 1e-9;

emar::v1::DatasetSpec* Add(emar::v1::JobSpec& s, bool target, const std::string& name,
                           std::vector<std::string> metrics) {
  emar::v1::DatasetSpec* d = target ? s.add_targets() : s.add_benchmarks();
  d->set_name(name);
  d->set_references(name + ".jsonl");
  for (const std::string& m : metrics) d->add_metrics()->set_name(m);
  for (emar::v1::ModelSpec* m : {s.mutable_base(), s.mutable_candidates(0)}) {
    (*m->mutable_outputs())[name] = m->name() + "." + name + ".jsonl";
  }
  return d;
}

// tickets (token_f1, exact_match) -> mmlu (token_f1), gsm8k (token_f1, weight 3, its own
// max_benchmark_regression 0.1).
emar::v1::CreateJobRequest Request(const std::string& formula = "") {
  emar::v1::CreateJobRequest req;
  emar::v1::JobSpec& s = *req.mutable_spec();
  s.set_name("suite");
  s.mutable_base()->set_name("base");
  s.add_candidates()->set_name("ft");
  Add(s, true, "tickets", {"token_f1", "exact_match"});
  Add(s, false, "mmlu", {"token_f1"});
  emar::v1::DatasetSpec* gsm = Add(s, false, "gsm8k", {"token_f1"});
  gsm->set_weight(3);
  gsm->mutable_gates()->set_max_benchmark_regression(0.1);
  s.set_formula(formula);
  s.mutable_bootstrap()->set_resamples(200);
  emar::v1::GateSpec& g = *s.mutable_gates();
  g.set_min_emar(0.4);
  g.set_min_target_gain(0.2);
  g.set_max_benchmark_regression(0.05);
  g.set_max_suite_regression(0.05);
  ApplyJobDefaults(s);
  return req;
}

DatasetResults Entry(const SuiteDataset& d, int m, std::vector<std::vector<double>> systems) {
  DatasetResults r;
  r.spec = d.spec;
  r.dataset = d.index;
  r.metric_index = m;
  r.metric_spec = d.metrics[static_cast<size_t>(m)];
  r.metric = *MakeMetric(r.metric_spec.name());
  r.n = systems[0].size();
  r.systems = std::move(systems);
  return r;
}

std::vector<double> Constant(double v, size_t n = 4) { return std::vector<double>(n, v); }

// T0 = 0.5, T1 = 0.75; mmlu 0.8 -> 0.78; gsm8k 0.6 -> 0.52, so B0 = (0.8 + 3 * 0.6) / 4 = 0.65,
// B1 = (0.78 + 3 * 0.52) / 4 = 0.585.
AssembledResults Results(const emar::v1::CreateJobRequest& req) {
  const std::vector<SuiteDataset> d = SuiteDatasets(req.spec());
  AssembledResults r;
  r.results.push_back(Entry(d[0], 0, {Constant(0.5), Constant(0.75)}));
  r.results.push_back(Entry(d[0], 1, {{1, 0, 1, 0}, {1, 1, 1, 0}}));
  r.results.push_back(Entry(d[1], 0, {Constant(0.8), Constant(0.78)}));
  r.results.push_back(Entry(d[2], 0, {Constant(0.6), Constant(0.52)}));
  return r;
}

const emar::v1::GateResult* Gate(const emar::v1::CandidateReport& c, const std::string& gate,
                                 const std::string& dataset) {
  for (const auto& g : c.gates()) {
    if (g.gate() == gate && g.dataset() == dataset) return &g;
  }
  return nullptr;
}

TEST(SuiteReportTest, AggregatesAreWeightedMeansOfThePrimaryScores) {
  const auto req = Request();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, Results(req), {}));
  const emar::v1::CandidateReport& c = report.candidates(0);
  EXPECT_EQ(c.target().dataset(), "tickets");  // one target: the dataset itself
  EXPECT_EQ(c.target().metric(), "token_f1");
  EXPECT_THAT(c.target().delta().value(), DoubleNear(0.25, kEps));
  EXPECT_EQ(c.benchmark().dataset(), "weighted mean of 2 benchmarks");
  EXPECT_EQ(c.benchmark().metric(), "token_f1");
  EXPECT_EQ(c.benchmark().n(), 8);
  EXPECT_THAT(c.benchmark().base().value(), DoubleNear(0.65, kEps));
  EXPECT_THAT(c.benchmark().candidate().value(), DoubleNear(0.585, kEps));
  EXPECT_THAT(c.benchmark().delta().value(), DoubleNear(-0.065, kEps));
  EXPECT_THAT(c.benchmark().delta().ci_low(), DoubleNear(-0.065, kEps));
  EXPECT_EQ(c.benchmark().delta().test(), "paired_bootstrap");
  EXPECT_THAT(c.emar().value(), DoubleNear(0.5, kEps));  // relative_gain on the aggregates
}

TEST(SuiteReportTest, EveryDatasetAndMetricHasItsEntryAndBenchmarksTheirHolmP) {
  const auto req = Request();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, Results(req), {}));
  const emar::v1::CandidateReport& c = report.candidates(0);
  ASSERT_EQ(c.datasets_size(), 4);
  const auto& em = c.datasets(1);
  EXPECT_EQ(em.dataset(), "tickets");
  EXPECT_EQ(em.metric(), "exact_match");
  EXPECT_EQ(em.role(), "target");
  EXPECT_FALSE(em.primary());
  EXPECT_EQ(em.weight(), 0);
  EXPECT_THAT(em.delta().value(), DoubleNear(0.25, kEps));
  EXPECT_EQ(em.delta().test(), "mcnemar_exact");
  EXPECT_FALSE(c.datasets(0).delta().has_p_value_holm());
  const auto& gsm = c.datasets(3);
  EXPECT_EQ(gsm.dataset(), "gsm8k");
  EXPECT_EQ(gsm.role(), "benchmark");
  EXPECT_TRUE(gsm.primary());
  EXPECT_EQ(gsm.weight(), 3);
  EXPECT_THAT(gsm.delta().value(), DoubleNear(-0.08, kEps));
  for (int k : {2, 3}) {
    ASSERT_TRUE(c.datasets(k).delta().has_p_value_holm());
    EXPECT_GE(c.datasets(k).delta().p_value_holm(), c.datasets(k).delta().p_value());
  }
}

TEST(SuiteReportTest, EachDatasetPassesItsOwnGateAndTheSuiteItsAggregateBound) {
  const auto req = Request();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, Results(req), {}));
  const emar::v1::CandidateReport& c = report.candidates(0);
  const emar::v1::GateResult* mmlu = Gate(c, "max_benchmark_regression", "mmlu");
  ASSERT_NE(mmlu, nullptr);
  EXPECT_EQ(mmlu->threshold(), 0.05);
  EXPECT_EQ(mmlu->bound(), "mmlu.delta.ci_low");
  EXPECT_TRUE(mmlu->passed());
  // gsm8k's -0.08 would fail the job's 0.05; its own 0.1 lets it pass.
  const emar::v1::GateResult* gsm = Gate(c, "max_benchmark_regression", "gsm8k");
  ASSERT_NE(gsm, nullptr);
  EXPECT_EQ(gsm->threshold(), 0.1);
  EXPECT_TRUE(gsm->passed());
  const emar::v1::GateResult* tickets = Gate(c, "min_target_gain", "tickets");
  ASSERT_NE(tickets, nullptr);
  EXPECT_TRUE(tickets->passed());
  // The aggregate lost 0.065 > 0.05: the suite gate fails, and with it the candidate.
  const emar::v1::GateResult* suite = Gate(c, "max_suite_regression", "");
  ASSERT_NE(suite, nullptr);
  EXPECT_EQ(suite->bound(), "benchmark.delta.ci_low");
  EXPECT_FALSE(suite->passed());
  EXPECT_FALSE(c.gates_passed());
  EXPECT_FALSE(report.gates_passed());
  EXPECT_EQ(c.gates_size(), 5);  // min_emar, tickets, mmlu, gsm8k, suite

  // Without the override gsm8k fails the job's bound.
  auto strict = Request();
  strict.mutable_spec()->mutable_benchmarks(1)->clear_gates();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report r2, BuildReport("j", strict, Results(strict), {}));
  EXPECT_FALSE(Gate(r2.candidates(0), "max_benchmark_regression", "gsm8k")->passed());
}

TEST(SuiteReportTest, AFormulaReadsADatasetsOwnScores) {
  const auto req = Request("dT + dB[gsm8k] + 0 * T0[tickets]");
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, BuildReport("j", req, Results(req), {}));
  const emar::v1::Estimate& e = report.candidates(0).emar();
  ASSERT_TRUE(e.has_value()) << e.undefined_reason();
  EXPECT_THAT(e.value(), DoubleNear(0.25 - 0.08, kEps));
  EXPECT_THAT(e.ci_low(), DoubleNear(0.17, kEps));

  const auto unknown = Request("dT + dB[arc]");
  EXPECT_THAT(BuildReport("j", unknown, Results(unknown), {}).status().message(),
              HasSubstr("formula names dataset 'arc'"));
}

}  // namespace
}  // namespace emar
