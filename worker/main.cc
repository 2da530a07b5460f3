// emar-worker: pulls shards from a coordinator and scores them.
//
//   emar-worker --coordinator 127.0.0.1:50051 --threads 2
//   emar-worker --coordinator coord.example:50051 --tls-ca ca.crt --token-file worker.token
//
// SIGTERM/SIGINT: stop leasing, finish the shards in hand, exit 0.
#include <signal.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/client_channel.h"
#include "common/flag_names.h"
#include "common/help_flag.h"
#include "common/http_endpoint.h"
#include "common/log_capture.h"
#include "common/malloc_arenas.h"
#include "common/mutex_checks.h"
#include "common/process_metrics.h"
#include "common/termination_signals.h"
#include "worker/worker_loop.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:50051", "coordinator HOST:PORT");
ABSL_FLAG(int32_t, threads, 1, "shards scored at once");
ABSL_FLAG(std::string, worker_id, "", "name in leases and logs (default hostname-pid)");
ABSL_FLAG(int32_t, lease_wait_seconds, 10, "long-poll wait for work");
ABSL_FLAG(std::string, tls_ca, "",
          "TLS: the CA certificate (PEM) that signed the coordinator's certificate");
ABSL_FLAG(std::string, tls_cert, "", "mutual TLS: this worker's certificate (PEM), with --tls-key");
ABSL_FLAG(std::string, tls_key, "", "mutual TLS: the private key (PEM) of --tls-cert");
ABSL_FLAG(std::string, health_listen, "",
          "HOST:PORT serving GET /healthz (live while the lease loop runs) and /readyz (ready "
          "while the coordinator answered within --ready-window-seconds) for Kubernetes probes");
ABSL_FLAG(std::string, metrics_listen, "",
          "HOST:PORT serving this worker's Prometheus metrics at GET /metrics (may equal "
          "--health-listen: one endpoint serves both)");
ABSL_FLAG(double, ready_window_seconds, 60,
          "/readyz fails when the coordinator has not answered for this long");
ABSL_FLAG(std::string, token_file, "",
          "file holding the worker's bearer token (default $EMAR_TOKEN)");
ABSL_FLAG(std::string, log_format, "text",
          "events on stderr, one line each (shard leased, scored, completed, with durations; "
          "reconnects; drain): text, json (JSON lines; then every line on stdout and stderr is "
          "a JSON object) or off");

namespace {

// Probes (--health-listen) and metrics (--metrics-listen): one endpoint when the addresses are
// equal, two otherwise. False (the error printed) when one cannot listen.
bool StartEndpoints(emar::WorkerLoop& worker, const std::atomic<bool>& running,
                    std::vector<std::unique_ptr<emar::HttpEndpoint>>* endpoints) {
  const absl::Duration window = absl::Seconds(absl::GetFlag(FLAGS_ready_window_seconds));
  emar::HttpEndpoint::Routes probes = {
      {"/healthz",
       [&] {
         return running.load() ? emar::HttpAnswer{200, "ok\n"}
                               : emar::HttpAnswer{503, "stopping\n"};
       }},
      {"/readyz", [&, window] {
         const absl::Duration since = absl::Now() - worker.last_contact();
         if (since <= window) return emar::HttpAnswer{200, "ready\n"};
         return emar::HttpAnswer{503, absl::StrCat("the coordinator has not answered for ",
                                                   worker.last_contact() == absl::InfinitePast()
                                                       ? std::string("ever")
                                                       : absl::FormatDuration(since),
                                                   "\n")};
       }}};
  emar::HttpEndpoint::Routes metrics = {
      {"/metrics", [&] {
         return emar::HttpAnswer{200, worker.MetricsText() + emar::ProcessMetricsText(),
                                 "text/plain; version=0.0.4; charset=utf-8"};
       }}};
  const std::string health_listen = absl::GetFlag(FLAGS_health_listen);
  const std::string metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  auto serve = [&](const std::string& listen, const char* flag, emar::HttpEndpoint::Routes routes,
                   const char* what) {
    auto endpoint = emar::HttpEndpoint::Start(listen, flag, std::move(routes));
    if (!endpoint.ok()) {
      emar::Notice(emar::LogLevel::kError, "fatal",
                   absl::StrCat("emar-worker: ", endpoint.status().message()));
      return false;
    }
    emar::Announce(absl::StrCat(what, "_listening"),
                   absl::StrCat(what, " on port ", (*endpoint)->port()),
                   {{"port", (*endpoint)->port()}});
    endpoints->push_back(std::move(*endpoint));
    return true;
  };
  if (!health_listen.empty() && health_listen == metrics_listen) {
    probes.insert(metrics.begin(), metrics.end());
    return serve(health_listen, "--health-listen", std::move(probes), "health");
  }
  if (!health_listen.empty() && !serve(health_listen, "--health-listen", probes, "health")) {
    return false;
  }
  return metrics_listen.empty() || serve(metrics_listen, "--metrics-listen", metrics, "metrics");
}

}  // namespace

