#include "server/coordinator_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/accept_reserve.h"
#include "common/process_metrics.h"
#include "common/prometheus_text.h"
#include "common/status_macros.h"
#include "common/tls_credentials.h"
#include "server/reflection_guard.h"

namespace emar {
namespace {

// The certificate's expiry as a Prometheus gauge (Unix seconds), "" without TLS. `cert_file`
// (when set) is read again: after a reload the gauge gives the new certificate's date.
std::string TlsMetricsText(absl::Time not_after, const std::string& cert_file) {
  if (not_after == absl::InfinitePast()) return "";
  if (!cert_file.empty()) {
    absl::StatusOr<CertificateDates> dates = ReadCertificateDates("--tls-cert", cert_file);
    if (dates.ok()) not_after = dates->not_after;
  }
  PrometheusText out;
  out.Gauge("emar_tls_certificate_expiry_timestamp_seconds",
            "When the --tls-cert certificate expires (Unix time).", absl::ToUnixSeconds(not_after));
  return std::move(out).Take();
}

std::string AcceptMetricsText() {
  PrometheusText out;
  out.Counter("emar_connections_dropped_out_of_descriptors_total",
              "Connections closed as soon as accepted because the process had no file descriptor "
              "left.",
              AcceptReserveDrops());
  return std::move(out).Take();
}

}  // namespace

CoordinatorServer::CoordinatorServer(Coordinator* coordinator, const ServerOptions& options)
    : coordinator_(coordinator),
      auth_(options.tokens),
      requests_(RequestCounter::ServedMethods()),
      uploads_(options.uploads),
      evaluation_(coordinator, &coordinator->blob_access(), options.client_api, &uploads_, &auth_),
      worker_(coordinator, &coordinator->blob_access(), &auth_),
      admin_(&coordinator->job_store(), &coordinator->blobs(), coordinator->data_dir(), &auth_) {}

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
CoordinatorServer::Interceptors() {
  auto factories = requests_.InterceptorFactories();
  if (auth_.enabled()) factories.push_back(MakeReflectionGuard(&auth_));
  return factories;
}

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    Coordinator* coordinator, const ServerOptions& options) {
  std::unique_ptr<CoordinatorServer> s(new CoordinatorServer(coordinator, options));
  // gRPC 1.51 stops listening for good after accept4 fails with EMFILE: see accept_reserve.h.
  InstallAcceptReserve();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  RETURN_IF_ERROR(s->StartGrpc(options));
  if (!options.metrics_listen.empty()) {
    absl::Status metrics = s->StartMetrics(options);
    if (!metrics.ok()) {
      s->Shutdown(absl::ZeroDuration());
      return metrics;
    }
  }
  s->server_->GetHealthCheckService()->SetServingStatus(true);
  if (s->worker_server_) s->worker_server_->GetHealthCheckService()->SetServingStatus(true);
  return s;
}

void CoordinatorServer::Configure(grpc::ServerBuilder& builder, const ServerOptions& options,
                                  const std::optional<grpc::ResourceQuota>& quota) {
  // No SO_REUSEPORT: a second coordinator on a port in use must fail to start, not share it
  // (on the same data dir its start-up cleanup would delete the first one's partial uploads).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  if (quota) builder.SetResourceQuota(*quota);
  builder.experimental().SetInterceptorCreators(Interceptors());
  if (options.max_connection_idle != absl::InfiniteDuration()) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_IDLE_MS,
        static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(options.max_connection_idle),
                                           std::numeric_limits<int>::max())));
  }
}

absl::Status CoordinatorServer::StartGrpc(const ServerOptions& options) {
  const std::shared_ptr<grpc::ServerCredentials> credentials =
      options.credentials ? options.credentials : grpc::InsecureServerCredentials();
  // Limits shared by both servers (one quota for both: the memory bound is the process's).
  std::optional<grpc::ResourceQuota> quota;
  if (options.max_grpc_memory_bytes > 0) {
    quota.emplace("emar-coordinator");
    quota->Resize(static_cast<size_t>(options.max_grpc_memory_bytes));
  }
  // "HOST:0" twice asks for two free ports.
  const bool separate_worker_port =
      !options.worker_listen.empty() &&
      (options.worker_listen != options.listen || absl::EndsWith(options.listen, ":0"));
  if (separate_worker_port) {
    // The worker API alone (and health) on its own address, so a NetworkPolicy can keep
    // clients off it.
    grpc::ServerBuilder builder;
    Configure(builder, options, quota);
    builder.AddListeningPort(options.worker_listen, credentials, &worker_port_);
    builder.RegisterService(&worker_);
    worker_server_ = builder.BuildAndStart();
    if (worker_server_ == nullptr || worker_port_ == 0) {
      worker_server_.reset();
      return absl::UnavailableError(
          absl::StrCat("cannot listen on '", options.worker_listen, "' (--worker-listen)"));
    }
  }
  grpc::ServerBuilder builder;
  Configure(builder, options, quota);
  if (!options.listen.empty()) {
    builder.AddListeningPort(options.listen, credentials, &port_);
  }
  builder.RegisterService(&evaluation_);
  builder.RegisterService(&admin_);
  if (!separate_worker_port) builder.RegisterService(&worker_);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || (!options.listen.empty() && port_ == 0)) {
    if (worker_server_) {
      worker_server_->Shutdown();
      worker_server_->Wait();
    }
    return absl::UnavailableError(absl::StrCat("cannot listen on '", options.listen, "'"));
  }
  return absl::OkStatus();
}

absl::Status CoordinatorServer::StartMetrics(const ServerOptions& options) {
  auto metrics = HttpEndpoint::Start(
      options.metrics_listen, "--metrics-listen",
      {{"/metrics",
        [p = this, not_after = options.tls_cert_not_after, cert = options.tls_cert_file] {
          return HttpAnswer{200,
                            p->coordinator_->MetricsText() + p->requests_.MetricsText() +
                                TlsMetricsText(not_after, cert) + AcceptMetricsText() +
                                ProcessMetricsText(),
                            "text/plain; version=0.0.4; charset=utf-8"};
        }},
       // Plain-HTTP probes beside the gRPC health service: kubelet's gRPC probe cannot
       // speak TLS, so with --tls-cert these are the probes to use.
       {"/healthz",
        [] {
          return HttpAnswer{200, "ok\n"};
        }},
       {"/readyz", [p = this] {
          if (p->shut_down_.load()) return HttpAnswer{503, "shutting down\n"};
          const std::string why = p->coordinator_->NotReadyReason();
          return why.empty() ? HttpAnswer{200, "serving\n"} : HttpAnswer{503, why + "\n"};
        }}});
  if (!metrics.ok()) return metrics.status();
  metrics_ = std::move(*metrics);
  return absl::OkStatus();
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
  if (worker_server_) worker_server_->GetHealthCheckService()->SetServingStatus(false);
  // Long-polls must end for the server to drain.
  coordinator_->Shutdown();
  const auto deadline = absl::ToChronoTime(absl::Now() + grace);
  if (worker_server_) worker_server_->Shutdown(deadline);
  server_->Shutdown(deadline);
  if (worker_server_) worker_server_->Wait();
  server_->Wait();
  metrics_.reset();  // last: /readyz says 503 while draining
}

}  // namespace emar
