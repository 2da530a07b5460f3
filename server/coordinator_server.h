// Server wiring in one place: both services, the standard health service and reflection, on one
// listening address (or none, for the embedded default's in-process channel). Every call is
// counted (server/request_counter.h); with tokens, reflection takes them too
// (server/reflection_guard.h).
//
//   ASSIGN_OR_RETURN(auto server, CoordinatorServer::Start(coordinator.get(), {.listen =
//   "127.0.0.1:0"})); std::cout << server->port();
#ifndef EMAR_SERVER_COORDINATOR_SERVER_H_
#define EMAR_SERVER_COORDINATOR_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/http_endpoint.h"
#include "server/admin_service.h"
#include "server/auth.h"
#include "server/coordinator.h"
#include "server/evaluation_service.h"
#include "server/request_counter.h"
#include "server/upload_reactor.h"
#include "server/worker_service.h"

namespace emar {

struct ServerOptions {
  std::string listen;  // HOST:PORT; port 0 picks a free one; empty: in-process only
  // TLS (and mTLS) for every port; null: plaintext (--tls-cert, --tls-key, --tls-client-ca).
  std::shared_ptr<grpc::ServerCredentials> credentials;
  // When the certificate of `credentials` expires (WarnOfCertificateDates), exported at /metrics
  // as emar_tls_certificate_expiry_timestamp_seconds; InfinitePast: not exported.
  absl::Time tls_cert_not_after = absl::InfinitePast();
  // The certificate file, re-read at every scrape so that the metric follows a reloaded
  // certificate (tls_cert_not_after stays in force while it cannot be read). Empty: not re-read.
  std::string tls_cert_file;
  ClientApiLimits client_api;  // --max-blob-mb, --max-request-kb
  // The transport's limit for any message (the worker API's shard results are the largest).
  int max_message_bytes = 64 << 20;  // --max-message-mb
  // Memory gRPC may hold for all connections together (a message being received counts): past
  // it, the largest streams are cut with RESOURCE_EXHAUSTED. Without it, gRPC buffers a message
  // whole before checking max_message_bytes. 0: no limit.
  int64_t max_grpc_memory_bytes = int64_t{512} << 20;  // --max-grpc-memory-mb
  // A connection with no call in progress for this long is closed (clients reconnect on their
  // next call); it bounds the descriptors idle clients hold. InfiniteDuration: never.
  absl::Duration max_connection_idle = absl::Minutes(5);  // --max-connection-idle-seconds
  UploadLimits uploads;  // concurrent and idle uploads (--max-uploads, --upload-idle-seconds)
  // The worker API's own address (--worker-listen); empty or equal to `listen` (but for port 0):
  // served there.
  std::string worker_listen;
  // HOST:PORT serving Prometheus metrics at /metrics (--metrics-listen); empty: none.
  std::string metrics_listen;
  // Bearer tokens (--tokens); nullopt: no authentication.
  std::optional<TokenTable> tokens;
};

class CoordinatorServer {
 public:
  // `coordinator` must outlive the server.
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(Coordinator* coordinator,
                                                                  const ServerOptions& options);
  ~CoordinatorServer();

  int port() const { return port_; }
  // The worker API's port (port() when it shares the main one).
  int worker_port() const { return worker_server_ ? worker_port_ : port_; }
  // The metrics port (0 without metrics_listen).
  int metrics_port() const { return metrics_ ? metrics_->port() : 0; }
  // Who may call: its tokens may be replaced while serving (server/token_reloader.h).
  Authenticator& authenticator() { return auth_; }
  // Uploads holding a slot now (--max-uploads).
  int uploads_in_progress() const { return uploads_.in_progress(); }
  // A channel to this server that skips the network (embedded default, tests).
  std::shared_ptr<grpc::Channel> InProcessChannel();
  // Stops accepting calls, waits up to `grace` for running ones, then cancels the rest.
  void Shutdown(absl::Duration grace);

 private:
  CoordinatorServer(Coordinator* coordinator, const ServerOptions& options);
  // Every server's interceptors: request counting, and with tokens the reflection guard.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
  Interceptors();
  // The options every server of the coordinator is built with: message sizes, the shared
  // memory quota, interceptors, idle connections.
  void Configure(grpc::ServerBuilder& builder, const ServerOptions& options,
                 const std::optional<grpc::ResourceQuota>& quota);
  // Builds and starts the main server and, with a separate worker_listen, the worker one.
  absl::Status StartGrpc(const ServerOptions& options);
  // The metrics and probes endpoint on metrics_listen.
  absl::Status StartMetrics(const ServerOptions& options);

  Coordinator* const coordinator_;
  Authenticator auth_;       // its tokens may be replaced (server/token_reloader.h)
  RequestCounter requests_;  // outlives both servers (their interceptors count into it)
  UploadLimiter uploads_;    // declared before server_: outlives every upload reactor
  EvaluationServiceImpl evaluation_;
  WorkerServiceImpl worker_;
  AdminServiceImpl admin_;  // main port only: the worker port never serves backups
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> worker_server_;  // with worker_listen only
  int port_ = 0;
  int worker_port_ = 0;
  std::unique_ptr<HttpEndpoint> metrics_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace emar

#endif  // EMAR_SERVER_COORDINATOR_SERVER_H_
