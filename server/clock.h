// The coordinator's time source, injectable so that tests replay lease expiry without sleeping.
#ifndef EMAR_SERVER_CLOCK_H_
#define EMAR_SERVER_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace emar {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // absl::Now(); lives for the whole process.
  static Clock* Real();
};

}  // namespace emar

#endif  // EMAR_SERVER_CLOCK_H_
