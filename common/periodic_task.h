// A function run every `interval` on a thread of its own until stopped: the coordinator's lease
// ticker and retention sweep, the upload limiter's idle scan.
//
//   PeriodicTask ticker(absl::Milliseconds(50), [&] { coordinator.Tick(); });
//   ticker.Stop();  // wakes the thread; the destructor joins it
//
// Runs are never concurrent and never overlap: the next wait starts when a run returns.
#ifndef EMAR_COMMON_PERIODIC_TASK_H_
#define EMAR_COMMON_PERIODIC_TASK_H_

#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace emar {

class PeriodicTask {
 public:
  enum Start {
    kAfterInterval,  // the first run one interval after construction
    kAtOnce,         // the first run at once
  };

  PeriodicTask(absl::Duration interval, std::function<void()> fn, Start start = kAfterInterval);
  // Stop(), then waits for a run in progress to return (never destroy it from `fn`).
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  // No run starts after this returns (one in progress finishes). Idempotent, never blocks.
  void Stop();
  // Runs completed so far (tests).
  int64_t runs() const;

 private:
  void Loop(Start start);

  // --- constant after construction ---
  const absl::Duration interval_;
  const std::function<void()> fn_;

  // --- protected by mu_ ---
  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  int64_t runs_ ABSL_GUARDED_BY(mu_) = 0;

  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace emar

#endif  // EMAR_COMMON_PERIODIC_TASK_H_
