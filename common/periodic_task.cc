#include "common/periodic_task.h"

#include <utility>

namespace emar {

PeriodicTask::PeriodicTask(absl::Duration interval, std::function<void()> fn, Start start)
    : interval_(interval), fn_(std::move(fn)), thread_([this, start] { Loop(start); }) {}

PeriodicTask::~PeriodicTask() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::Stop() {
  absl::MutexLock lock(&mu_);
  stop_ = true;
}

int64_t PeriodicTask::runs() const {
  absl::MutexLock lock(&mu_);
  return runs_;
}

void PeriodicTask::Loop(Start start) {
  bool wait = start == kAfterInterval;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (wait ? mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_) : stop_) return;
    }
    wait = true;
    fn_();
    absl::MutexLock lock(&mu_);
    ++runs_;
  }
}

}  // namespace emar
