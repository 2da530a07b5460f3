// The harness of the coordinator tests: a coordinator behind real gRPC (in-process channel), a
// real SQLite store in a temp dir, and optionally real worker threads.
#ifndef EMAR_TESTS_SERVER_COORDINATOR_HARNESS_H_
#define EMAR_TESTS_SERVER_COORDINATOR_HARNESS_H_

#include <memory>
#include <string>
#include <thread>

#include "client/evaluation_client.h"
#include "client/job_file.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"
#include "worker/worker_loop.h"

namespace emar {

// Coordinator + server + worker threads over one data dir; the workers are optional so tests can
// drive leases by hand.
class Harness {
 public:
  Harness(const std::string& data_dir, int workers, int64_t rows_per_shard = 50000) {
    CoordinatorOptions o;
    o.data_dir = data_dir;
    o.rows_per_shard = rows_per_shard;
    o.tick = absl::Milliseconds(10);
    coordinator_ = *Coordinator::Create(o);
    server_ = *CoordinatorServer::Start(coordinator_.get(), ServerOptions{});
    channel_ = server_->InProcessChannel();
    client_ = std::make_unique<EvaluationClient>(channel_);
    if (workers > 0) {
      WorkerOptions w;
      w.threads = workers;
      w.lease_wait = absl::Seconds(1);
      workers_ = std::make_unique<WorkerLoop>(channel_, w);
      thread_ = std::thread([this] { workers_->Run(); });
    }
  }
  ~Harness() {
    if (workers_) workers_->Stop();
    if (thread_.joinable()) thread_.join();  // before the server goes: see EmbeddedCoordinator
    server_->Shutdown(absl::Seconds(2));
  }
  EvaluationClient& client() { return *client_; }
  Coordinator& coordinator() { return *coordinator_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

  absl::StatusOr<emar::v1::Job> RunToEnd(const JobFile& job) {
    auto created = client_->Submit(job, "");
    if (!created.ok()) return created.status();
    return client_->Watch(created->job_id(), nullptr);
  }

 private:
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<EvaluationClient> client_;
  std::unique_ptr<WorkerLoop> workers_;
  std::thread thread_;
};

}  // namespace emar

#endif  // EMAR_TESTS_SERVER_COORDINATOR_HARNESS_H_
