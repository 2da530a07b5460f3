// Series rendering: the text table (aligned, skipped jobs listed), Markdown (pipes escaped), HTML
// (self-contained, escaped, three charts with the gate threshold), JSON in the issue's shape.
#include "client/series_format.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

emar::v1::Series TwoPoints() {
  emar::v1::Series s;
  s.set_by("step");
  s.set_numeric(true);
  (*s.mutable_labels())["run"] = "exp<1>";
  for (auto [step, emar, db, passed] :
       {std::tuple{"500", 0.13, 0.0, true}, std::tuple{"2000", 0.4, -0.09, false}}) {
    auto* p = s.add_points();
    p->set_value(step);
    p->set_job_id(std::string("job-") + step);
    auto* c = p->add_candidates();
    c->set_name("fine|tuned");
    c->mutable_emar()->set_value(emar);
    c->mutable_emar()->set_ci_low(emar - 0.04);
    c->mutable_emar()->set_ci_high(emar + 0.04);
    c->mutable_target_delta()->set_value(0.1);
    c->mutable_benchmark_delta()->set_value(db);
    auto* g = c->add_gates();
    g->set_gate("max_benchmark_regression");
    g->set_threshold(0.05);
    c->set_gates_passed(passed);
  }
  auto* k = s.add_skipped();
  k->set_job_id("job-x");
  k->set_reason("running");
  return s;
}

TEST(SeriesFormatTest, TextIsATableWithSkippedJobs) {
  const std::string text = SeriesToText(TwoPoints());
  EXPECT_THAT(text, HasSubstr("series of run=exp<1> by step: 2 point(s)"));
  EXPECT_THAT(text, HasSubstr("500   fine|tuned  0.1300 [0.0900, 0.1700]"));
  EXPECT_THAT(text, HasSubstr("FAIL"));
  EXPECT_THAT(text, HasSubstr("skipped job-x: running"));
}

TEST(SeriesFormatTest, MarkdownEscapesPipes) {
  const std::string md = SeriesToMarkdown(TwoPoints());
  EXPECT_THAT(md, HasSubstr("| step | candidate | EMAR |"));
  EXPECT_THAT(md, HasSubstr("| 2000 | fine\\|tuned | 0.4000 [0.3600, 0.4400] |"));
}

TEST(SeriesFormatTest, HtmlIsSelfContainedEscapedAndCharted) {
  const std::string html = SeriesToHtml(TwoPoints());
  EXPECT_THAT(html, HasSubstr("Content-Security-Policy"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("exp<1>")));
  EXPECT_THAT(html, HasSubstr("run=exp&lt;1&gt;"));
  size_t charts = 0;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1))
    ++charts;
  EXPECT_EQ(charts, 3u);
  EXPECT_THAT(html, HasSubstr("max_benchmark_regression -0.05"));  // the threshold, at -x
  EXPECT_THAT(html, HasSubstr("<td class=\"fail\">FAIL</td>"));
}

TEST(SeriesFormatTest, JsonHasTheIssuesShapeWithFalseGates) {
  const std::string json = SeriesToJson(TwoPoints());
  EXPECT_THAT(json, HasSubstr("\"by\": \"step\""));
  EXPECT_THAT(json, HasSubstr("\"points\": ["));
  EXPECT_THAT(json, HasSubstr("\"target_delta\": {"));
  EXPECT_THAT(json, HasSubstr("\"gates_passed\": false"));
}

}  // namespace
}  // namespace emar
