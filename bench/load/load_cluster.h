// The processes of the load test: one emar-coordinator on 127.0.0.1 (port 0, reported through
// --port_file) and a changing set of emar-worker processes, all started through
// tests/system/process.h. Unlike tests/system/LocalCluster it takes the coordinator's fault
// knobs (lease TTL, max attempts), kills and replaces workers on demand, notices processes that
// ended on their own, and shuts down politely (SIGTERM, then SIGKILL after a grace period).
//
//   ASSIGN_OR_RETURN(auto cluster, LoadCluster::Start(options, dir.path()));
//   RETURN_IF_ERROR(cluster->KillWorker(1));      // SIGKILL, reaped
//   RETURN_IF_ERROR(cluster->StartWorker());      // a replacement
//   ShutdownReport bye = cluster->Shutdown(absl::Seconds(15));
//
// Not thread-safe: use it from the thread that created it (the children's death signal follows
// that thread, see process.h).
#ifndef EMAR_BENCH_LOAD_LOAD_CLUSTER_H_
#define EMAR_BENCH_LOAD_LOAD_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/system/process.h"

namespace emar::load {

struct LoadClusterOptions {
  std::string bin_dir;  // holds emar-coordinator and emar-worker
  int workers = 3;
  int worker_threads = 1;
  int64_t rows_per_shard = 1000;
  int lease_ttl_seconds = 3;
  int max_attempts = 10;
};

// How the processes ended at Shutdown.
struct ShutdownReport {
  emar::testing::ExitStatus coordinator;
  bool coordinator_needed_sigkill = false;
  int workers_stopped = 0;  // exited 0 on SIGTERM within the grace period
  int workers_sigkilled = 0;
  std::vector<std::string> worker_problems;  // "pid N: exit code 3", ...
};

class LoadCluster {
 public:
  // Starts the coordinator (data dir and logs under `dir`, which must outlive the cluster) and
  // `options.workers` workers.
  static absl::StatusOr<std::unique_ptr<LoadCluster>> Start(const LoadClusterOptions& options,
                                                            const std::string& dir);
  // Kills (SIGKILL) whatever still runs.
  ~LoadCluster() = default;

  // "127.0.0.1:PORT".
  const std::string& server() const { return server_; }
  size_t live_workers() const { return workers_.size(); }
  int workers_started() const { return workers_started_; }

  absl::Status StartWorker();
  // SIGKILLs live worker `index` (< live_workers()) and reaps it.
  absl::Status KillWorker(size_t index);
  // Reaps workers that ended although nobody killed them and describes each ("pid N: killed by
  // signal 11 ..."); they are no longer live.
  std::vector<std::string> ReapUnexpectedWorkerExits();
  bool CoordinatorRunning() { return coordinator_->running(); }
  // SIGKILL to the coordinator: how a run past its deadline unblocks its clients.
  void KillCoordinator();

  // SIGTERM to every process, SIGKILL to those still running after `grace`.
  ShutdownReport Shutdown(absl::Duration grace);

  // The last `max_bytes` of the coordinator's stderr, for failure messages.
  std::string CoordinatorLogTail(size_t max_bytes = 4000) const;
  const std::string& log_dir() const { return log_dir_; }

 private:
  LoadCluster(LoadClusterOptions options, const std::string& dir);
  absl::Status StartCoordinator();

  const LoadClusterOptions options_;
  const std::string log_dir_;
  const std::string data_dir_;
  std::string server_;
  int workers_started_ = 0;
  std::unique_ptr<emar::testing::Process> coordinator_;
  std::vector<std::unique_ptr<emar::testing::Process>> workers_;
  std::vector<std::unique_ptr<emar::testing::Process>> ended_workers_;  // kept for their logs
};

}  // namespace emar::load

#endif  // EMAR_BENCH_LOAD_LOAD_CLUSTER_H_
