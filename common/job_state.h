// Small facts about emar.v1.JobState shared by the coordinator, its services and clients.
// Header-only; include it only from targets that link emar_proto.
#ifndef EMAR_COMMON_JOB_STATE_H_
#define EMAR_COMMON_JOB_STATE_H_

#include "emar/v1/job.pb.h"

namespace emar {

// SUCCEEDED, FAILED and CANCELLED: the job will not change again.
inline bool IsTerminalJobState(emar::v1::JobState s) {
  return s == emar::v1::JOB_STATE_SUCCEEDED || s == emar::v1::JOB_STATE_FAILED ||
         s == emar::v1::JOB_STATE_CANCELLED;
}

}  // namespace emar

#endif  // EMAR_COMMON_JOB_STATE_H_
