// A store write that failed for lack of space (SQLite's SQLITE_FULL, ENOSPC, EDQUOT) is an
// outage, not a verdict on the job: the coordinator keeps the job and its leases as they were and
// the writer retries once space returns. Such errors carry a marker so callers can tell them from
// other failures, and a client message without the server's paths (common/client_message.h).
//
//   if (IsStorageFull(status)) ... keep the lease, answer UNAVAILABLE, say not ready ...
#ifndef EMAR_SERVER_STORAGE_FULL_H_
#define EMAR_SERVER_STORAGE_FULL_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "common/client_message.h"

namespace emar {

inline constexpr absl::string_view kStorageFullPayload = "type.emar/storage-full";

// RESOURCE_EXHAUSTED with `detail` for the server's log, marked as a full disk.
inline absl::Status StorageFullError(absl::string_view detail) {
  absl::Status s = WithClientMessage(
      absl::ResourceExhaustedError(detail),
      "the coordinator's storage is full: nothing was stored; retry once space is freed");
  s.SetPayload(kStorageFullPayload, absl::Cord("1"));
  return s;
}

inline bool IsStorageFull(const absl::Status& s) {
  return !s.ok() && s.GetPayload(kStorageFullPayload).has_value();
}

}  // namespace emar

#endif  // EMAR_SERVER_STORAGE_FULL_H_
