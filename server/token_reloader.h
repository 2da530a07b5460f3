// Hot reload of the --tokens file: re-read every `interval` (Kubernetes swaps a mounted Secret's
// files atomically, so a poll sees the old file or the new one) and on Reload() (SIGHUP). When
// the file's bytes changed and parse, the Authenticator checks every later call against the new
// table; calls and streams already admitted keep going. A file that does not parse leaves the
// tables in force and is logged naming file and line: a typo must not lock every caller out.
//
//   TokenReloader reloader(&server->authenticator(), "/etc/emar/tokens/tokens", absl::Seconds(10));
//   ... on SIGHUP: reloader.Reload();
#ifndef EMAR_SERVER_TOKEN_RELOADER_H_
#define EMAR_SERVER_TOKEN_RELOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/periodic_task.h"
#include "server/auth.h"

namespace emar {

class TokenReloader {
 public:
  // `auth` (enabled, with the tables of `path` as loaded at start) must outlive the reloader.
  // `interval` zero: no polling, Reload() only.
  TokenReloader(Authenticator* auth, std::string path, absl::Duration interval);
  ~TokenReloader();

  // Reads the file now: true when new tables took effect, false when the file is unchanged; an
  // error (file and line) when it cannot be read or parsed, the old tables staying in force.
  absl::StatusOr<bool> Reload();

 private:
  Authenticator* const auth_;
  const std::string path_;
  absl::Mutex mu_;                           // one reload at a time (the poll and SIGHUP)
  std::string loaded_ ABSL_GUARDED_BY(mu_);  // the bytes in force
  std::unique_ptr<PeriodicTask> poll_;       // last: stopped first
};

}  // namespace emar

#endif  // EMAR_SERVER_TOKEN_RELOADER_H_
