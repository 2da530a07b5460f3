// emar-coordinator: serves EvaluationService and WorkerService from one data dir.
//
//   emar-coordinator --listen 0.0.0.0:50051 --data-dir /var/lib/emar
//
// Prints "listening on HOST:PORT" once ready (with the real port when --listen asks for port 0)
// and, with --port-file, writes the port there. SIGTERM/SIGINT drain and exit 0.
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/flag_names.h"
#include "common/termination_signals.h"
#include "eval/job/job_defaults.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "HOST:PORT to serve on; port 0 picks a free port");
ABSL_FLAG(std::string, data_dir, "", "directory for the job store and blobs (required)");
ABSL_FLAG(std::string, port_file, "", "write the bound port to this file once serving");
ABSL_FLAG(int64_t, rows_per_shard, emar::kDefaultRowsPerShard,
          "rows of a model output file per shard");
ABSL_FLAG(int32_t, lease_ttl_seconds, 30,
          "a shard whose worker has not heartbeated this long is requeued");
ABSL_FLAG(int32_t, max_attempts, 3, "a shard failing this many times fails its job");
ABSL_FLAG(int64_t, max_blob_mb, 4096, "largest accepted upload, MiB");
ABSL_FLAG(double, max_bootstrap_work, emar::kDefaultMaxBootstrapWork,
          "largest resamples x models x examples a job may ask; larger jobs are refused");
ABSL_FLAG(int64_t, max_input_mb, 4096,
          "largest input file after decompression, MiB; larger inputs are refused at CreateJob");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("emar-coordinator --listen HOST:PORT --data-dir DIR");
  emar::NormalizedArgs args(argc, argv);
  absl::ParseCommandLine(args.argc(), args.argv());
  const sigset_t sigs = emar::BlockTerminationSignals();  // before any thread starts

  emar::CoordinatorOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.rows_per_shard = absl::GetFlag(FLAGS_rows_per_shard);
  options.max_input_bytes = static_cast<uint64_t>(absl::GetFlag(FLAGS_max_input_mb)) << 20;
  options.max_bootstrap_work = absl::GetFlag(FLAGS_max_bootstrap_work);
  options.scheduler.lease_ttl = absl::Seconds(absl::GetFlag(FLAGS_lease_ttl_seconds));
  options.scheduler.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  auto coordinator = emar::Coordinator::Create(options);
  if (!coordinator.ok()) {
    std::cerr << "emar-coordinator: " << coordinator.status().message() << "\n";
    return 1;
  }
  emar::ServerOptions server_options;
  server_options.listen = absl::GetFlag(FLAGS_listen);
  server_options.max_blob_bytes = absl::GetFlag(FLAGS_max_blob_mb) << 20;
  auto server = emar::CoordinatorServer::Start(coordinator->get(), server_options);
  if (!server.ok()) {
    std::cerr << "emar-coordinator: " << server.status().message() << "\n";
    return 1;
  }
  const std::string& listen = server_options.listen;
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::cout << "listening on " << host << ":" << (*server)->port() << std::endl;
  if (!absl::GetFlag(FLAGS_port_file).empty()) {
    auto st = emar::WriteFileAtomically(absl::GetFlag(FLAGS_port_file),
                                        absl::StrCat((*server)->port(), "\n"));
    if (!st.ok()) {
      std::cerr << "emar-coordinator: " << st.message() << "\n";
      return 1;
    }
  }
  const int sig = emar::WaitForTerminationSignal(sigs);
  std::cout << "signal " << sig << ": draining" << std::endl;
  (*server)->Shutdown(absl::Seconds(10));
  server->reset();
  coordinator->reset();
  return 0;
}
