#include "client/report_document.h"

#include <tuple>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/count_matches.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

emar::v1::Report TwoCandidates() {
  emar::v1::Report r;
  r.set_job_id("job-1");
  r.set_name("tune <r8> & r16");
  r.mutable_formula()->set_name("relative_gain");
  r.mutable_formula()->set_expression("(T1 - T0) / T0");
  r.mutable_provenance()->set_version("emar-test");
  for (auto [name, rank, emar] : {std::tuple{"a|b", 2, 0.1}, std::tuple{"best", 1, 0.3}}) {
    auto* c = r.add_candidates();
    c->set_name(name);
    c->set_rank(rank);
    c->mutable_emar()->set_value(emar);
    c->mutable_emar()->set_ci_low(emar - 0.05);
    c->mutable_emar()->set_ci_high(emar + 0.05);
    c->mutable_target()->set_dataset("t");
    c->mutable_target()->mutable_delta()->set_value(0.15);
    c->mutable_target()->mutable_delta()->set_p_value(0.001);
    c->mutable_target()->mutable_delta()->set_test("mcnemar_exact");
    c->mutable_benchmark()->set_dataset("b");
    c->mutable_benchmark()->mutable_delta()->set_undefined_reason("the base score is undefined");
    auto* g = c->add_gates();
    g->set_gate("min_emar");
    g->set_threshold(0.2);
    g->set_bound("emar.ci_low");
    g->set_bound_value(emar - 0.05);
    g->set_passed(emar - 0.05 >= 0.2);
    c->set_gates_passed(g->passed());
  }
  return r;
}

TEST(ReportDocumentTest, MarkdownRanksCandidatesAndEscapesPipes) {
  const std::string md = ReportToMarkdown(TwoCandidates());
  EXPECT_THAT(md, HasSubstr("# EMAR report: tune <r8> & r16"));
  EXPECT_THAT(md,
              HasSubstr("| 1 | best | 0.3000 | [0.2500, 0.3500] | +0.1500 | undefined | pass |"));
  EXPECT_THAT(md, HasSubstr("| 2 | a\\|b | 0.1000 |"));  // a '|' in a name must not split the cell
  EXPECT_LT(md.find("## best"), md.find("## a\\|b"));    // sections in rank order
  EXPECT_THAT(md, HasSubstr("0.001 (mcnemar_exact)"));
  EXPECT_THAT(md, HasSubstr("| min_emar | 0.2 | emar.ci_low | 0.0500 | FAIL |"));
}

TEST(ReportDocumentTest, HtmlIsEscapedAndMarksFailures) {
  const std::string html = ReportToHtml(TwoCandidates());
  EXPECT_THAT(html, HasSubstr("<h1>EMAR report: tune &lt;r8&gt; &amp; r16</h1>"));
  EXPECT_THAT(html, Not(HasSubstr("<r8>")));
  EXPECT_THAT(html, HasSubstr("<td class=\"fail\">FAIL</td>"));
  EXPECT_THAT(html, HasSubstr("<td>best</td>"));
  EXPECT_THAT(html, HasSubstr("</html>"));
}

