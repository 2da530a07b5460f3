// JobBoard: live copies of unfinished jobs, watch events in order, the finishing window, the
// per-owner count, visibility to other principals, and shutdown.
#include "server/job_board.h"

#include <string>
#include <vector>

#include "common/status_matchers.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;

emar::v1::Job NewJob(const std::string& id, const std::string& owner = "") {
  emar::v1::Job job;
  job.set_job_id(id);
  job.set_owner(owner);
  job.set_state(emar::v1::JOB_STATE_QUEUED);
  job.mutable_progress()->set_shards_total(4);
  return job;
}

const absl::Time kNow = absl::FromUnixSeconds(1700000000);

TEST(JobBoardTest, FindAndRefreshServeTheLiveCopy) {
  JobBoard board;
  board.Add(NewJob("j1"));
  EXPECT_FALSE(board.Find("j2").has_value());
  ASSERT_TRUE(board.MarkRunning("j1", kNow).has_value());
  EXPECT_FALSE(board.MarkRunning("j1", kNow).has_value());  // already running: nothing to save
  EXPECT_TRUE(board.ShardDone("j1", 1, 500, kNow));
  std::vector<emar::v1::Job> listed = {NewJob("j1"), NewJob("j9")};
  board.Refresh(&listed);
  EXPECT_EQ(listed[0].state(), emar::v1::JOB_STATE_RUNNING);
  EXPECT_EQ(listed[0].progress().examples_scored(), 500);
  EXPECT_EQ(listed[1].state(), emar::v1::JOB_STATE_QUEUED);  // not on the board: untouched
}

TEST(JobBoardTest, ProgressNeverGoesBackwards) {
  JobBoard board;
  board.Add(NewJob("j1"));
  board.ShardDone("j1", 3, 10, kNow);
  board.ShardDone("j1", 2, 10, kNow);  // an earlier result, stored concurrently, applied later
  EXPECT_EQ(board.Find("j1")->progress().shards_done(), 3);
  EXPECT_EQ(board.Find("j1")->progress().examples_scored(), 20);
}

TEST(JobBoardTest, WatchersSeeEveryChangeThenTheTerminalState) {
  JobBoard board;
  board.Add(NewJob("j1"));
  std::vector<emar::v1::Job> seen;
  ASSERT_OK_AND_ASSIGN(JobBoard::WatchStart start,
                       board.Watch(
                           "j1", [&](const emar::v1::Job& j) { seen.push_back(j); }, nullptr,
                           Principal::Anonymous()));
  ASSERT_TRUE(start.snapshot && start.handle);
  board.MarkRunning("j1", kNow);
  board.ShardDone("j1", 1, 5, kNow);
  std::optional<emar::v1::Job> final =
      board.BeginFinish("j1", emar::v1::JOB_STATE_SUCCEEDED, "", kNow);
  ASSERT_TRUE(final.has_value());
  // Being finished: still found, no longer unfinished, no second finish.
  EXPECT_EQ(board.Find("j1")->state(), emar::v1::JOB_STATE_SUCCEEDED);
  EXPECT_FALSE(board.BeginFinish("j1", emar::v1::JOB_STATE_FAILED, "x", kNow).has_value());
  EXPECT_FALSE(board.ShardDone("j1", 2, 5, kNow));
  board.EndFinish(*final);
  EXPECT_FALSE(board.Find("j1").has_value());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].state(), emar::v1::JOB_STATE_RUNNING);
  EXPECT_EQ(seen[1].progress().shards_done(), 1);
  EXPECT_EQ(seen[2].state(), emar::v1::JOB_STATE_SUCCEEDED);
  // The watcher is gone with the job: a new job under another id does not reach it.
  board.Add(NewJob("j2"));
  board.MarkRunning("j2", kNow);
  EXPECT_EQ(seen.size(), 3u);
}

TEST(JobBoardTest, UnwatchStopsEvents) {
  JobBoard board;
  board.Add(NewJob("j1"));
  int events = 0;
  ASSERT_OK_AND_ASSIGN(
      JobBoard::WatchStart start,
      board.Watch(
          "j1", [&](const emar::v1::Job&) { ++events; }, nullptr, Principal::Anonymous()));
  board.Unwatch(*start.handle);
  board.MarkRunning("j1", kNow);
  EXPECT_EQ(events, 0);
}

TEST(JobBoardTest, AnotherPrincipalsJobIsNotFound) {
  JobBoard board;
  board.Add(NewJob("j1", "alice"));
  const Principal bob{Role::kClient, "bob"};
  const Principal alice{Role::kClient, "alice"};
  EXPECT_THAT(board.Watch(
                  "j1", [](const emar::v1::Job&) {}, nullptr, bob),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_OK(board
                .Watch(
                    "j1", [](const emar::v1::Job&) {}, nullptr, alice)
                .status());
  EXPECT_EQ(board.UnfinishedOf("alice"), 1);
  EXPECT_EQ(board.UnfinishedOf("bob"), 0);
}

// Slots reserved for jobs being created count with the unfinished ones until released.
TEST(JobBoardTest, JobSlotsCountReservationsUntilReleased) {
  JobBoard board;
  emar::v1::Job job;
  job.set_job_id("j1");
  job.set_owner("alice");
  board.Add(job);
  int held = 0;
  EXPECT_TRUE(board.ReserveJobSlot("alice", 3, &held));
  EXPECT_TRUE(board.ReserveJobSlot("alice", 3, &held));
  EXPECT_FALSE(board.ReserveJobSlot("alice", 3, &held));
  EXPECT_EQ(held, 3);  // one unfinished, two being created
  EXPECT_TRUE(board.ReserveJobSlot("bob", 3, &held));
  board.ReleaseJobSlot("alice");
  EXPECT_TRUE(board.ReserveJobSlot("alice", 3, &held));
  EXPECT_EQ(held, 2);
}

TEST(JobBoardTest, UnknownJobHasNoSnapshot) {
  JobBoard board;
  ASSERT_OK_AND_ASSIGN(JobBoard::WatchStart start,
                       board.Watch(
                           "nope", [](const emar::v1::Job&) {}, nullptr, Principal::Anonymous()));
  EXPECT_FALSE(start.snapshot.has_value());
  EXPECT_FALSE(start.handle.has_value());
}

TEST(JobBoardTest, ShutdownEndsWatchesAndRefusesNewOnes) {
  JobBoard board;
  board.Add(NewJob("j1"));
  int ended = 0;
  ASSERT_OK(board
                .Watch(
                    "j1", [](const emar::v1::Job&) {}, [&] { ++ended; }, Principal::Anonymous())
                .status());
  board.Shutdown();
  EXPECT_EQ(ended, 1);
  EXPECT_THAT(board.Watch(
                  "j1", [](const emar::v1::Job&) {}, nullptr, Principal::Anonymous()),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(JobBoardTest, CountsUnfinishedJobsByState) {
  JobBoard board;
  board.Add(NewJob("j1"));
  board.Add(NewJob("j2"));
  board.MarkRunning("j2", kNow);
  int64_t jobs[emar::v1::JobState_ARRAYSIZE] = {};
  board.CountUnfinished(jobs);
  EXPECT_EQ(jobs[emar::v1::JOB_STATE_QUEUED], 1);
  EXPECT_EQ(jobs[emar::v1::JOB_STATE_RUNNING], 1);
}

}  // namespace
}  // namespace emar
