#include "server/coordinator_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace emar {

CoordinatorServer::CoordinatorServer(Coordinator* coordinator, const ServerOptions& options)
    : coordinator_(coordinator),
      uploads_(options.uploads),
      evaluation_(coordinator, options.client_api, &uploads_),
      worker_(coordinator) {}

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    Coordinator* coordinator, const ServerOptions& options) {
  std::unique_ptr<CoordinatorServer> s(new CoordinatorServer(coordinator, options));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!options.listen.empty()) {
    builder.AddListeningPort(
        options.listen,
        options.credentials ? options.credentials : grpc::InsecureServerCredentials(), &s->port_);
  }
  // No SO_REUSEPORT: a second coordinator on a port in use must fail to start, not share it
  // (on the same data dir its start-up cleanup would delete the first one's partial uploads).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  if (options.max_grpc_memory_bytes > 0) {
    grpc::ResourceQuota quota("emar-coordinator");
    quota.Resize(static_cast<size_t>(options.max_grpc_memory_bytes));
    builder.SetResourceQuota(quota);
  }
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  if (options.max_connection_idle != absl::InfiniteDuration()) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_IDLE_MS,
        static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(options.max_connection_idle),
                                           std::numeric_limits<int>::max())));
  }
  builder.RegisterService(&s->evaluation_);
  builder.RegisterService(&s->worker_);
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || (!options.listen.empty() && s->port_ == 0)) {
    return absl::UnavailableError(absl::StrCat("cannot listen on '", options.listen, "'"));
  }
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  return s;
}

CoordinatorServer::~CoordinatorServer() { Shutdown(absl::Seconds(5)); }

std::shared_ptr<grpc::Channel> CoordinatorServer::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return server_->InProcessChannel(args);
}

void CoordinatorServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;  // never started (Start failed)
  shut_down_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  // Long-polls must end for the server to drain.
  coordinator_->Shutdown();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

}  // namespace emar
