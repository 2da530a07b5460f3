// A fixed pool of threads running queued tasks in order of arrival. The coordinator plans jobs,
// builds reports and stores worker results on pools like this one, never on gRPC threads.
//
//   WorkQueue pool(2);
//   pool.Push([] { Plan(); }, [] { AnswerUnavailable(); });  // `drop` runs if never started
//   pool.WaitIdle();                                          // tests
//   pool.Stop(WorkQueue::kDrop);  // no new tasks; the destructor joins the threads
//
// Thread-safe. Tasks and drop handlers run without the queue's lock held.
#ifndef EMAR_COMMON_WORK_QUEUE_H_
#define EMAR_COMMON_WORK_QUEUE_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace emar {

class WorkQueue {
 public:
  // What Stop does with the tasks still queued.
  enum StopMode {
    kDrain,  // runs them all, then stops
    kDrop,   // runs their drop handlers instead (at once, on the caller's thread)
  };

  // Starts max(1, threads) threads.
  explicit WorkQueue(int threads);
  // Stop(kDrop) unless stopped already, then waits for the threads (never call it from a task).
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `task`. After Stop, `task` never runs: `drop` (if any) runs at once instead and
  // Push returns false.
  bool Push(std::function<void()> task, std::function<void()> drop = nullptr);
  // Blocks until nothing is queued or running, or the queue is stopped.
  void WaitIdle();
  // Stops taking tasks and returns; the running ones finish (and with kDrain the queued ones
  // run) on the pool's threads. Only the first call counts.
  void Stop(StopMode mode);

 private:
  struct Item {
    std::function<void()> task;
    std::function<void()> drop;
  };
  void Loop();

  // --- protected by mu_ ---
  absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool drain_ ABSL_GUARDED_BY(mu_) = false;

  // --- constant after construction ---
  std::vector<std::thread> threads_;
};

}  // namespace emar

#endif  // EMAR_COMMON_WORK_QUEUE_H_
