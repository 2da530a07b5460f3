// Plain HTTP against the binaries' probe ports (/healthz, /readyz, /metrics), and the port files
// they write, for system tests.
//
//   const int port = WaitForPortFile(dir.Join("metrics-port"), cluster->coordinator());
//   std::string answer = HttpGet(port, "/readyz", absl::Seconds(5));   // "HTTP/1.1 200 ..."
#ifndef EMAR_TESTS_SYSTEM_HTTP_PROBE_H_
#define EMAR_TESTS_SYSTEM_HTTP_PROBE_H_

#include <string>

#include "absl/time/time.h"
#include "tests/system/process.h"

namespace emar::testing {

// A connected socket to 127.0.0.1:port, or -1.
int Connect(int port);
// GET `path` on a new connection; the whole answer, or "" when it is not complete in `timeout`.
std::string HttpGet(int port, const std::string& path, absl::Duration timeout);
// The number in `file` once a process wrote it, or 0 after 30 s (or once `process` ended).
int WaitForPortFile(const std::string& file, Process& process);

}  // namespace emar::testing

#endif  // EMAR_TESTS_SYSTEM_HTTP_PROBE_H_
