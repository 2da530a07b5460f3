// emar-coordinator: serves EvaluationService and WorkerService from one data dir.
//
//   emar-coordinator --listen 0.0.0.0:50051 --data-dir /var/lib/emar
//
// Prints "listening on HOST:PORT" once ready (with the real port when --listen asks for port 0)
// and, with --port-file, writes the port there. SIGTERM/SIGINT drain and exit 0.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/event_log.h"
#include "common/file_util.h"
#include "common/flag_names.h"
#include "common/help_flag.h"
#include "common/log_capture.h"
#include "common/malloc_arenas.h"
#include "common/mutex_checks.h"
#include "common/status_macros.h"
#include "common/termination_signals.h"
#include "common/tls_credentials.h"
#include "console/console.h"
#include "eval/job/job_defaults.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"
#include "server/job_store_backup.h"
#include "server/session_table.h"
#include "server/token_reloader.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "HOST:PORT to serve on; port 0 picks a free port");
ABSL_FLAG(std::string, data_dir, "", "directory for the job store and blobs (required)");
ABSL_FLAG(std::string, port_file, "", "write the bound port to this file once serving");
ABSL_FLAG(int64_t, rows_per_shard, emar::kDefaultRowsPerShard,
          "rows of a model output file per shard");
ABSL_FLAG(int32_t, lease_ttl_seconds, absl::ToInt64Seconds(emar::SchedulerOptions{}.lease_ttl),
          "a shard whose worker has not heartbeated this long is requeued");
ABSL_FLAG(int32_t, max_attempts, emar::SchedulerOptions{}.max_attempts,
          "a shard failing this many times fails its job");
ABSL_FLAG(int64_t, max_blob_mb, emar::ClientApiLimits{}.max_blob_bytes >> 20,
          "largest accepted upload, MiB");
ABSL_FLAG(int64_t, max_request_kb, emar::ClientApiLimits{}.max_request_bytes >> 10,
          "largest client request or upload chunk, KiB");
ABSL_FLAG(int32_t, max_message_mb, emar::ServerOptions{}.max_message_bytes >> 20,
          "largest message of any kind (worker results are the largest), MiB");
ABSL_FLAG(int64_t, max_grpc_memory_mb, emar::ServerOptions{}.max_grpc_memory_bytes >> 20,
          "memory gRPC may hold for all connections, MiB; past it the largest streams are cut "
          "with RESOURCE_EXHAUSTED (0: no limit)");
ABSL_FLAG(double, max_connection_idle_seconds,
          absl::ToDoubleSeconds(emar::ServerOptions{}.max_connection_idle),
          "a connection with no call in progress this long is closed (clients reconnect)");
ABSL_FLAG(int, max_datasets, emar::SuiteLimits().max_datasets,
          "most target + benchmark datasets a job may have");
ABSL_FLAG(int, max_metrics_per_dataset, emar::SuiteLimits().max_metrics_per_dataset,
          "most metrics a dataset of a job may list");
ABSL_FLAG(int, max_suite_scores, emar::SuiteLimits().max_scores,
          "most candidates x datasets x metrics a job may ask to compare");
ABSL_FLAG(double, max_bootstrap_work, emar::kDefaultMaxBootstrapWork,
          "largest resamples x models x examples a job may ask; larger jobs are refused");
ABSL_FLAG(int32_t, finalizer_threads, emar::CoordinatorOptions{}.finalizer_threads,
          "jobs whose reports are built at once (a heavy job holds one, never all)");
ABSL_FLAG(int32_t, planner_threads, emar::CoordinatorOptions{}.planner_threads,
          "CreateJob requests checked and sharded at once");
ABSL_FLAG(int64_t, max_input_mb, static_cast<int64_t>(emar::kDefaultMaxInputBytes >> 20),
          "largest input file after decompression, MiB; larger inputs are refused at CreateJob");
ABSL_FLAG(std::vector<std::string>, input_root, {},
          "a directory whose files jobs may name as file:// inputs (repeatable; symlinks and "
          "'..' are resolved before the check; default none: file:// inputs are off)");
ABSL_FLAG(double, url_timeout_seconds, absl::ToDoubleSeconds(emar::InputFetchOptions{}.timeout),
          "bound of connecting to and of reading a whole https:// input; a transfer under 1 KiB/s "
          "for 30 s is stopped too");
