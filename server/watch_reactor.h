// The server side of EvaluationService.WatchJob: streams a job's state after every change until
// it is terminal. Events come from the core's watch callbacks on any thread; a slow reader gets
// them queued in order, never a stale progress after a newer one.
//
//   return NewWatchReactor(core, req->job_id(), who);  // deletes itself when done
#ifndef EMAR_SERVER_WATCH_REACTOR_H_
#define EMAR_SERVER_WATCH_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "emar/v1/service.pb.h"
#include "server/principal.h"
#include "server/service_cores.h"

namespace emar {

// A reactor for one WatchJob call. The stream ends OK after the terminal state, UNAVAILABLE when
// the core shuts down with the job unfinished, or with the core's error (e.g. NOT_FOUND).
grpc::ServerWriteReactor<emar::v1::JobEvent>* NewWatchReactor(ClientCore* core,
                                                              const std::string& job_id,
                                                              const Principal& who);

}  // namespace emar

#endif  // EMAR_SERVER_WATCH_REACTOR_H_
