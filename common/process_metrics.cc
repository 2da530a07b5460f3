#include "common/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/build_info.h"

namespace emar {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<int64_t> BootTimeSeconds() {
  for (absl::string_view line : absl::StrSplit(ReadFile("/proc/stat"), '\n')) {
    int64_t t = 0;
    if (absl::ConsumePrefix(&line, "btime ") && absl::SimpleAtoi(line, &t)) return t;
  }
  return std::nullopt;
}

std::optional<int64_t> OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  int64_t n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the directory stream's own descriptor
}

void Append(std::string* out, const char* name, const char* type, const char* help,
            const std::optional<double>& value) {
  if (!value) return;
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ",
                  *value, "\n");
}

std::optional<double> AsDouble(const std::optional<int64_t>& v) {
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

}  // namespace

ProcessStats ParseProcStat(const std::string& stat, int64_t ticks_per_second, int64_t page_size,
                           int64_t boot_time_seconds) {
  ProcessStats s;
  // The command (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || ticks_per_second <= 0) return s;
  std::vector<absl::string_view> f =
      absl::StrSplit(absl::string_view(stat).substr(close + 1), ' ', absl::SkipEmpty());
  // f[0] is field 3 (state): field N is f[N - 3].
  auto field = [&](int n) -> std::optional<int64_t> {
    int64_t v = 0;
    if (n - 3 < 0 || static_cast<size_t>(n - 3) >= f.size() || !absl::SimpleAtoi(f[n - 3], &v)) {
      return std::nullopt;
    }
    return v;
  };
  const auto utime = field(14), stime = field(15), start = field(22), vsize = field(23),
             rss = field(24);
  if (utime && stime) {
    s.cpu_seconds = static_cast<double>(*utime + *stime) / static_cast<double>(ticks_per_second);
  }
  if (start && boot_time_seconds > 0) {
    s.start_time_seconds = static_cast<double>(boot_time_seconds) +
                           static_cast<double>(*start) / static_cast<double>(ticks_per_second);
  }
  if (vsize) s.virtual_bytes = *vsize;
  if (rss && page_size > 0) s.resident_bytes = *rss * page_size;
  return s;
}

ProcessStats ReadProcessStats() {
  const std::optional<int64_t> boot = BootTimeSeconds();
  ProcessStats s = ParseProcStat(ReadFile("/proc/self/stat"), sysconf(_SC_CLK_TCK),
                                 sysconf(_SC_PAGESIZE), boot.value_or(0));
  s.open_fds = OpenFds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    s.max_fds = static_cast<int64_t>(limit.rlim_cur);
  }
  return s;
}

std::string ProcessMetricsText() {
  const ProcessStats s = ReadProcessStats();
  std::string out;
  Append(&out, "process_cpu_seconds_total", "counter", "Total user and system CPU time in seconds.",
         s.cpu_seconds);
  Append(&out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         AsDouble(s.resident_bytes));
  Append(&out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
         AsDouble(s.virtual_bytes));
  Append(&out, "process_open_fds", "gauge", "Number of open file descriptors.",
         AsDouble(s.open_fds));
  Append(&out, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
         AsDouble(s.max_fds));
  Append(&out, "process_start_time_seconds", "gauge",
         "Start time of the process since unix epoch in seconds.", s.start_time_seconds);
  absl::StrAppend(&out,
                  "# HELP emar_build_info The running binary: version, commit and build type.\n"
                  "# TYPE emar_build_info gauge\nemar_build_info{version=\"",
                  BuildVersion(), "\",commit=\"", BuildCommit(), "\",build=\"",
                  IsReleaseBuild() ? "release" : "debug", "\"} 1\n");
  return out;
}

}  // namespace emar
