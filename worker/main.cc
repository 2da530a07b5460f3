// emar-worker: pulls shards from a coordinator and scores them.
//
//   emar-worker --coordinator 127.0.0.1:50051 --threads 2
//
// SIGTERM/SIGINT: stop leasing, finish the shards in hand, exit 0.
#include <signal.h>

#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/flag_names.h"
#include "common/termination_signals.h"
#include "worker/worker_loop.h"

ABSL_FLAG(std::string, coordinator, "127.0.0.1:50051", "coordinator HOST:PORT");
ABSL_FLAG(int32_t, threads, 1, "shards scored at once");
ABSL_FLAG(std::string, worker_id, "", "name in leases and logs (default hostname-pid)");
ABSL_FLAG(int32_t, lease_wait_seconds, 10, "long-poll wait for work");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("emar-worker --coordinator HOST:PORT [--threads N]");
  emar::NormalizedArgs flags(argc, argv);
  absl::ParseCommandLine(flags.argc(), flags.argv());
  const sigset_t sigs = emar::BlockTerminationSignals();

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(absl::GetFlag(FLAGS_coordinator),
                                           grpc::InsecureChannelCredentials(), args);
  emar::WorkerOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.worker_id = absl::GetFlag(FLAGS_worker_id);
  options.lease_wait = absl::Seconds(absl::GetFlag(FLAGS_lease_wait_seconds));
  emar::WorkerLoop worker(channel, options);
  // Run() returns only after Stop(), which only this thread calls.
  std::thread signals([&] {
    emar::WaitForTerminationSignal(sigs);
    worker.Stop();
  });
  std::cout << "worker serving " << absl::GetFlag(FLAGS_coordinator) << std::endl;
  worker.Run();
  signals.join();
  std::cout << "worker stopped after " << worker.shards_completed() << " shards" << std::endl;
  return 0;
}
