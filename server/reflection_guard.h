// Server reflection under --tokens: reflection lists every service and message of the server, so
// it takes the same bearer tokens as the APIs (any role). gRPC registers the reflection service
// itself, out of reach of the handlers' CallGuard; this server interceptor refuses it instead.
// A refused caller gets, in place of every reflection answer, an error_response carrying the
// refusal's code and message, and the stream ends with that status.
//
//   builder.experimental().SetInterceptorCreators(...);  // with MakeReflectionGuard(&auth)
#ifndef EMAR_SERVER_REFLECTION_GUARD_H_
#define EMAR_SERVER_REFLECTION_GUARD_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "server/auth.h"

namespace emar {

// The interceptor factory; `auth` must be enabled and outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeReflectionGuard(
    const Authenticator* auth);

// The serialized ServerReflectionResponse holding only error_response{code, message}.
std::string ReflectionErrorResponse(const absl::Status& status);

}  // namespace emar

#endif  // EMAR_SERVER_REFLECTION_GUARD_H_
