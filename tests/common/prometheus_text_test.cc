// PrometheusText: the exact exposition text, label escaping, and histograms made cumulative.
#include "common/prometheus_text.h"

#include "gtest/gtest.h"

namespace emar {
namespace {

TEST(PrometheusTextTest, FamilyAndSamples) {
  PrometheusText out;
  out.Family("emar_jobs", "gauge", "Jobs by state.");
  out.Sample("emar_jobs", {{"state", "queued"}}, int64_t{3});
  out.Sample("emar_jobs", {{"state", "running"}, {"pool", "a"}}, int64_t{0});
  out.Gauge("emar_workers", "Live workers.", 2);
  out.Counter("emar_examples_total", "Examples.", 14);
  EXPECT_EQ(out.text(),
            "# HELP emar_jobs Jobs by state.\n# TYPE emar_jobs gauge\n"
            "emar_jobs{state=\"queued\"} 3\n"
            "emar_jobs{state=\"running\",pool=\"a\"} 0\n"
            "# HELP emar_workers Live workers.\n# TYPE emar_workers gauge\nemar_workers 2\n"
            "# HELP emar_examples_total Examples.\n# TYPE emar_examples_total counter\n"
            "emar_examples_total 14\n");
}

TEST(PrometheusTextTest, EscapesLabelValues) {
  PrometheusText out;
  out.Sample("m", {{"v", "a\"b\\c\nd"}}, int64_t{1});
  EXPECT_EQ(out.text(), "m{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(PrometheusTextTest, HistogramIsCumulative) {
  PrometheusText out;
  const double bounds[] = {0.1, 1, 10};
  const int64_t counts[] = {2, 0, 3};  // 1 more above 10
  out.Histogram("d_seconds", "Durations.", bounds, counts, 6, 42.5);
  EXPECT_EQ(std::move(out).Take(),
            "# HELP d_seconds Durations.\n# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.1\"} 2\n"
            "d_seconds_bucket{le=\"1\"} 2\n"
            "d_seconds_bucket{le=\"10\"} 5\n"
            "d_seconds_bucket{le=\"+Inf\"} 6\n"
            "d_seconds_sum 42.5\n"
            "d_seconds_count 6\n");
}

TEST(PrometheusTextTest, HistogramWithNoObservations) {
  PrometheusText out;
  const double bounds[] = {0.5};
  out.Histogram("d", "D.", bounds, {}, 0, 0);
  EXPECT_EQ(out.text(),
            "# HELP d D.\n# TYPE d histogram\nd_bucket{le=\"0.5\"} 0\nd_bucket{le=\"+Inf\"} 0\n"
            "d_sum 0\nd_count 0\n");
}

}  // namespace
}  // namespace emar