ABSL_FLAG(bool, allow_private_urls, false,
          "let https:// inputs connect to loopback, link-local (cloud metadata), private and "
          "unspecified addresses");
ABSL_FLAG(std::string, url_ca_file, "",
          "PEM CA bundle for https:// inputs, instead of the system's (a private CA)");

ABSL_FLAG(int32_t, max_uploads, emar::UploadLimits{}.max_concurrent,
          "uploads in progress at once; one more is refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(double, upload_idle_seconds, absl::ToDoubleSeconds(emar::UploadLimits{}.idle_timeout),
          "an upload that receives nothing this long is ended and its partial file removed");

ABSL_FLAG(std::string, tls_cert, "", "TLS certificate chain (PEM) for every port");
ABSL_FLAG(std::string, tls_key, "", "private key (PEM) of --tls-cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "mutual TLS: refuse peers without a certificate signed by this CA (PEM)");

ABSL_FLAG(int32_t, tls_reload_seconds, 60,
          "read --tls-cert, --tls-key and --tls-client-ca again this often: new connections get "
          "a renewed certificate without a restart (0: read once)");
ABSL_FLAG(int32_t, tokens_reload_seconds, 10,
          "read --tokens again this often (and on SIGHUP): later calls are checked against the "
          "new tokens, calls in progress go on (0: on SIGHUP only)");
ABSL_FLAG(std::string, log_format, "text",
          "lifecycle events on stderr, one line each: text, json (JSON lines; then every line on "
          "stdout and stderr is a JSON object) or off");
ABSL_FLAG(std::string, tokens, "",
          "bearer tokens file, one 'ROLE PRINCIPAL SHA256HEX' per line (roles client, worker, "
          "admin); without it every caller is an anonymous admin");
ABSL_FLAG(std::string, worker_listen, "",
          "HOST:PORT for the worker API alone (default: served on --listen with the client API)");
ABSL_FLAG(std::string, worker_port_file, "", "write the worker API's bound port here");
ABSL_FLAG(std::string, metrics_listen, "",
          "HOST:PORT serving Prometheus metrics at GET /metrics (port 0: a free one)");
ABSL_FLAG(std::string, metrics_port_file, "", "write the metrics port here");
ABSL_FLAG(std::string, console_listen, "",
          "HOST:PORT serving the read-only web console (docs/console.md); empty: none");
ABSL_FLAG(std::string, console_port_file, "", "write the console's port here");
ABSL_FLAG(double, max_store_gb, 0,
          "blob store size limit, GB; an upload past it is refused (0: no limit)");
ABSL_FLAG(int32_t, max_jobs_per_principal,
          emar::CoordinatorOptions{}.max_unfinished_jobs_per_principal,
          "unfinished (queued or running) jobs one principal may have; admins have no cap");
ABSL_FLAG(double, retention_days, 0,
          "delete finished jobs, and uploads no job reads, this many days after their last "
          "change (0: keep everything)");
ABSL_FLAG(bool, score_cache, emar::CoordinatorOptions{}.score_cache,
          "reuse a shard's statistics when an earlier job scored the same outputs and references "
          "with the same metric and fields (--score-cache=false: score everything every time)");
ABSL_FLAG(bool, share_score_cache, emar::CoordinatorOptions{}.share_score_cache,
          "let a principal's jobs reuse statistics another principal's jobs stored (default: "
          "each principal's cache entries are its own; without --tokens all jobs share)");
ABSL_FLAG(std::string, restore, "",
          "restore the backup in this directory (emarctl admin backup DIR) into --data-dir, "
          "which must hold no job store yet, then exit; start the coordinator again without it");
ABSL_FLAG(double, retention_interval_seconds,
          absl::ToDoubleSeconds(emar::CoordinatorOptions{}.retention_interval),
          "how often retention runs");

namespace {

// Raises the open-files soft limit to the hard limit, so that descriptors do not run short under
// load (every upload holds a socket and a temporary file; gRPC stops accepting connections for
// good once accept4 fails with EMFILE). Returns the soft limit now in force.
rlim_t RaiseOpenFilesLimit() {
  struct rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return RLIM_INFINITY;
  const rlim_t old_soft = rl.rlim_cur;
  if (rl.rlim_cur != rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      emar::Notice(
          emar::LogLevel::kWarning, "open_files_limit",
          absl::StrCat("emar-coordinator: cannot raise the open files limit from ", old_soft,
                       " to ", rl.rlim_max),
          {{"soft", static_cast<int64_t>(old_soft)}, {"hard", static_cast<int64_t>(rl.rlim_max)}});
      return old_soft;
    }
  }
  emar::Notice(
      emar::LogLevel::kInfo, "open_files_limit",
      absl::StrCat("emar-coordinator: open files limit ", old_soft, " -> ", rl.rlim_cur),
      {{"was", static_cast<int64_t>(old_soft)}, {"soft", static_cast<int64_t>(rl.rlim_cur)}});
  return rl.rlim_cur;
}

// Every flag error is reported the same way: the message on stderr, exit status 1.
absl::Status Usage(absl::string_view message) { return absl::InvalidArgumentError(message); }

// The transport and upload flags, checked; the upload slots bounded by the open files limit.
absl::Status CheckTransportFlags(int* max_uploads) {
  *max_uploads = absl::GetFlag(FLAGS_max_uploads);
  const double idle_seconds = absl::GetFlag(FLAGS_upload_idle_seconds);
  if (absl::GetFlag(FLAGS_max_request_kb) < 64 || absl::GetFlag(FLAGS_max_message_mb) < 1 ||
      absl::GetFlag(FLAGS_max_message_mb) > 2047 ||
      (absl::GetFlag(FLAGS_max_request_kb) >> 10) > absl::GetFlag(FLAGS_max_message_mb) ||
      absl::GetFlag(FLAGS_max_grpc_memory_mb) < 0 ||
      !(absl::GetFlag(FLAGS_max_connection_idle_seconds) > 0)) {
    return Usage(
        "need --max-request-kb >= 64, 1 <= --max-message-mb <= 2047 and at least "
        "--max-request-kb, --max-grpc-memory-mb >= 0 and --max-connection-idle-seconds positive");
  }
  if (*max_uploads < 1 || !(idle_seconds > 0)) {
    return Usage("--max-uploads must be at least 1 and --upload-idle-seconds positive");
  }
  // Uploads may take a quarter of the descriptors (each holds about two), the rest stays for
  // connections, the job store and blob reads.
  const rlim_t open_files = RaiseOpenFilesLimit();
  if (open_files != RLIM_INFINITY && static_cast<rlim_t>(*max_uploads) > open_files / 4) {
    *max_uploads = static_cast<int>(std::max<rlim_t>(1, open_files / 4));
    emar::Notice(emar::LogLevel::kWarning, "max_uploads_lowered",
                 absl::StrCat("emar-coordinator: --max-uploads lowered to ", *max_uploads,
                              " (a quarter of the open files limit)"),
                 {{"max_uploads", *max_uploads}});
  }
  return absl::OkStatus();
}

// --tokens, loaded (nullopt without it).
absl::StatusOr<std::optional<emar::TokenTable>> LoadTokens() {
  if (absl::GetFlag(FLAGS_tokens).empty()) return std::nullopt;
  auto table = emar::TokenTable::Load(absl::GetFlag(FLAGS_tokens));
  if (!table.ok()) return table.status();
  emar::Notice(
      emar::LogLevel::kInfo, "tokens_loaded",
      absl::StrCat("emar-coordinator: ", table->size(), " token(s) from ",
                   absl::GetFlag(FLAGS_tokens)),
      {{"tokens", static_cast<int64_t>(table->size())}, {"file", absl::GetFlag(FLAGS_tokens)}});
  return std::optional<emar::TokenTable>(std::move(*table));
}

// Inputs by reference (docs/inputs.md): --input-root (every occurrence, taken from the command
// line by main), --url-timeout-seconds, --allow-private-urls, --url-ca-file.
std::vector<std::string>* InputRoots() {
  static auto* roots = new std::vector<std::string>();
  return roots;
}

absl::Status InputFetchOptionsFromFlags(emar::InputFetchOptions* fetch) {
  fetch->input_roots = *InputRoots();
  for (const std::string& root : absl::GetFlag(FLAGS_input_root)) {
    fetch->input_roots.push_back(root);
  }
  fetch->ca_file = absl::GetFlag(FLAGS_url_ca_file);
  RETURN_IF_ERROR(fetch->Resolve());
  const double timeout = absl::GetFlag(FLAGS_url_timeout_seconds);
  if (!(timeout >= 1)) return Usage("--url-timeout-seconds must be at least 1");
  fetch->timeout = absl::Seconds(timeout);
  fetch->low_speed_time = std::min(fetch->low_speed_time, fetch->timeout);
  fetch->allow_private_urls = absl::GetFlag(FLAGS_allow_private_urls);
  return absl::OkStatus();
}

// The coordinator's options from the flags (`with_tokens`: workers' reads need a lease).
absl::StatusOr<emar::CoordinatorOptions> CoordinatorOptionsFromFlags(bool with_tokens) {
  emar::CoordinatorOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.rows_per_shard = absl::GetFlag(FLAGS_rows_per_shard);
  options.max_input_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_input_mb)) << 20;
  options.max_bootstrap_work = absl::GetFlag(FLAGS_max_bootstrap_work);
  options.suite_limits.max_datasets = absl::GetFlag(FLAGS_max_datasets);
  options.suite_limits.max_metrics_per_dataset = absl::GetFlag(FLAGS_max_metrics_per_dataset);
  options.suite_limits.max_scores = absl::GetFlag(FLAGS_max_suite_scores);
  options.finalizer_threads = absl::GetFlag(FLAGS_finalizer_threads);
  options.planner_threads = absl::GetFlag(FLAGS_planner_threads);
  options.scheduler.lease_ttl = absl::Seconds(absl::GetFlag(FLAGS_lease_ttl_seconds));
  options.scheduler.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  const double store_gb = absl::GetFlag(FLAGS_max_store_gb);
  const double retention_days = absl::GetFlag(FLAGS_retention_days);
  if (!(store_gb >= 0) || !(retention_days >= 0) ||
      absl::GetFlag(FLAGS_max_jobs_per_principal) < 1 ||
      !(absl::GetFlag(FLAGS_retention_interval_seconds) > 0)) {
    return Usage(
        "--max-store-gb and --retention-days must not be negative, --max-jobs-per-principal at "
        "least 1, --retention-interval-seconds positive");
  }
  options.max_store_bytes = static_cast<int64_t>(store_gb * 1e9);
  options.max_unfinished_jobs_per_principal = absl::GetFlag(FLAGS_max_jobs_per_principal);
  if (retention_days > 0) options.retention = absl::Hours(24) * retention_days;
  options.retention_interval = absl::Seconds(absl::GetFlag(FLAGS_retention_interval_seconds));
  options.reads_need_lease = with_tokens;
  options.score_cache = absl::GetFlag(FLAGS_score_cache);
  options.share_score_cache = absl::GetFlag(FLAGS_share_score_cache);
  RETURN_IF_ERROR(InputFetchOptionsFromFlags(&options.input_fetch));
  return options;
}

