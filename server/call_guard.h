// The gRPC edge's one gate: every handler of both services admits its call through a CallGuard
// (request size, then authentication and authorization) in one line, and the request counter's
// interceptor (server/request_counter.h) counts every call's status, refused ones included.
//
//   CallGuard guard(&auth, Api::kClient, limits.max_request_bytes);
//   return ServeUnary(ctx, guard, req, resp, [&](const Principal& who) {
//     return core->GetJob(req->job_id(), who);
//   });
#ifndef EMAR_SERVER_CALL_GUARD_H_
#define EMAR_SERVER_CALL_GUARD_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <utility>

#include "absl/status/statusor.h"
#include "common/grpc_status.h"
#include "google/protobuf/message.h"
#include "server/auth.h"
#include "server/principal.h"

namespace emar {

class CallGuard {
 public:
  // `auth` may be null (everyone is the anonymous admin); `max_request_bytes` 0: no size limit.
  CallGuard(const Authenticator* auth, Api api, int64_t max_request_bytes)
      : auth_(auth), api_(api), max_request_bytes_(max_request_bytes) {}

  // RESOURCE_EXHAUSTED for a request larger than --max-request-kb allows (`req` null: a stream
  // whose messages are checked as they come), then the caller's principal or why it may not call.
  absl::StatusOr<Principal> Admit(const grpc::CallbackServerContext& ctx,
                                  const google::protobuf::Message* req) const;

 private:
  const Authenticator* const auth_;
  const Api api_;
  const int64_t max_request_bytes_;
};

// A unary call: admitted by `guard`, answered by `fn(who)` (a StatusOr of the response).
template <typename Request, typename Response, typename Fn>
grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* ctx, const CallGuard& guard,
                                     const Request* req, Response* resp, Fn&& fn) {
  const absl::StatusOr<Principal> who = guard.Admit(*ctx, req);
  if (!who.ok()) return FinishUnary(ctx, who.status());
  absl::StatusOr<Response> answer = std::forward<Fn>(fn)(*who);
  if (!answer.ok()) return FinishUnary(ctx, answer.status());
  *resp = *std::move(answer);
  return FinishUnary(ctx, absl::OkStatus());
}

// A stream refused before it starts: finished at once, deleted when gRPC is done with it.
template <typename Reactor>
Reactor* RefusedStream(const absl::Status& why) {
  class Refused final : public Reactor {
   public:
    void OnDone() override { delete this; }
  };
  auto* r = new Refused();
  r->Finish(ToGrpcStatus(why));
  return r;
}

}  // namespace emar

#endif  // EMAR_SERVER_CALL_GUARD_H_
