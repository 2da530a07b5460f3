// Who is calling: a role and a principal name, from the caller's bearer token (server/auth.h).
// No gRPC here: the coordinator's logic takes a Principal to decide what a caller may see.
//
//   if (!principal.Sees(job.owner())) return NotFound(...);  // never reveal another's job
#ifndef EMAR_SERVER_PRINCIPAL_H_
#define EMAR_SERVER_PRINCIPAL_H_

#include <string>

#include "absl/strings/string_view.h"

namespace emar {

enum class Role { kClient, kWorker, kAdmin };

struct Principal {
  Role role = Role::kAdmin;
  // The owner recorded on jobs and uploads. Empty only without --tokens (one anonymous admin).
  std::string name;

  bool admin() const { return role == Role::kAdmin; }
  // May this caller see a job or blob owned by `owner`?
  bool Sees(absl::string_view owner) const { return admin() || owner == name; }
  // The caller of a coordinator that has no --tokens, and of in-process callers (tests, embedded).
  static Principal Anonymous() { return Principal{}; }
};

inline absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kClient:
      return "client";
    case Role::kWorker:
      return "worker";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

}  // namespace emar

#endif  // EMAR_SERVER_PRINCIPAL_H_
