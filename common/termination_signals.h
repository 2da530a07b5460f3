// SIGTERM/SIGINT handling for the service binaries: block both before any thread starts (threads
// inherit the mask), then wait for one with WaitForTerminationSignal on a thread of your choice.
//
//   sigset_t sigs = BlockTerminationSignals();   // first thing in main
//   ... start servers and threads ...
//   int sig = WaitForTerminationSignal(sigs);    // then drain and exit 0
#ifndef EMAR_COMMON_TERMINATION_SIGNALS_H_
#define EMAR_COMMON_TERMINATION_SIGNALS_H_

#include <pthread.h>
#include <signal.h>

namespace emar {

inline sigset_t BlockTerminationSignals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  return sigs;
}

inline int WaitForTerminationSignal(const sigset_t& sigs) {
  int sig = 0;
  sigwait(&sigs, &sig);
  return sig;
}

}  // namespace emar

#endif  // EMAR_COMMON_TERMINATION_SIGNALS_H_
