// A coordinator and worker processes on loopback for multi-process tests, plus emarctl runs
// against them. Binaries come from EMAR_BIN_DIR; the coordinator listens on 127.0.0.1 port 0 and
// reports its port through --port_file. Everything is killed on destruction and its temporary
// directory removed.
//
//   ASSERT_OK_AND_ASSIGN(auto cluster, LocalCluster::Start({.workers = 2}));
//   CommandResult r = cluster->Emarctl({"submit", "job.yaml", "--wait", "--format", "json"});
//
// Not thread-safe; use from the test's main thread (see process.h).
#ifndef EMAR_TESTS_SYSTEM_LOCAL_CLUSTER_H_
#define EMAR_TESTS_SYSTEM_LOCAL_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "emar/v1/report.pb.h"
#include "tests/system/process.h"

namespace emar::testing {

// Path of a built binary, e.g. BinPath("emarctl").
std::string BinPath(const std::string& name);

// Runs emarctl with `args` (no --server added).
CommandResult RunEmarctl(const std::vector<std::string>& args,
                         absl::Duration timeout = absl::Seconds(60));

// The report of `emarctl run JOB_FILE --format json` (the embedded default, an undisturbed run
// to compare a service's report with); an error with emarctl's exit and stderr when it fails.
absl::StatusOr<emar::v1::Report> EmbeddedRunReport(const std::string& job_file,
                                                   absl::Duration timeout = absl::Seconds(120));

struct ClusterOptions {
  int workers = 2;
  int worker_threads = 1;
  int64_t rows_per_shard = 0;                  // 0: the coordinator's default
  int lease_ttl_seconds = 0;                   // 0: the coordinator's default
  std::vector<std::string> coordinator_flags;  // appended to emar-coordinator's command line
  std::vector<std::string> worker_flags;       // appended to each emar-worker's command line
  std::string data_dir;                        // empty: a directory in the cluster's temp dir
};

class LocalCluster {
 public:
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Start(const ClusterOptions& options);
  ~LocalCluster() = default;

  // "127.0.0.1:PORT" of the running coordinator.
  const std::string& server() const { return server_; }
  const std::string& data_dir() const { return data_dir_; }
  Process& coordinator() { return *coordinator_; }
  std::vector<std::unique_ptr<Process>>& workers() { return workers_; }

  // Starts one more emar-worker against the current coordinator.
  absl::Status AddWorker();
  // emarctl `args` --server server().
  CommandResult Emarctl(std::vector<std::string> args, absl::Duration timeout = absl::Seconds(60));
  // SIGTERM to the coordinator; OK when it exits 0 within `timeout`.
  absl::Status StopCoordinator(absl::Duration timeout = absl::Seconds(30));
  // Starts a new coordinator process on the same data dir. The old one must have ended. On a new
  // port (existing workers keep the old address), or on the same one so workers reconnect.
  absl::Status RestartCoordinator(bool same_address = false);
  // Everything the processes printed, for failure messages.
  std::string Logs() const;

 private:
  LocalCluster(TempDir dir, ClusterOptions options) : dir_(std::move(dir)), options_(options) {}
  absl::Status StartCoordinator(const std::string& listen);

  TempDir dir_;
  const ClusterOptions options_;
  std::string data_dir_;
  std::string server_;
  int coordinator_starts_ = 0;
  std::unique_ptr<Process> coordinator_;
  std::vector<std::unique_ptr<Process>> old_coordinators_;
  std::vector<std::unique_ptr<Process>> workers_;
};

}  // namespace emar::testing

#endif  // EMAR_TESTS_SYSTEM_LOCAL_CLUSTER_H_