// The server's options from the flags.
absl::StatusOr<emar::ServerOptions> ServerOptionsFromFlags(std::optional<emar::TokenTable> tokens,
                                                           int max_uploads) {
  emar::ServerOptions server_options;
  const emar::ServerTlsFiles tls{.cert = absl::GetFlag(FLAGS_tls_cert),
                                 .key = absl::GetFlag(FLAGS_tls_key),
                                 .client_ca = absl::GetFlag(FLAGS_tls_client_ca),
                                 .reload_seconds = absl::GetFlag(FLAGS_tls_reload_seconds)};
  auto creds = emar::ServerCredentialsFromFiles(tls);
  if (!creds.ok()) return creds.status();
  server_options.credentials = *creds;
  server_options.tls_cert_not_after = emar::WarnOfCertificateDates(tls, absl::Now(), std::cerr);
  if (tls.reload_seconds > 0) server_options.tls_cert_file = tls.cert;
  server_options.listen = absl::GetFlag(FLAGS_listen);
  server_options.worker_listen = absl::GetFlag(FLAGS_worker_listen);
  server_options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  server_options.tokens = std::move(tokens);
  server_options.client_api.max_blob_bytes = absl::GetFlag(FLAGS_max_blob_mb) << 20;
  server_options.client_api.max_request_bytes = absl::GetFlag(FLAGS_max_request_kb) << 10;
  server_options.max_message_bytes = absl::GetFlag(FLAGS_max_message_mb) << 20;
  server_options.max_grpc_memory_bytes = absl::GetFlag(FLAGS_max_grpc_memory_mb) << 20;
  server_options.max_connection_idle =
      absl::Seconds(absl::GetFlag(FLAGS_max_connection_idle_seconds));
  server_options.uploads.max_concurrent = max_uploads;
  server_options.uploads.idle_timeout = absl::Seconds(absl::GetFlag(FLAGS_upload_idle_seconds));
  return server_options;
}

