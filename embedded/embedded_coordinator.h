// The embedded default: a coordinator and worker threads inside the calling process, reached
// through gRPC's in-process channel, so `emarctl run` exercises the code paths of a deployed
// service (create, lease, score, complete, report) with no server to start. Three shortcuts,
// where the data is already in the process: inputs are imported, not uploaded (ImportFile); the
// planner's references tables go to the worker threads; they read blobs from the store directly.
//
//   ASSIGN_OR_RETURN(auto embedded, EmbeddedCoordinator::Start({.worker_threads = 2}));
//   EvaluationClient client(embedded->channel());
#ifndef EMAR_EMBEDDED_EMBEDDED_COORDINATOR_H_
#define EMAR_EMBEDDED_EMBEDDED_COORDINATOR_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "eval/job/job_defaults.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"
#include "worker/worker_loop.h"

namespace emar {

struct EmbeddedOptions {
  std::string data_dir;  // empty: a fresh temporary directory, deleted afterwards
  int worker_threads = 2;
  int64_t rows_per_shard = kDefaultRowsPerShard;
  // Inputs by reference (file:// under input_roots, https://), as emar-coordinator's flags.
  InputFetchOptions input_fetch;
  // The process exits after one job (`emarctl run`): memory freed after its report is not
  // handed back to the system first (CoordinatorOptions::trim_after_report).
  bool one_job = false;
};

class EmbeddedCoordinator {
 public:
  static absl::StatusOr<std::unique_ptr<EmbeddedCoordinator>> Start(const EmbeddedOptions& options);
  // Stops the workers, drains the server, removes a temporary data dir.
  ~EmbeddedCoordinator();

  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  // Stores a local file in the coordinator's blob store and returns its digest: what an upload
  // through channel() would do, in one pass over the file (EvaluationClientOptions::import_file).
  // The caller is the coordinator's anonymous admin, as on channel().
  absl::StatusOr<std::string> ImportFile(const std::string& path);

 private:
  EmbeddedCoordinator() = default;
  // Frees `garbage` (the worker threads' references tables) on a thread of its own.
  void FreeLater(std::shared_ptr<void> garbage);

  std::string temp_dir_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<WorkerLoop> workers_;
  std::thread worker_thread_;
  absl::Mutex reaper_mu_;
  std::thread reaper_ ABSL_GUARDED_BY(reaper_mu_);
};

}  // namespace emar

#endif  // EMAR_EMBEDDED_EMBEDDED_COORDINATOR_H_
