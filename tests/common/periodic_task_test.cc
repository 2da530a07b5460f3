// PeriodicTask: when the first run happens, that runs repeat, and that Stop ends them.
#include "common/periodic_task.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

TEST(PeriodicTaskTest, RunsRepeatedly) {
  std::atomic<int> runs{0};
  absl::Notification three;
  PeriodicTask task(absl::Milliseconds(5), [&] {
    if (++runs == 3) three.Notify();
  });
  EXPECT_TRUE(three.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST(PeriodicTaskTest, AtOnceRunsBeforeTheFirstInterval) {
  absl::Notification ran;
  PeriodicTask task(
      absl::Hours(1), [&] { ran.Notify(); }, PeriodicTask::kAtOnce);
  EXPECT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST(PeriodicTaskTest, AfterIntervalWaitsFirst) {
  std::atomic<int> runs{0};
  {
    PeriodicTask task(absl::Hours(1), [&] { ++runs; });
    absl::SleepFor(absl::Milliseconds(50));
  }  // the destructor wakes the thread at once: no hour-long wait
  EXPECT_EQ(runs.load(), 0);
}

TEST(PeriodicTaskTest, NoRunAfterStop) {
  std::atomic<int> runs{0};
  PeriodicTask task(absl::Milliseconds(1), [&] { ++runs; });
  while (task.runs() < 2) absl::SleepFor(absl::Milliseconds(1));
  task.Stop();
  absl::SleepFor(absl::Milliseconds(20));  // a run in progress at Stop may still finish
  const int after_stop = runs.load();
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(runs.load(), after_stop);
}

}  // namespace
}  // namespace emar
