// WorkQueue: order, concurrency bound, idleness, and what Stop does with queued tasks.
#include "common/work_queue.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

TEST(WorkQueueTest, OneThreadRunsTasksInOrder) {
  absl::Mutex mu;
  std::vector<int> order;
  WorkQueue q(1);
  for (int i = 0; i < 20; ++i) {
    q.Push([&, i] {
      absl::MutexLock lock(&mu);
      order.push_back(i);
    });
  }
  q.WaitIdle();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(order.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(order[i], i);
}

TEST(WorkQueueTest, RunsAtMostItsThreadsAtOnce) {
  std::atomic<int> now{0}, peak{0};
  absl::Notification release;
  WorkQueue q(3);
  for (int i = 0; i < 9; ++i) {
    q.Push([&] {
      const int n = ++now;
      int p = peak.load();
      while (n > p && !peak.compare_exchange_weak(p, n)) {
      }
      release.WaitForNotificationWithTimeout(absl::Milliseconds(50));
      --now;
    });
  }
  q.WaitIdle();
  EXPECT_EQ(peak.load(), 3);
}

TEST(WorkQueueTest, WaitIdleWaitsForTheRunningTask) {
  absl::Notification started, release;
  std::atomic<bool> finished{false};
  WorkQueue q(1);
  q.Push([&] {
    started.Notify();
    release.WaitForNotification();
    finished = true;
  });
  started.WaitForNotification();
  std::thread waiter([&] {
    q.WaitIdle();
    EXPECT_TRUE(finished.load());
  });
  release.Notify();
  waiter.join();
}

TEST(WorkQueueTest, StopDropRunsTheDropHandlersOfQueuedTasks) {
  absl::Notification started, release;
  std::atomic<int> ran{0}, dropped{0};
  WorkQueue q(1);
  q.Push([&] {
    started.Notify();
    release.WaitForNotification();
    ++ran;
  });
  started.WaitForNotification();
  for (int i = 0; i < 4; ++i) q.Push([&] { ++ran; }, [&] { ++dropped; });
  q.Stop(WorkQueue::kDrop);
  EXPECT_EQ(dropped.load(), 4);  // at once, while the first task still runs
  // After Stop a task is refused and dropped on the caller's thread.
  EXPECT_FALSE(q.Push([&] { ++ran; }, [&] { ++dropped; }));
  EXPECT_EQ(dropped.load(), 5);
  release.Notify();
  q.WaitIdle();  // returns: stopped
}

TEST(WorkQueueTest, StopDrainRunsEveryQueuedTask) {
  std::atomic<int> ran{0}, dropped{0};
  {
    absl::Notification release;
    WorkQueue q(1);
    q.Push([&] { release.WaitForNotification(); });
    for (int i = 0; i < 5; ++i) q.Push([&] { ++ran; }, [&] { ++dropped; });
    q.Stop(WorkQueue::kDrain);
    release.Notify();
  }  // the destructor joins once the queue is drained
  EXPECT_EQ(ran.load(), 5);
  EXPECT_EQ(dropped.load(), 0);
}

}  // namespace
}  // namespace emar
