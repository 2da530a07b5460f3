// ParallelFor: every index once, on the threads asked for (the caller's among them), none for 0.
#include "common/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

TEST(ParallelForTest, CallsEveryIndexExactlyOnce) {
  for (int threads : {0, 1, 2, 3, 8}) {
    std::vector<std::atomic<int>> calls(1000);
    ParallelFor(calls.size(), threads, [&](size_t i) { ++calls[i]; });
    for (size_t i = 0; i < calls.size(); ++i) {
      ASSERT_EQ(calls[i].load(), 1) << "index " << i << " with " << threads << " threads";
    }
  }
}

TEST(ParallelForTest, NoItemsNoCalls) {
  int calls = 0;
  ParallelFor(0, 4, [&](size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ParallelForTest, OneThreadRunsInOrderOnTheCaller) {
  std::vector<size_t> order;
  std::set<std::thread::id> ids;
  ParallelFor(50, 1, [&](size_t i) {
    order.push_back(i);
    ids.insert(std::this_thread::get_id());
  });
  ASSERT_EQ(order.size(), 50u);
  for (size_t i = 0; i < order.size(); ++i) EXPECT_EQ(order[i], i);
  EXPECT_EQ(ids, std::set<std::thread::id>{std::this_thread::get_id()});
}

// Each item waits until `threads` items run at once (or a generous deadline passes), so all of
// them must really have taken items; the peak never exceeds the bound.
struct Gauge {
  absl::Mutex mu;
  int now ABSL_GUARDED_BY(mu) = 0;
  int peak ABSL_GUARDED_BY(mu) = 0;
  int want = 0;
  std::set<std::thread::id> ids ABSL_GUARDED_BY(mu);
  bool Reached() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return peak >= want; }
};

TEST(ParallelForTest, RunsItsThreadsAtOnceAndNoMore) {
  for (int threads : {2, 3}) {
    Gauge g;
    g.want = threads;
    ParallelFor(12, threads, [&](size_t) {
      absl::MutexLock lock(&g.mu);
      g.ids.insert(std::this_thread::get_id());
      g.peak = std::max(g.peak, ++g.now);
      g.mu.AwaitWithTimeout(absl::Condition(&g, &Gauge::Reached), absl::Seconds(10));
      --g.now;
    });
    absl::MutexLock lock(&g.mu);
    EXPECT_EQ(g.peak, threads);
    EXPECT_EQ(static_cast<int>(g.ids.size()), threads);
    EXPECT_TRUE(g.ids.count(std::this_thread::get_id()));
  }
}

}  // namespace
}  // namespace emar
