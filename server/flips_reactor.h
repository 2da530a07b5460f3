// The server side of EvaluationService.ListFlips: asks the core for the flips of a finished job,
// then writes them one message at a time (a slow reader holds no more than the list).
//
//   return NewFlipsReactor(core, *req, who);  // deletes itself when done
#ifndef EMAR_SERVER_FLIPS_REACTOR_H_
#define EMAR_SERVER_FLIPS_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include "emar/v1/report.pb.h"
#include "emar/v1/service.pb.h"
#include "server/principal.h"
#include "server/service_cores.h"

namespace emar {

// The stream ends OK after the last item, or with the core's error (NOT_FOUND, INVALID_ARGUMENT
// naming the dataset, FAILED_PRECONDITION for an unfinished job) before any item.
grpc::ServerWriteReactor<emar::v1::FlipItem>* NewFlipsReactor(
    ClientCore* core, const emar::v1::ListFlipsRequest& request, const Principal& who);

}  // namespace emar

#endif  // EMAR_SERVER_FLIPS_REACTOR_H_
