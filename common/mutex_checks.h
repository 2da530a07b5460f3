// Debian builds Abseil without NDEBUG, so every absl::Mutex acquisition pays for Abseil's
// lock-order (deadlock) detection, a global graph updated under its own lock: the largest
// user-space item of the coordinator's profile under load. Tests keep it, since it finds
// lock-order mistakes; the binaries of an optimised build turn it off first thing in main.
//
//   int main(int argc, char** argv) {
//     emar::UseReleaseMutexChecks();
#ifndef EMAR_COMMON_MUTEX_CHECKS_H_
#define EMAR_COMMON_MUTEX_CHECKS_H_

#include "absl/synchronization/mutex.h"

namespace emar {

inline void UseReleaseMutexChecks() {
#ifdef NDEBUG
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
}

}  // namespace emar

#endif  // EMAR_COMMON_MUTEX_CHECKS_H_