// "HOST:PORT" -> "HOST".
std::string HostOf(const std::string& listen) { return listen.substr(0, listen.rfind(':')); }

// Prints where the server listens and writes the port files the flags ask for.
absl::Status AnnouncePorts(const emar::CoordinatorServer& server,
                           const emar::ServerOptions& options) {
  const std::string listen = absl::StrCat(HostOf(options.listen), ":", server.port());
  emar::Announce("listening", "listening on " + listen, {{"address", listen}});
  if (server.worker_port() != server.port()) {
    const std::string worker =
        absl::StrCat(HostOf(options.worker_listen), ":", server.worker_port());
    emar::Announce("worker_api_listening", "worker API on " + worker, {{"address", worker}});
  }
  if (server.metrics_port() != 0) {
    const std::string url = absl::StrCat("http://", HostOf(options.metrics_listen), ":",
                                         server.metrics_port(), "/metrics");
    emar::Announce("metrics_listening", "metrics on " + url, {{"url", url}});
  }
  for (const auto& [flag, port] : {std::pair{&FLAGS_metrics_port_file, server.metrics_port()},
                                   {&FLAGS_worker_port_file, server.worker_port()},
                                   {&FLAGS_port_file, server.port()}}) {
    const std::string path = absl::GetFlag(*flag);
    if (path.empty()) continue;
    if (absl::Status st = emar::WriteFileAtomically(path, absl::StrCat(port, "\n")); !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

// The web console when --console-listen asks for it (null otherwise): the same tokens and TLS
// certificate as the gRPC port, its logins kept in `sessions` (the job store's file).
absl::StatusOr<std::unique_ptr<emar::Console>> StartConsole(emar::ClientCore* core,
                                                            const emar::Authenticator* auth,
                                                            emar::SessionTable* sessions) {
  const std::string listen = absl::GetFlag(FLAGS_console_listen);
  if (listen.empty()) return nullptr;
  emar::ConsoleOptions options{.listen = listen};
  options.session_table = sessions;
  const emar::ServerTlsFiles tls{.cert = absl::GetFlag(FLAGS_tls_cert),
                                 .key = absl::GetFlag(FLAGS_tls_key),
                                 .client_ca = absl::GetFlag(FLAGS_tls_client_ca)};
  if (tls.enabled()) {
    ASSIGN_OR_RETURN(options.tls, emar::TlsContext::FromFiles(tls));
  }
  ASSIGN_OR_RETURN(auto console, emar::Console::Start(std::move(options), core, auth));
  const std::string url = absl::StrCat(tls.enabled() ? "https://" : "http://", HostOf(listen), ":",
                                       console->port(), "/");
  emar::Announce("console_listening", "console on " + url, {{"url", url}});
  if (const std::string path = absl::GetFlag(FLAGS_console_port_file); !path.empty()) {
    RETURN_IF_ERROR(emar::WriteFileAtomically(path, absl::StrCat(console->port(), "\n")));
  }
  return console;
}

// Sets up, serves until SIGTERM or SIGINT, drains. Any error before serving is returned.
absl::Status Serve(const sigset_t& sigs) {
  int max_uploads = 0;
  RETURN_IF_ERROR(CheckTransportFlags(&max_uploads));
  ASSIGN_OR_RETURN(std::optional<emar::TokenTable> tokens, LoadTokens());
  ASSIGN_OR_RETURN(emar::CoordinatorOptions options,
                   CoordinatorOptionsFromFlags(tokens.has_value()));
  ASSIGN_OR_RETURN(std::unique_ptr<emar::Coordinator> coordinator,
                   emar::Coordinator::Create(options));
  if (int removed = coordinator->blobs().stale_temp_files_removed(); removed > 0) {
    emar::Notice(emar::LogLevel::kInfo, "partial_uploads_removed",
                 absl::StrCat("emar-coordinator: removed ", removed,
                              " partial upload(s) left in the data dir's tmp/"),
                 {{"removed", removed}});
  }
  ASSIGN_OR_RETURN(emar::ServerOptions server_options,
                   ServerOptionsFromFlags(std::move(tokens), max_uploads));
  ASSIGN_OR_RETURN(std::unique_ptr<emar::CoordinatorServer> server,
                   emar::CoordinatorServer::Start(coordinator.get(), server_options));
  std::unique_ptr<emar::SessionTable> sessions;  // outlives the console
  if (!absl::GetFlag(FLAGS_console_listen).empty()) {
    ASSIGN_OR_RETURN(sessions,
                     emar::SessionTable::Open(absl::StrCat(options.data_dir, "/jobs.db")));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<emar::Console> console,
                   StartConsole(coordinator.get(), &server->authenticator(), sessions.get()));
  RETURN_IF_ERROR(AnnouncePorts(*server, server_options));  // --port-file last: all is up
  std::unique_ptr<emar::TokenReloader> reloader;
  if (!absl::GetFlag(FLAGS_tokens).empty()) {
    reloader = std::make_unique<emar::TokenReloader>(
        &server->authenticator(), absl::GetFlag(FLAGS_tokens),
        absl::Seconds(absl::GetFlag(FLAGS_tokens_reload_seconds)));
  }
  int sig = 0;
  while ((sig = emar::WaitForTerminationSignal(sigs)) == SIGHUP) {
    if (reloader == nullptr) continue;
    absl::StatusOr<bool> reloaded = reloader->Reload();
    const std::string what = !reloaded.ok()
                                 ? absl::StrCat("tokens kept: ", reloaded.status().message())
                             : *reloaded ? "tokens reloaded"
                                         : "tokens unchanged";
    emar::Notice(emar::LogLevel::kInfo, "sighup", "emar-coordinator: SIGHUP: " + what,
                 {{"outcome", what}});
  }
  reloader.reset();
  emar::Announce("draining", absl::StrCat("signal ", sig, ": draining"), {{"signal", sig}});
  const absl::Time drain_start = absl::Now();
  console.reset();
  server->Shutdown(absl::Seconds(10));
  server.reset();
  coordinator.reset();
  emar::LogEvent("stopped", {{"duration_ms", emar::DurationMs(absl::Now() - drain_start)}});
  return absl::OkStatus();
}

// --restore DIR: copies a backup into --data-dir, checking every file against its manifest.
absl::Status Restore() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) return Usage("--restore needs --data-dir, the directory to restore into");
  const std::string from = absl::GetFlag(FLAGS_restore);
  const absl::Time started = absl::Now();
  ASSIGN_OR_RETURN(emar::RestoreSummary restored, emar::RestoreBackup(from, data_dir));
  emar::Announce("restored",
                 absl::StrCat("restored ", restored.jobs, " job(s) and ", restored.blobs,
                              " blob(s), ", restored.bytes, " bytes, from ", from, " into ",
                              data_dir, "; start emar-coordinator without --restore to serve them"),
                 {{"jobs", restored.jobs},
                  {"blobs", restored.blobs},
                  {"bytes", restored.bytes},
                  {"from", from},
                  {"duration_ms", emar::DurationMs(absl::Now() - started)}});
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  emar::LimitMallocArenas();
  emar::UseReleaseMutexChecks();
  absl::SetProgramUsageMessage("emar-coordinator --listen HOST:PORT --data-dir DIR");
  emar::NormalizedArgs args(argc, argv);
  *InputRoots() = args.TakeRepeated("input_root");  // repeatable: every occurrence counts
  emar::ExitZeroOnHelp(argc, argv, "server/main.cc");
  // Before the flags are parsed: with json, even a flag error is a JSON line.
  if (absl::Status s = emar::InitLogFormat(argc, argv, "text").status(); !s.ok()) {
    std::cerr << "emar-coordinator: " << s.message() << "\n";
    return 1;
  }
  absl::ParseCommandLine(args.argc(), args.argv());
  if (!absl::GetFlag(FLAGS_restore).empty()) {
    if (absl::Status s = Restore(); !s.ok()) {
      emar::Notice(emar::LogLevel::kError, "restore_failed",
                   absl::StrCat("emar-coordinator: ", s.message()));
      return 1;
    }
    return 0;
  }
  sigset_t sigs = emar::BlockTerminationSignals();  // before any thread starts
  sigaddset(&sigs, SIGHUP);                         // reloads the tokens file
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  if (absl::Status s = Serve(sigs); !s.ok()) {
    emar::Notice(emar::LogLevel::kError, "fatal", absl::StrCat("emar-coordinator: ", s.message()));
    return 1;
  }
  return 0;
}
