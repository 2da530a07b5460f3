// Tests of the report's power, samples and small-sample rendering (client/report_power.h) in the
// text, Markdown and HTML reports: items × samples, the MDE of every delta, underpowered gates
// said in words, and the small-dataset warning with its Wilson intervals.
#include "client/report_power.h"

#include <string>

#include "client/report_document.h"
#include "client/report_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

emar::v1::Report SampleReport() {
  emar::v1::Report r;
  r.set_name("power");
  r.mutable_bootstrap()->set_resamples(1000);
  r.mutable_bootstrap()->set_confidence(0.95);
  r.mutable_bootstrap()->set_power(0.8);
  r.mutable_bootstrap()->set_small_dataset_items(100);
  emar::v1::CandidateReport* c = r.add_candidates();
  c->set_name("tuned");
  c->set_rank(1);
  emar::v1::DatasetComparison* t = c->mutable_target();
  t->set_dataset("judge");
  t->set_metric("score");
  t->set_n(150);
  t->set_base_samples_per_item(4);
  t->set_candidate_samples_per_item(5);
  t->mutable_delta()->set_value(0.2);
  t->set_mde(0.0891);
  t->set_mde_method("bootstrap_se");
  emar::v1::DatasetComparison* b = c->mutable_benchmark();
  b->set_dataset("bench");
  b->set_metric("accuracy");
  b->set_n(60);
  b->mutable_delta()->set_value(-0.0333);
  b->set_mde(0.1234);
  b->set_mde_method("mcnemar");
  emar::v1::SmallSampleIntervals* s = b->mutable_small_sample();
  s->set_applies(true);
  s->set_base_low(0.66);
  s->set_base_high(0.87);
  s->set_candidate_low(0.63);
  s->set_candidate_high(0.84);
  s->set_delta_low(-0.147);
  s->set_delta_high(0.081);
  s->set_warning("60 items (fewer than 100): percentile bootstrap intervals are unreliable");
  emar::v1::GateResult* g = c->add_gates();
  g->set_gate("max_benchmark_regression");
  g->set_threshold(0.02);
  g->set_bound("benchmark.delta.wilson_low");
  g->set_bound_value(-0.147);
  g->set_bound_source("wilson");
  g->set_passed(true);
  g->set_underpowered(true);
  g->set_mde(0.1234);
  return r;
}

TEST(ReportPowerTest, ItemsAndSamples) {
  emar::v1::DatasetComparison d;
  d.set_n(2000);
  EXPECT_EQ(ItemsText(d), "2000");
  EXPECT_EQ(ItemsCell(d), "2000");
  d.set_n(200);
  d.set_base_samples_per_item(5);
  d.set_candidate_samples_per_item(5);
  EXPECT_EQ(ItemsText(d), "200 items × 5 samples");
  EXPECT_EQ(ItemsCell(d), "200×5");
  d.set_candidate_samples_per_item(3);
  EXPECT_EQ(ItemsText(d), "200 items × 5/3 samples");
}

TEST(ReportPowerTest, EveryFormatGivesTheMdeAndSaysWhatAnUnderpoweredGateMeans) {
  const emar::v1::Report r = SampleReport();
  const std::string text = ReportToText(r);
  EXPECT_THAT(text, HasSubstr("judge (score, n=150 items × 4/5 samples)"));
  EXPECT_THAT(text, HasSubstr("MDE       0.1234 (mcnemar, 80% power, alpha 0.05)"));
  EXPECT_THAT(text, HasSubstr("UNDERPOWERED (MDE 0.1234)"));
  EXPECT_THAT(text, HasSubstr("wilson    base [0.6600, 0.8700]"));
  for (const std::string& doc : {text, ReportToMarkdown(r), ReportToHtml(r)}) {
    EXPECT_THAT(doc, HasSubstr("0.0891"));
    EXPECT_THAT(doc, HasSubstr("is underpowered: its margin 0.02 is smaller than the minimum "
                               "detectable effect 0.1234"));
    EXPECT_THAT(doc, HasSubstr("a pass here means little"));
    EXPECT_THAT(doc, HasSubstr("percentile bootstrap intervals are unreliable"));
    EXPECT_THAT(doc, HasSubstr("150 items, 4 samples per item from the base model and 5"));
  }
  EXPECT_THAT(ReportToMarkdown(r), HasSubstr("pass (underpowered)"));
}

TEST(ReportPowerTest, NothingToSayWithoutTheFields) {
  emar::v1::Report r = SampleReport();
  emar::v1::CandidateReport* c = r.mutable_candidates(0);
  c->mutable_target()->clear_mde();
  c->mutable_target()->set_base_samples_per_item(0);
  c->mutable_target()->set_candidate_samples_per_item(0);
  c->mutable_benchmark()->clear_small_sample();
  c->mutable_gates(0)->set_underpowered(false);
  c->mutable_gates(0)->clear_bound_source();
  EXPECT_TRUE(StatisticsNotes(*c, r.bootstrap()).empty());
  EXPECT_THAT(ReportToText(r), Not(HasSubstr("UNDERPOWERED")));
}

}  // namespace
}  // namespace emar
