// The server side of WorkerService.Lease: a long-poll answered from the core's callback, so a
// waiting worker parks no server thread. Whichever comes first, the core's answer or the client's
// cancellation, finishes the call; a cancelled wait is withdrawn from the core.
//
//   return NewLeaseReactor(core, req, resp);  // deletes itself when done
#ifndef EMAR_SERVER_LEASE_REACTOR_H_
#define EMAR_SERVER_LEASE_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include "emar/v1/service.pb.h"
#include "server/service_cores.h"

namespace emar {

// `req` and `resp` live until the reactor finishes (gRPC's guarantee for a unary call).
grpc::ServerUnaryReactor* NewLeaseReactor(WorkerCore* core, const emar::v1::LeaseRequest* req,
                                          emar::v1::LeaseResponse* resp);

}  // namespace emar

#endif  // EMAR_SERVER_LEASE_REACTOR_H_
