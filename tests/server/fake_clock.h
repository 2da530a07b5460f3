// Time that moves only when the test says so. Thread-safe.
#ifndef EMAR_TESTS_SERVER_FAKE_CLOCK_H_
#define EMAR_TESTS_SERVER_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/clock.h"

namespace emar {

class FakeClock : public Clock {
 public:
  absl::Time Now() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1700000000);
};

}  // namespace emar

#endif  // EMAR_TESTS_SERVER_FAKE_CLOCK_H_
