// BuildSeries with no store: ordering by the `by` label (numeric or text, ties by age), and every
// job that is not a point listed as skipped with why.
#include "server/series_builder.h"

#include <string>
#include <vector>

#include "common/status_matchers.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;

emar::v1::Job Job(const std::string& id, const std::string& step,
                  emar::v1::JobState state = emar::v1::JOB_STATE_SUCCEEDED) {
  emar::v1::Job job;
  job.set_job_id(id);
  job.set_state(state);
  (*job.mutable_labels())["run"] = "r";
  if (!step.empty()) (*job.mutable_labels())["step"] = step;
  return job;
}

emar::v1::GetSeriesRequest Request() {
  emar::v1::GetSeriesRequest req;
  (*req.mutable_labels())["run"] = "r";
  req.set_by("step");
  return req;
}

// Every report has one candidate whose EMAR is the job id's length (something to check).
absl::StatusOr<emar::v1::Report> ReportOf(const std::string& job_id) {
  if (job_id == "deleted") return absl::NotFoundError("job 'deleted' not found");
  emar::v1::Report report;
  emar::v1::CandidateReport* c = report.add_candidates();
  c->set_name("cand-" + job_id);
  c->mutable_target()->mutable_base()->set_value(0.7);
  return report;
}

std::vector<std::string> PointIds(const emar::v1::Series& s) {
  std::vector<std::string> ids;
  for (const auto& p : s.points()) ids.push_back(p.job_id());
  return ids;
}

TEST(SeriesBuilderTest, RequestNeedsLabelsAndBy) {
  emar::v1::GetSeriesRequest req = Request();
  EXPECT_OK(CheckSeriesRequest(req));
  req.clear_by();
  EXPECT_THAT(CheckSeriesRequest(req), StatusIs(absl::StatusCode::kInvalidArgument));
  req = Request();
  req.clear_labels();
  EXPECT_THAT(CheckSeriesRequest(req), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(SeriesBuilderTest, NumericValuesOrderByValueTiesByAge) {
  // Newest first, as listed.
  const std::vector<emar::v1::Job> jobs = {Job("d", "10"), Job("c", "2"), Job("b", "10"),
                                           Job("a", "1.5")};
  emar::v1::Series s = BuildSeries(Request(), jobs, ReportOf);
  EXPECT_TRUE(s.numeric());
  EXPECT_EQ(PointIds(s), (std::vector<std::string>{"a", "c", "b", "d"}));
  EXPECT_EQ(s.points(0).candidates(0).name(), "cand-a");
  EXPECT_EQ(s.points(0).base_target().value(), 0.7);
  EXPECT_EQ(s.by(), "step");
}

TEST(SeriesBuilderTest, AnyNonNumberOrdersAsText) {
  const std::vector<emar::v1::Job> jobs = {Job("b", "10"), Job("a", "9"), Job("c", "final")};
  emar::v1::Series s = BuildSeries(Request(), jobs, ReportOf);
  EXPECT_FALSE(s.numeric());
  EXPECT_EQ(PointIds(s), (std::vector<std::string>{"b", "a", "c"}));  // "10" < "9" < "final"
}

TEST(SeriesBuilderTest, SkipsJobsWithoutALabelUnfinishedOrWithoutReport) {
  emar::v1::Job failed = Job("f", "3", emar::v1::JOB_STATE_FAILED);
  failed.set_error("bad input");
  const std::vector<emar::v1::Job> jobs = {Job("deleted", "4"), failed,
                                           Job("q", "2", emar::v1::JOB_STATE_RUNNING), Job("n", ""),
                                           Job("ok", "1")};
  emar::v1::Series s = BuildSeries(Request(), jobs, ReportOf);
  EXPECT_EQ(PointIds(s), (std::vector<std::string>{"ok"}));
  ASSERT_EQ(s.skipped_size(), 4);  // oldest first
  EXPECT_EQ(s.skipped(0).job_id(), "n");
  EXPECT_EQ(s.skipped(0).reason(), "no label 'step'");
  EXPECT_EQ(s.skipped(1).reason(), "running");
  EXPECT_EQ(s.skipped(2).reason(), "failed: bad input");
  EXPECT_EQ(s.skipped(3).reason(), "job 'deleted' not found");
}

}  // namespace
}  // namespace emar
