// ProgressDisplay with a hand-driven clock, writing to a temporary file: what the line says in
// each phase, the rate and ETA, and when plain lines are written (at phase changes and every
// plain_every, not at every event); the terminal form redraws one line in place.
#include "client/progress_display.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class FakeClock {
 public:
  absl::Time now = absl::FromUnixSeconds(1000);
  std::function<absl::Time()> fn() {
    return [this] { return now; };
  }
};

std::string ReadAll(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  return out;
}

emar::v1::Job Job(emar::v1::JobState state, int done, int total, int64_t examples, int reused = 0) {
  emar::v1::Job j;
  j.set_job_id("job-1");
  j.set_state(state);
  j.mutable_progress()->set_shards_done(done);
  j.mutable_progress()->set_shards_total(total);
  j.mutable_progress()->set_examples_scored(examples);
  j.mutable_progress()->set_shards_reused(reused);
  return j;
}

TEST(ProgressDisplayTest, PlainLinesAtPhaseChangesAndEveryFewSecondsNotAtEveryEvent) {
  FakeClock clock;
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    ProgressDisplay p(f, {.terminal = false,
                          .plain_every = absl::Seconds(5),
                          .redraw_every = absl::Hours(1),  // the thread stays out of the way
                          .now = clock.fn()});
    p.Transfer("hashing", 0, 4 << 20);
    p.Transfer("hashing", 2 << 20, 4 << 20);  // same phase, too soon: no line
    p.Transfer("uploading", 0, 4 << 20);
    p.Update(Job(emar::v1::JOB_STATE_QUEUED, 0, 10, 0));
    clock.now += absl::Seconds(1);
    p.Update(Job(emar::v1::JOB_STATE_RUNNING, 0, 10, 0));
    clock.now += absl::Seconds(2);
    p.Update(Job(emar::v1::JOB_STATE_RUNNING, 2, 10, 2000));  // 2 s after the last line
    clock.now += absl::Seconds(4);
    p.Update(Job(emar::v1::JOB_STATE_RUNNING, 4, 10, 4000));  // 6 s after it: a line
    EXPECT_EQ(p.Line(),
              "[scoring] 4/10 shards  4,000 examples  667 ex/s  ETA 0:09  elapsed 0:07  job-1");
    clock.now += absl::Seconds(1);
    p.Update(Job(emar::v1::JOB_STATE_RUNNING, 10, 10, 10000));
    p.Update(Job(emar::v1::JOB_STATE_SUCCEEDED, 10, 10, 10000));
  }
  const std::string out = ReadAll(f);
  std::fclose(f);
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 7u) << out;
  EXPECT_EQ(lines[0], "emarctl: [hashing] 0.0 KiB of 4.0 MiB  elapsed 0:00");
  EXPECT_THAT(lines[1], HasSubstr("[uploading]"));
  EXPECT_THAT(lines[2], HasSubstr("[queued] 0/10 shards"));
  EXPECT_THAT(lines[2], HasSubstr("waiting for a worker"));
  EXPECT_THAT(lines[3], HasSubstr("[scoring] 0/10 shards"));
  EXPECT_THAT(lines[4], HasSubstr("[scoring] 4/10 shards  4,000 examples"));
  EXPECT_THAT(lines[5], HasSubstr("[bootstrap] 10/10 shards"));
  EXPECT_THAT(lines[6], HasSubstr("[done] 10/10 shards  10,000 examples"));
  EXPECT_THAT(out, Not(HasSubstr("\r")));
}

TEST(ProgressDisplayTest, ReusedShardsAreShownAndLeftOutOfTheRate) {
  FakeClock clock;
  FILE* f = std::tmpfile();
  ProgressDisplay p(f, {.terminal = false, .redraw_every = absl::Hours(1), .now = clock.fn()});
  p.Update(Job(emar::v1::JOB_STATE_RUNNING, 6, 10, 0, /*reused=*/6));
  clock.now += absl::Seconds(4);
  p.Update(Job(emar::v1::JOB_STATE_RUNNING, 8, 10, 800, /*reused=*/6));
  // 2 scored shards in 4 s, 2 to go: 4 s more.
  EXPECT_EQ(p.Line(),
            "[scoring] 8/10 shards (6 reused)  800 examples  200 ex/s  ETA 0:04  elapsed 0:04  "
            "job-1");
  p.Finish();
  std::fclose(f);
}