// Charts drawn from the report's own numbers, a page that loads nothing, the
// pairwise table in both forms.
TEST(ReportDocumentTest, HtmlHasChartsOfTheReportsNumbersAndLoadsNothing) {
  emar::v1::Report r = TwoCandidates();
  auto* p = r.add_pairwise();
  p->set_a("best");
  p->set_b("a|b");
  p->set_emar_difference(0.2);
  p->set_p_value(0.004);
  p->set_p_value_holm(0.008);
  p->set_test("paired_bootstrap");
  const std::string html = ReportToHtml(r);
  EXPECT_THAT(html, HasSubstr("Content-Security-Policy"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://www.w3.org/1999")));  // no external stylesheet etc.
  EXPECT_EQ(Count(html, "<svg"),
            2u + 2u * 2u);  // EMAR and deltas, then T0 T1 and B0 B1 per candidate
  EXPECT_THAT(html, HasSubstr(">0.3000 [0.2500, 0.3500]</text>"));  // best's EMAR, as drawn
  EXPECT_THAT(html, HasSubstr(">min_emar 0.2</text>"));             // the gate's threshold
  EXPECT_THAT(html, HasSubstr(">undefined: the base score is undefined</text>"));
  EXPECT_THAT(html, HasSubstr("<h2>Pairwise comparisons</h2>"));
  EXPECT_THAT(html, HasSubstr("<td>+0.2000</td><td>0.004</td><td>0.008</td>"));
  const std::string md = ReportToMarkdown(r);
  EXPECT_THAT(md, HasSubstr("| best | a\\|b | +0.2000 | 0.004 | 0.008 | paired_bootstrap |"));
  EXPECT_THAT(md, Not(HasSubstr("<svg")));
}

TEST(ReportDocumentTest, UndefinedQuantitiesSayWhyAndDrawNothing) {
  const emar::v1::Report r = TwoCandidates();
  const std::string md = ReportToMarkdown(r);
  EXPECT_THAT(md, HasSubstr("- benchmark Δ undefined: the base score is undefined\n"));
  EXPECT_THAT(md, HasSubstr("- target base score (T0) undefined\n"));  // no reason given
  const std::string html = ReportToHtml(r);
  EXPECT_THAT(html, HasSubstr("<li>benchmark Δ undefined: the base score is undefined</li>"));
  // The deltas chart: two target deltas drawn, the benchmark deltas noted across their rows.
  const size_t deltas = html.find("aria-label=\"Gained on the target");
  const std::string chart = html.substr(deltas, html.find("</svg>", deltas) - deltas);
  size_t dots = 0;
  for (size_t at = chart.find("<circle"); at != std::string::npos;
       at = chart.find("<circle", at + 1))
    ++dots;
  EXPECT_EQ(dots, 2u);
  EXPECT_THAT(chart, HasSubstr("fill=\"#a00\">undefined: the base score is undefined</text>"));
}

TEST(ReportDocumentTest, DeltaChartDrawsGateThresholdsWhereTheirBoundsAreCompared) {
  emar::v1::Report r = TwoCandidates();
  for (auto& c : *r.mutable_candidates()) {
    auto* g = c.add_gates();
    g->set_gate("max_benchmark_regression");
    g->set_threshold(0.02);
    g = c.add_gates();
    g->set_gate("min_target_gain");
    g->set_threshold(0.05);
  }
  const std::string html = ReportToHtml(r);
  const size_t deltas = html.find("aria-label=\"Gained on the target");
  ASSERT_NE(deltas, std::string::npos);
  const std::string chart = html.substr(deltas, html.find("</svg>", deltas) - deltas);
  EXPECT_THAT(chart, HasSubstr(">max_benchmark_regression -0.02</text>"));  // dB >= -x
  EXPECT_THAT(chart, HasSubstr(">min_target_gain 0.05</text>"));            // dT >= +x
  EXPECT_THAT(chart, HasSubstr(">no change</text>"));
  // Each distinct threshold once, though both candidates carry it.
  EXPECT_EQ(chart.find(">min_target_gain 0.05</text>"),
            chart.rfind(">min_target_gain 0.05</text>"));
  // Intervals in table cells stay on one line.
  EXPECT_THAT(html, HasSubstr("<td><span class=\"ci\">[0.2500, 0.3500]</span></td>"));
}

// A job of one target and one benchmark carries both as `datasets` entries too: its pages stay
// byte for byte what they were without them.
// Phones: a viewport tag, every table in a box that scrolls sideways, a dark theme. An exact
// test's p-value that underflowed to 0 reads "p<1e-300" on every page and in the text form.
TEST(ReportDocumentTest, PagesFitPhonesAndAnUnderflowingPValueIsNotZero) {
  emar::v1::Report r = TwoCandidates();
  r.mutable_candidates(0)->mutable_target()->mutable_delta()->set_p_value(0);
  const std::string html = ReportToHtml(r);
  EXPECT_THAT(html, HasSubstr("<meta name=\"viewport\" content=\"width=device-width, "
                              "initial-scale=1\">"));
  EXPECT_THAT(html, HasSubstr("@media (prefers-color-scheme:dark)"));
  EXPECT_GT(Count(html, "<table>"), 2);
  EXPECT_EQ(Count(html, "<table>"), Count(html, "<div class=\"scroll\">\n<table>"));
  EXPECT_THAT(html, HasSubstr("p&lt;1e-300"));
  EXPECT_THAT(html, Not(HasSubstr("p=0 ")));
  EXPECT_THAT(ReportToMarkdown(r), HasSubstr("<1e-300 (mcnemar_exact)"));
  EXPECT_EQ(PValueText(0, 4), "<1e-300");
  EXPECT_EQ(PValueText(4e-301, 4), "<1e-300");
  EXPECT_EQ(PValueText(3.1514e-53, 4), "3.151e-53");
  EXPECT_EQ(PValueEquals(1, 3), "=1");
}

TEST(ReportDocumentTest, OneTargetAndOneBenchmarkKeepTheirPages) {
  const emar::v1::Report plain = TwoCandidates();
  emar::v1::Report with_entries = plain;
  for (auto& c : *with_entries.mutable_candidates()) {
    for (const auto* d : {&c.target(), &c.benchmark()}) {
      emar::v1::DatasetComparison* e = c.add_datasets();
      *e = *d;
      e->set_role(d == &c.target() ? "target" : "benchmark");
      e->set_primary(true);
      e->set_weight(1);
    }
  }
  EXPECT_EQ(ReportToHtml(with_entries), ReportToHtml(plain));
  EXPECT_EQ(ReportToMarkdown(with_entries), ReportToMarkdown(plain));
}

emar::v1::DatasetComparison* AddDataset(emar::v1::CandidateReport* c, const std::string& role,
                                        const std::string& name, const std::string& metric,
                                        bool primary, double delta) {
  emar::v1::DatasetComparison* d = c->add_datasets();
  d->set_role(role);
  d->set_dataset(name);
  d->set_metric(metric);
  d->set_primary(primary);
  d->set_weight(primary ? (name == "gsm8k" ? 2 : 1) : 0);
  d->set_n(100);
  d->mutable_base()->set_value(0.5);
  d->mutable_candidate()->set_value(0.5 + delta);
  d->mutable_delta()->set_value(delta);
  d->mutable_delta()->set_ci_low(delta - 0.01);
  d->mutable_delta()->set_ci_high(delta + 0.01);
  d->mutable_delta()->set_p_value(0.02);
  d->mutable_delta()->set_test("mcnemar_exact");
  if (role == "benchmark" && primary) d->mutable_delta()->set_p_value_holm(0.04);
  return d;
}

void AddGate(emar::v1::CandidateReport* c, const std::string& gate, const std::string& dataset,
             double threshold, bool passed) {
  emar::v1::GateResult* g = c->add_gates();
  g->set_gate(gate);
  g->set_dataset(dataset);
  g->set_threshold(threshold);
  g->set_bound("benchmark.delta.ci_low");
  g->set_bound_value(-threshold + (passed ? 0.001 : -0.001));
  g->set_passed(passed);
}

// One candidate ("best") of a suite: a target with two metrics, three benchmarks (gsm8k
// regresses past its gate, wmt has its own threshold), and a suite-level gate.
emar::v1::Report Suite() {
  emar::v1::Report r = TwoCandidates();
  r.mutable_candidates()->DeleteSubrange(0, 1);
  emar::v1::CandidateReport* c = r.mutable_candidates(0);
  c->clear_gates();
  c->mutable_benchmark()->mutable_delta()->set_value(-0.004);
  c->mutable_benchmark()->mutable_delta()->set_ci_low(-0.009);
  c->mutable_benchmark()->mutable_delta()->set_ci_high(0.001);
  AddDataset(c, "target", "tickets", "accuracy", true, 0.15);
  AddDataset(c, "target", "tickets", "macro_f1", false, 0.12);
  AddDataset(c, "benchmark", "mmlu", "accuracy", true, -0.002);
  AddDataset(c, "benchmark", "gsm8k", "exact_match", true, -0.03);
  AddDataset(c, "benchmark", "wmt", "bleu", true, 0.001);
  AddGate(c, "max_benchmark_regression", "mmlu", 0.02, true);
  AddGate(c, "max_benchmark_regression", "gsm8k", 0.02, false);
  AddGate(c, "max_benchmark_regression", "wmt", 0.05, true);
  AddGate(c, "max_suite_regression", "", 0.01, true);
  c->set_gates_passed(false);
  return r;
}

TEST(ReportDocumentTest, SuitePagesTableEveryDatasetAndMetric) {
  const emar::v1::Report r = Suite();
  const std::string md = ReportToMarkdown(r);
  EXPECT_THAT(
      md,
      HasSubstr("| role | dataset | metric | weight | n | base | candidate | delta (interval) | "
                "p (test) | p (Holm) | gates |"));
  EXPECT_THAT(md,
              HasSubstr("| target | tickets | accuracy (primary) | 1 | 100 | 0.5000 – | "
                        "0.6500 – | +0.1500 [0.1400, 0.1600] | 0.02 (mcnemar_exact) | – | – |"));
  EXPECT_THAT(md, HasSubstr("| target | tickets | macro_f1 |  | 100 |"));  // not the primary
  EXPECT_THAT(md, HasSubstr("| benchmark | gsm8k | exact_match | 2 | 100 | 0.5000 – | 0.4700 – | "
                            "-0.0300 [-0.0400, -0.0200] | 0.02 (mcnemar_exact) | 0.04 | FAIL |"));
  EXPECT_THAT(md, HasSubstr("| benchmark | mmlu | accuracy | 1 |"));  // one metric: no marker
  EXPECT_THAT(md, HasSubstr("| benchmarks (aggregate) | b |"));
  // The gates name their dataset; the suite's own gate judges the aggregate.
  EXPECT_THAT(md, HasSubstr("| max_benchmark_regression | wmt | 0.05 |"));
  EXPECT_THAT(md, HasSubstr("| max_suite_regression | (aggregate) | 0.01 |"));
  const std::string html = ReportToHtml(r);
  EXPECT_THAT(html, HasSubstr("<td>gsm8k</td><td>exact_match</td><td>2</td>"));
  EXPECT_EQ(Count(html, "<td class=\"fail\">FAIL</td>"), 1u + 1u + 1u);  // board, row, gate
}

TEST(ReportDocumentTest, ForestPlotDrawsEachBenchmarkAgainstItsOwnThresholdAggregateFirst) {
  const std::string html = ReportToHtml(Suite());
  const size_t at = html.find("aria-label=\"Benchmark Δ per dataset");
  ASSERT_NE(at, std::string::npos);
  const std::string forest = html.substr(at, html.find("</svg>", at) - at);
  // Rows top to bottom: the aggregate, then the benchmarks' primary metrics in report order.
  const size_t aggregate = forest.find(">aggregate</text>"),
               mmlu = forest.find(">mmlu (accuracy)<"),
               gsm8k = forest.find(">gsm8k (exact_match)<"), wmt = forest.find(">wmt (bleu)<");
  ASSERT_NE(aggregate, std::string::npos);
  EXPECT_LT(aggregate, mmlu);
  EXPECT_LT(mmlu, gsm8k);
  EXPECT_LT(gsm8k, wmt);
  EXPECT_THAT(forest, Not(HasSubstr("tickets")));  // targets are not in it
  EXPECT_EQ(Count(forest, "<circle"), 4u);
  // One threshold mark per row: -0.01 (suite), -0.02 twice, -0.05 (wmt's override).
  EXPECT_EQ(Count(forest, "stroke=\"#B00020\" stroke-width=\"2.0\" stroke-dasharray"), 4u);
  EXPECT_THAT(forest, HasSubstr(">-0.0300 [-0.0400, -0.0200]  p=0.02, Holm 0.04</text>"));
  EXPECT_THAT(forest, HasSubstr(">no change</text>"));
  // A page of one target and one benchmark has no forest plot.
  EXPECT_THAT(ReportToHtml(TwoCandidates()), Not(HasSubstr("Benchmark Δ per dataset")));
}

}  // namespace
}  // namespace emar