int main(int argc, char** argv) {
  emar::LimitMallocArenas();
  emar::UseReleaseMutexChecks();
  absl::SetProgramUsageMessage(
      "emar-worker --coordinator HOST:PORT [--threads N] [--tls-ca FILE [--tls-cert FILE "
      "--tls-key FILE]] [--token-file FILE]");
  emar::NormalizedArgs flags(argc, argv);
  emar::ExitZeroOnHelp(argc, argv, "worker/main.cc");
  // Before the flags are parsed: with json, even a flag error is a JSON line.
  if (absl::Status s = emar::InitLogFormat(argc, argv, "text").status(); !s.ok()) {
    std::cerr << "emar-worker: " << s.message() << std::endl;
    return 1;
  }
  absl::ParseCommandLine(flags.argc(), flags.argv());
  // Before gRPC starts any thread, so every thread inherits the mask.
  const sigset_t sigs = emar::BlockTerminationSignals();

  emar::ClientConnectionOptions connection;
  connection.target = absl::GetFlag(FLAGS_coordinator);
  connection.tls = {.ca = absl::GetFlag(FLAGS_tls_ca),
                    .cert = absl::GetFlag(FLAGS_tls_cert),
                    .key = absl::GetFlag(FLAGS_tls_key)};
  absl::StatusOr<std::string> token = emar::ResolveToken(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) {
    emar::Notice(emar::LogLevel::kError, "fatal",
                 absl::StrCat("emar-worker: ", token.status().message()));
    return 1;
  }
  connection.token = *token;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = emar::OpenChannel(connection, args);
  if (!channel.ok()) {
    emar::Notice(emar::LogLevel::kError, "fatal",
                 absl::StrCat("emar-worker: ", channel.status().message()));
    return 1;
  }
  emar::WorkerOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.worker_id = absl::GetFlag(FLAGS_worker_id);
  options.lease_wait = absl::Seconds(absl::GetFlag(FLAGS_lease_wait_seconds));
  emar::WorkerLoop worker(*channel, options);
  std::atomic<bool> running{true};
  std::vector<std::unique_ptr<emar::HttpEndpoint>> endpoints;
  if (!StartEndpoints(worker, running, &endpoints)) return 1;
  // Run() returns only after Stop(), which only this thread calls.
  std::atomic<int64_t> drain_start_ns{0};  // 0: no signal (Run returned by itself)
  std::thread signals([&] {
    const int sig = emar::WaitForTerminationSignal(sigs);
    drain_start_ns = absl::GetCurrentTimeNanos();
    emar::LogEvent("draining", {{"signal", sig}, {"busy", worker.busy()}});
    worker.Stop();
  });
  emar::Announce("worker_serving", "worker serving " + absl::GetFlag(FLAGS_coordinator),
                 {{"coordinator", absl::GetFlag(FLAGS_coordinator)},
                  {"threads", absl::GetFlag(FLAGS_threads)}});
  worker.Run();
  running = false;
  signals.join();
  const absl::Duration drained =
      absl::Nanoseconds(absl::GetCurrentTimeNanos() - drain_start_ns.load());
  emar::Announce(
      "worker_stopped", absl::StrCat("worker stopped after ", worker.shards_completed(), " shards"),
      {{"shards", worker.shards_completed()}, {"duration_ms", emar::DurationMs(drained)}});
  return 0;
}
