#include "common/work_queue.h"

#include <algorithm>
#include <utility>

namespace emar {

WorkQueue::WorkQueue(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
}

WorkQueue::~WorkQueue() {
  Stop(kDrop);
  for (std::thread& t : threads_) t.join();
}

bool WorkQueue::Push(std::function<void()> task, std::function<void()> drop) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Item{std::move(task), std::move(drop)});
      return true;
    }
  }
  if (drop) drop();
  return false;
}

void WorkQueue::WaitIdle() {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || (queue_.empty() && running_ == 0);
  };
  mu_.Await(absl::Condition(&idle));
}

void WorkQueue::Stop(StopMode mode) {
  std::deque<Item> dropped;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    drain_ = mode == kDrain;
    if (!drain_) dropped.swap(queue_);
  }
  for (Item& item : dropped) {
    if (item.drop) item.drop();
  }
}

void WorkQueue::Loop() {
  for (;;) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty() || (stopping_ && !drain_)) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    item.task();
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace emar
