// The standard `process_*` metrics of a Prometheus client library, and `emar_build_info`, as
// Prometheus text for a /metrics page, read from /proc at each call (Linux only):
//
//   process_cpu_seconds_total       user + system CPU time (counter)
//   process_resident_memory_bytes   resident set size
//   process_virtual_memory_bytes    virtual memory size
//   process_open_fds                open file descriptors
//   process_max_fds                 the descriptor limit (RLIMIT_NOFILE, soft)
//   process_start_time_seconds      start time, seconds since the Unix epoch
//   emar_build_info{version,commit,build} 1
//
//   page += emar::ProcessMetricsText();
//
// Thread-safe (reads only). A value /proc does not give is left out, never printed as 0.
#ifndef EMAR_COMMON_PROCESS_METRICS_H_
#define EMAR_COMMON_PROCESS_METRICS_H_

#include <cstdint>
#include <optional>
#include <string>

namespace emar {

struct ProcessStats {
  std::optional<double> cpu_seconds;
  std::optional<int64_t> resident_bytes;
  std::optional<int64_t> virtual_bytes;
  std::optional<int64_t> open_fds;
  std::optional<int64_t> max_fds;
  std::optional<double> start_time_seconds;
};

// This process's statistics now.
ProcessStats ReadProcessStats();

// Parses the contents of /proc/PID/stat (fields after the command's closing parenthesis) with
// the clock tick rate, page size and boot time (from /proc/stat's btime) given. Exposed for tests.
ProcessStats ParseProcStat(const std::string& stat, int64_t ticks_per_second, int64_t page_size,
                           int64_t boot_time_seconds);

// ProcessStats as Prometheus text (HELP, TYPE and a sample per metric), then emar_build_info.
std::string ProcessMetricsText();

}  // namespace emar

#endif  // EMAR_COMMON_PROCESS_METRICS_H_
