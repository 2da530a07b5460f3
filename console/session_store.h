// The console's logins: a random session id (the cookie's value) bound to the principal whose
// token opened it, with a CSRF token for the forms that change something (logging out). Kept in
// memory and, given a SessionTable (server/session_table.h: the job store's file, keyed by the
// sha256 of the id), on disk: a restarted coordinator still knows its logins until they expire.
//
//   SessionStore sessions;
//   std::string id = sessions.Create(who);           // Set-Cookie: ...=id
//   if (std::optional<Session> s = sessions.Find(id)) Serve(s->who);
#ifndef EMAR_CONSOLE_SESSION_STORE_H_
#define EMAR_CONSOLE_SESSION_STORE_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/principal.h"
#include "server/session_table.h"

namespace emar {

struct Session {
  Principal who;
  // Hidden in the console's POST forms, checked on their submission: the sha256 of a fixed
  // prefix and the session id, so that the disk needs to hold neither.
  std::string csrf;
  absl::Time expires;
};

struct SessionLimits {
  absl::Duration lifetime = absl::Hours(8);  // from login; then the cookie no longer works
  size_t max_sessions = 10000;               // more: the one closest to expiring is dropped first
};

class SessionStore {
 public:
  // With `table` (it must outlive the store), sessions are written through to it and found in it
  // when memory lacks them (after a restart).
  explicit SessionStore(
      SessionLimits limits = SessionLimits(),
      std::function<absl::Time()> now = [] { return absl::Now(); }, SessionTable* table = nullptr)
      : limits_(limits), now_(std::move(now)), table_(table) {}

  // A new session for `who`; returns its id (256 random bits, hex).
  std::string Create(const Principal& who);
  // The session of `id` if it exists and has not expired (an expired one is removed).
  std::optional<Session> Find(absl::string_view id);
  void Remove(absl::string_view id);
  size_t size() const;
  absl::Duration lifetime() const { return limits_.lifetime; }

 private:
  // A session of the table that memory lacks (after a restart), now kept in memory too.
  std::optional<Session> FindStored(absl::string_view id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SessionLimits limits_;
  const std::function<absl::Time()> now_;
  SessionTable* const table_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Session> sessions_ ABSL_GUARDED_BY(mu_);
};

// `bytes` bytes from the kernel's random source (getrandom), in lower-case hex.
std::string RandomHex(size_t bytes);

}  // namespace emar

#endif  // EMAR_CONSOLE_SESSION_STORE_H_
