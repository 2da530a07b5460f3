// FillSeriesPoint: a series point from a report, on the aggregates or following one dataset.
#include "server/series_point.h"

#include "gtest/gtest.h"

namespace emar {
namespace {

emar::v1::Report SuiteReport() {
  emar::v1::Report r;
  emar::v1::CandidateReport* c = r.add_candidates();
  c->set_name("ft");
  c->mutable_emar()->set_value(0.2);
  c->mutable_target()->mutable_base()->set_value(0.5);
  c->mutable_target()->mutable_delta()->set_value(0.1);
  c->mutable_benchmark()->mutable_base()->set_value(0.7);
  c->mutable_benchmark()->mutable_delta()->set_value(-0.01);
  for (auto [name, base, delta, primary] :
       {std::tuple{"mmlu", 0.6, -0.03, true}, std::tuple{"mmlu", 0.4, -0.5, false},
        std::tuple{"gsm8k", 0.8, 0.01, true}}) {
    emar::v1::DatasetComparison* d = c->add_datasets();
    d->set_dataset(name);
    d->set_role("benchmark");
    d->set_primary(primary);
    d->mutable_base()->set_value(base);
    d->mutable_delta()->set_value(delta);
  }
  return r;
}

TEST(SeriesPointTest, EmptyDatasetFollowsTheAggregates) {
  emar::v1::SeriesPoint p;
  ASSERT_TRUE(FillSeriesPoint(SuiteReport(), "", &p));
  EXPECT_EQ(p.base_benchmark().value(), 0.7);
  ASSERT_EQ(p.candidates_size(), 1);
  EXPECT_EQ(p.candidates(0).benchmark_delta().value(), -0.01);
  EXPECT_EQ(p.candidates(0).emar().value(), 0.2);
}

TEST(SeriesPointTest, ADatasetReplacesItsSideWithItsPrimaryScores) {
  emar::v1::SeriesPoint p;
  ASSERT_TRUE(FillSeriesPoint(SuiteReport(), "mmlu", &p));
  EXPECT_EQ(p.base_benchmark().value(), 0.6);  // the primary entry, not the second metric
  EXPECT_EQ(p.base_target().value(), 0.5);     // the other side keeps the aggregate
  EXPECT_EQ(p.candidates(0).benchmark_delta().value(), -0.03);
  EXPECT_EQ(p.candidates(0).target_delta().value(), 0.1);
  emar::v1::SeriesPoint none;
  EXPECT_FALSE(FillSeriesPoint(SuiteReport(), "arc", &none));
}

}  // namespace
}  // namespace emar
