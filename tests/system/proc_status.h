// Reads a child process's memory figures from /proc for tests that bound them.
#ifndef EMAR_TESTS_SYSTEM_PROC_STATUS_H_
#define EMAR_TESTS_SYSTEM_PROC_STATUS_H_

#include <sys/types.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace emar::testing {

// The value of `field` ("VmHWM", "VmRSS") in /proc/PID/status, KiB; -1 if unreadable.
inline int64_t ProcStatusKb(pid_t pid, absl::string_view field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  const std::string prefix = absl::StrCat(field, ":");
  std::string line;
  while (std::getline(status, line)) {
    int64_t kb;
    if (absl::StartsWith(line, prefix) &&
        absl::SimpleAtoi(
            absl::StripAsciiWhitespace(absl::StripSuffix(line.substr(prefix.size()), "kB")), &kb)) {
      return kb;
    }
  }
  return -1;
}

// Resets the peak resident memory (VmHWM) of process `pid` to its current size (Linux 4.0+).
inline bool ResetPeakRssOf(pid_t pid) {
  std::ofstream clear(absl::StrCat("/proc/", pid, "/clear_refs"));
  clear << "5";
  clear.close();
  return !clear.fail();
}

}  // namespace emar::testing

#endif  // EMAR_TESTS_SYSTEM_PROC_STATUS_H_