TEST(ProgressDisplayTest, TerminalRedrawsOneLineInPlaceAndEndsItWithANewline) {
  FakeClock clock;
  FILE* f = std::tmpfile();
  {
    ProgressDisplay p(f, {.terminal = true, .redraw_every = absl::Hours(1), .now = clock.fn()});
    p.Update(Job(emar::v1::JOB_STATE_QUEUED, 0, 3, 0));
    clock.now += absl::Milliseconds(200);
    p.Update(Job(emar::v1::JOB_STATE_RUNNING, 1, 3, 100));
    clock.now += absl::Milliseconds(200);
    p.Update(Job(emar::v1::JOB_STATE_SUCCEEDED, 3, 3, 300));
  }
  const std::string out = ReadAll(f);
  std::fclose(f);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\r'), 3) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.back(), '\n');
  // The shorter later line blanks out what the longer one before it left.
  const std::string last = out.substr(out.rfind('\r') + 1);
  EXPECT_THAT(last, HasSubstr("[done] 3/3 shards"));
  const std::string queued = out.substr(1, out.find('\r', 1) - 1);
  EXPECT_GE(last.size() - 1, std::string("[done] 3/3 shards  300 examples").size());
  EXPECT_THAT(queued, HasSubstr("waiting for a worker"));
}

// A note (submit's request id, a retry) is a line of its own: on a terminal the live line is
// blanked, the note written, and the live line drawn again below it.
TEST(ProgressDisplayTest, NotesAreLinesOfTheirOwnAboveTheLiveLine) {
  FakeClock clock;
  FILE* f = std::tmpfile();
  {
    ProgressDisplay p(f, {.terminal = true, .redraw_every = absl::Hours(1), .now = clock.fn()});
    p.Transfer("uploading", 100, 1000);
    p.Note("request id req-1");
  }
  const std::string out = ReadAll(f);
  std::fclose(f);
  const size_t note = out.find("emarctl: request id req-1\n");
  ASSERT_NE(note, std::string::npos) << out;
  EXPECT_EQ(out[note - 1], '\r') << out;                           // after the blanked live line
  EXPECT_THAT(out.substr(note), HasSubstr("[uploading]")) << out;  // drawn again below
  FILE* g = std::tmpfile();
  {
    ProgressDisplay p(g, {.now = clock.fn()});
    p.Note("request id req-2");
  }
  EXPECT_EQ(ReadAll(g), "emarctl: request id req-2\n");
  std::fclose(g);
}

// A flood of events (an upload's every chunk, a fast job's every snapshot) redraws the line at
// most every 200 ms; the last state is drawn at the end however soon it came.
TEST(ProgressDisplayTest, TerminalRedrawsAtMostEvery200Milliseconds) {
  FakeClock clock;
  FILE* f = std::tmpfile();
  {
    ProgressDisplay p(f, {.terminal = true, .redraw_every = absl::Hours(1), .now = clock.fn()});
    for (int i = 0; i <= 100; ++i) {  // 101 chunks over 1 s
      p.Transfer("uploading", int64_t{i} << 20, int64_t{100} << 20);
      if (i < 100) clock.now += absl::Milliseconds(10);
    }
    p.Transfer("planning", 0, 0);
  }
  const std::string out = ReadAll(f);
  std::fclose(f);
  // At 0, 200, 400, 600, 800 and 1000 ms, then the final state (planning).
  EXPECT_EQ(std::count(out.begin(), out.end(), '\r'), 7) << out;
  const std::string last = out.substr(out.rfind('\r') + 1);
  EXPECT_THAT(last, HasSubstr("[planning] the coordinator is checking and sharding the inputs"));
  EXPECT_THAT(out, HasSubstr("[uploading] 100.0 MiB of 100.0 MiB"));
}

// No ETA, and no rate, from the first moments of scoring: they would be noise.
TEST(ProgressDisplayTest, NoEtaUntilScoringHasRunAFewSeconds) {
  FakeClock clock;
  FILE* f = std::tmpfile();
  ProgressDisplay p(f, {.terminal = false, .redraw_every = absl::Hours(1), .now = clock.fn()});
  p.Update(Job(emar::v1::JOB_STATE_RUNNING, 0, 100, 0));
  clock.now += absl::Milliseconds(500);
  p.Update(Job(emar::v1::JOB_STATE_RUNNING, 1, 100, 100));
  EXPECT_THAT(p.Line(), Not(HasSubstr("ETA")));
  EXPECT_THAT(p.Line(), Not(HasSubstr("ex/s")));
  clock.now += absl::Seconds(2);
  p.Update(Job(emar::v1::JOB_STATE_RUNNING, 3, 100, 300));
  EXPECT_THAT(p.Line(), HasSubstr("120 ex/s"));
  EXPECT_THAT(p.Line(), Not(HasSubstr("ETA")));
  clock.now += absl::Milliseconds(500);
  p.Update(Job(emar::v1::JOB_STATE_RUNNING, 3, 100, 300));
  EXPECT_THAT(p.Line(), HasSubstr("ETA 1:37"));  // 3 shards in 3 s, 97 to go
  p.Finish();
  std::fclose(f);
}

}  // namespace
}  // namespace emar
