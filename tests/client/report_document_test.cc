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

}  // namespace
}  // namespace emar
