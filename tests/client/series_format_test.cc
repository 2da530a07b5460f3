// Series rendering: the text table (aligned, skipped jobs listed), Markdown (pipes escaped), HTML
// (self-contained, escaped, three charts with the gate threshold), JSON in the shape
// docs/pipeline.md documents.
#include "client/series_format.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/count_matches.h"

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
  EXPECT_THAT(text, HasSubstr("series of run=exp<1> by step, following the target and benchmark "
                              "aggregates: 2 point(s)"));
  EXPECT_THAT(text, HasSubstr("500   fine|tuned  0.1300 [0.0900, 0.1700]"));
  EXPECT_THAT(text, HasSubstr("FAIL"));
  EXPECT_THAT(text, HasSubstr("skipped job-x: running"));
}

// GetSeriesRequest.dataset: each form says what its points follow.
TEST(SeriesFormatTest, EveryFormNamesTheDatasetItFollows) {
  EXPECT_THAT(SeriesToText(TwoPoints(), "gsm8k"),
              HasSubstr("series of run=exp<1> by step, following dataset gsm8k (its primary "
                        "metric): 2 point(s)"));
  EXPECT_THAT(SeriesToMarkdown(TwoPoints(), "a|b"),
              HasSubstr("Following dataset a\\|b (its primary metric)."));
  EXPECT_THAT(SeriesToMarkdown(TwoPoints()),
              HasSubstr("Following the target and benchmark aggregates."));
  const std::string html = SeriesToHtml(TwoPoints(), "<mmlu>");
  EXPECT_THAT(html,
              HasSubstr("<h1>EMAR series: run=exp&lt;1&gt; by step, dataset &lt;mmlu&gt;</h1>"));
  EXPECT_THAT(html, HasSubstr("following dataset &lt;mmlu&gt; (its primary metric)"));
  EXPECT_THAT(SeriesToHtml(TwoPoints()),
              HasSubstr("following the target and benchmark aggregates"));
}

// A suite's points carry per-dataset gates: the charts draw the job's own (the aggregate's
// max_suite_regression) when following the aggregates, and only the dataset's when following it.
TEST(SeriesFormatTest, ChartsDrawTheThresholdsOfWhatTheSeriesFollows) {
  emar::v1::Series s = TwoPoints();
  for (auto& p : *s.mutable_points()) {
    auto* c = p.mutable_candidates(0);
    c->clear_gates();
    for (auto [gate, dataset, x] : {std::tuple{"max_benchmark_regression", "gsm8k", 0.02},
                                    std::tuple{"max_benchmark_regression", "mmlu", 0.03},
                                    std::tuple{"max_suite_regression", "", 0.01}}) {
      auto* g = c->add_gates();
      g->set_gate(gate);
      g->set_dataset(dataset);
      g->set_threshold(x);
    }
  }
  const std::string aggregate = SeriesToHtml(s);
  EXPECT_THAT(aggregate, HasSubstr(">max_suite_regression -0.01</text>"));
  EXPECT_THAT(aggregate, Not(HasSubstr("max_benchmark_regression -0.0")));
  const std::string gsm8k = SeriesToHtml(s, "gsm8k");
  EXPECT_THAT(gsm8k, HasSubstr(">max_benchmark_regression -0.02</text>"));
  EXPECT_THAT(gsm8k, Not(HasSubstr("-0.03")));
  EXPECT_THAT(gsm8k, Not(HasSubstr("max_suite_regression")));
  EXPECT_THAT(gsm8k, HasSubstr("gsm8k&#39;s Δ is drawn on its own side"));
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
  EXPECT_EQ(Count(html, "<svg"), 3u);
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

// A point where a candidate's target score is undefined: its EMAR and target delta are too.
emar::v1::Series WithAnUndefinedPoint() {
  emar::v1::Series s = TwoPoints();
  auto* c = s.mutable_points(0)->add_candidates();
  c->set_name("lora-r8");
  c->mutable_target()->set_undefined_reason("every prediction was empty");
  c->mutable_emar()->set_undefined_reason("a score it depends on is undefined");
  c->mutable_target_delta()->set_undefined_reason("a score it depends on is undefined");
  c->mutable_benchmark_delta()->set_value(-0.01);
  auto* g = c->add_gates();
  g->set_gate("min_emar");
  g->set_threshold(0.1);
  g = c->add_gates();
  g->set_gate("min_target_gain");
  g->set_threshold(0.02);
  c->set_gates_passed(false);
  return s;
}

TEST(SeriesFormatTest, UndefinedValuesSayWhyInEveryForm) {
  const emar::v1::Series s = WithAnUndefinedPoint();
  const std::string why =
      "step 500, lora-r8: EMAR, target Δ undefined: a score it depends on is undefined";
  const std::string root =
      "step 500, lora-r8: target score (T1) undefined: every prediction was empty";
  const std::string text = SeriesToText(s);
  EXPECT_THAT(text, HasSubstr("500   lora-r8     undefined "));
  EXPECT_THAT(text, HasSubstr(why + "\n"));
  EXPECT_THAT(text, HasSubstr(root + "\n"));
  const std::string md = SeriesToMarkdown(s);
  EXPECT_THAT(md, HasSubstr("| 500 | lora-r8 | undefined | undefined | -0.0100 | FAIL |"));
  EXPECT_THAT(md, HasSubstr("- " + why + "\n"));
  const std::string html = SeriesToHtml(s);
  EXPECT_THAT(html, HasSubstr("<li>" + why + "</li>"));
  // The charts draw nothing for the point and note it under the EMAR and target delta charts.
  EXPECT_EQ(Count(html, ">lora-r8 at step 500: undefined: a score it depends on is undefined<"),
            2u);
  // lora-r8's benchmark delta is defined: 3 dots (two of fine|tuned, one of lora-r8); the
  // other charts have fine|tuned's two only.
  EXPECT_EQ(Count(html, "<circle"), 2u + 2u + 3u);
}

TEST(SeriesFormatTest, HtmlDrawsEachGateThresholdWhereItsBoundIsCompared) {
  const std::string html = SeriesToHtml(WithAnUndefinedPoint());
  // min_emar: emar.ci_low >= x; min_target_gain: dT.ci_low >= x; max_benchmark_regression:
  // dB.ci_low >= -x.
  const size_t emar = html.find("aria-label=\"EMAR\""),
               target = html.find("aria-label=\"Gained on the target"),
               benchmark = html.find("aria-label=\"Forgotten on the benchmark");
  ASSERT_TRUE(emar < target && target < benchmark && benchmark != std::string::npos);
  EXPECT_LT(html.find(">min_emar 0.1</text>", emar), target);
  EXPECT_GT(html.find(">min_target_gain 0.02</text>", target), target);
  EXPECT_LT(html.find(">min_target_gain 0.02</text>", target), benchmark);
  EXPECT_GT(html.find(">max_benchmark_regression -0.05</text>"), benchmark);
  // Intervals in table cells stay on one line.
  EXPECT_THAT(html, HasSubstr("<td>0.1300 <span class=\"ci\">[0.0900, 0.1700]</span></td>"));
}

}  // namespace
}  // namespace emar
