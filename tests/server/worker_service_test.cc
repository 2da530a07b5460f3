// The worker service (server/worker_service.h) over real gRPC on loopback, with a core whose
// Complete the test holds: results are stored off gRPC's threads, so many Completes waiting for
// a slow commit leave leases and heartbeats answered, and the core's answers and errors reach
// the worker; a Complete with lease_next leases the next shard only after its result is stored.
#include "server/worker_service.h"

#include <grpcpp/grpcpp.h>

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status_matchers.h"
#include "server/blob_store.h"
#include "server/job_store.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

// A worker core whose Completes wait until the test opens the gate. Thread-safe.
class GatedWorkerCore : public WorkerCore {
 public:
  uint64_t LeaseAsync(const std::string& worker_id, absl::Duration, LeaseCallback cb) override {
    emar::v1::ShardTask task;
    task.set_job_id("job-1");
    task.set_lease_id(absl::StrCat("lease-for-", worker_id));
    cb(task);
    return 1;
  }
  bool CancelLeaseWait(uint64_t) override { return false; }
  std::optional<emar::v1::ShardTask> TryLease(const std::string& worker_id) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(absl::StrCat("leased for ", worker_id));
    if (worker_id == "idle") return std::nullopt;
    emar::v1::ShardTask task;
    task.set_job_id("job-1");
    task.set_lease_id(absl::StrCat("next-for-", worker_id));
    return task;
  }
  absl::StatusOr<emar::v1::HeartbeatResponse> Heartbeat(
      const emar::v1::HeartbeatRequest& req) override {
    if (req.lease_id() == "lost") return absl::NotFoundError("lease lost is not current");
    emar::v1::HeartbeatResponse resp;
    resp.set_keep_going(true);
    resp.set_lease_ttl_ms(30000);
    return resp;
  }
  absl::StatusOr<emar::v1::CompleteResponse> Complete(
      const emar::v1::CompleteRequest& req) override {
    absl::MutexLock lock(&mu_);
    ++waiting_;
    mu_.Await(absl::Condition(&open_));
    --waiting_;
    stored_.push_back(req.shard_id());
    events_.push_back(absl::StrCat("stored ", req.shard_id()));
    if (req.shard_id() < 0) return absl::FailedPreconditionError("shard -1 is not of job-1");
    emar::v1::CompleteResponse resp;
    resp.set_duplicate(req.shard_id() == 0);
    return resp;
  }

  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // Waits until `n` Completes wait at the gate.
  bool AwaitWaiting(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return waiting_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(30));
  }
  std::vector<int> stored() {
    absl::MutexLock lock(&mu_);
    return stored_;
  }
  // "stored N" when Complete stored shard N, "leased for W" when TryLease ran, in order.
  std::vector<std::string> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int> stored_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

class WorkerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    blob_store_ = std::make_unique<BlobStore>(dir_.path() + "/blobs", /*durable=*/false);
    ASSERT_OK(blob_store_->Init());
    ASSERT_OK_AND_ASSIGN(job_store_, JobStore::Open(dir_.path() + "/jobs.db"));
    blobs_ = std::make_unique<BlobAccess>(blob_store_.get(), job_store_.get(), BlobAccessOptions{},
                                          [](const std::string&) { return std::nullopt; });
    service_ = std::make_unique<WorkerServiceImpl>(&core_, blobs_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = emar::v1::WorkerService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    core_.Open();
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    service_.reset();
  }

  grpc::Status Complete(int shard, emar::v1::CompleteResponse* resp, bool lease_next = false,
                        const std::string& worker_id = "w1") {
    grpc::ClientContext ctx;
    emar::v1::CompleteRequest req;
    req.set_job_id("job-1");
    req.set_shard_id(shard);
    req.set_worker_id(worker_id);
    req.set_lease_next(lease_next);
    return stub_->Complete(&ctx, req, resp);
  }

  TempDir dir_;
  GatedWorkerCore core_;
  std::unique_ptr<BlobStore> blob_store_;
  std::unique_ptr<JobStore> job_store_;
  std::unique_ptr<BlobAccess> blobs_;
  std::unique_ptr<WorkerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<emar::v1::WorkerService::Stub> stub_;
};

TEST_F(WorkerServiceTest, LeasesAndHeartbeatsAreAnsweredWhileCompletesWaitForTheCore) {
  // More Completes than gRPC has callback threads, all held by the core.
  constexpr int kCompletes = 24;
  std::vector<std::future<std::pair<grpc::Status, emar::v1::CompleteResponse>>> completes;
  for (int shard = 0; shard < kCompletes; ++shard) {
    completes.push_back(std::async(std::launch::async, [this, shard] {
      emar::v1::CompleteResponse resp;
      grpc::Status s = Complete(shard, &resp);
      return std::make_pair(s, resp);
    }));
  }
  ASSERT_TRUE(core_.AwaitWaiting(16));  // every completer thread holds one

  grpc::ClientContext lease_ctx;
  emar::v1::LeaseRequest lease;
  lease.set_worker_id("w1");
  emar::v1::LeaseResponse leased;
  ASSERT_TRUE(stub_->Lease(&lease_ctx, lease, &leased).ok());
  EXPECT_EQ(leased.task().lease_id(), "lease-for-w1");

  grpc::ClientContext beat_ctx;
  emar::v1::HeartbeatRequest beat;
  beat.set_lease_id("lease-for-w1");
  emar::v1::HeartbeatResponse alive;
  ASSERT_TRUE(stub_->Heartbeat(&beat_ctx, beat, &alive).ok());
  EXPECT_TRUE(alive.keep_going());
  EXPECT_EQ(alive.lease_ttl_ms(), 30000);
  EXPECT_TRUE(core_.stored().empty());

  core_.Open();
  for (int shard = 0; shard < kCompletes; ++shard) {
    auto [status, resp] = completes[shard].get();
    EXPECT_TRUE(status.ok()) << shard << ": " << status.error_message();
    EXPECT_EQ(resp.duplicate(), shard == 0) << shard;
  }
  EXPECT_EQ(core_.stored().size(), static_cast<size_t>(kCompletes));
}

TEST_F(WorkerServiceTest, LeaseNextLeasesOnlyOnceTheResultIsStored) {
  core_.Open();
  emar::v1::CompleteResponse resp;
  ASSERT_TRUE(Complete(5, &resp, /*lease_next=*/true).ok());
  ASSERT_TRUE(resp.has_next_task());
  EXPECT_EQ(resp.next_task().lease_id(), "next-for-w1");
  EXPECT_EQ(core_.events(), (std::vector<std::string>{"stored 5", "leased for w1"}));

  // Nothing pending: the answer has no next task (the worker then Leases).
  emar::v1::CompleteResponse none;
  ASSERT_TRUE(Complete(6, &none, /*lease_next=*/true, "idle").ok());
  EXPECT_FALSE(none.has_next_task());

  // An old worker does not ask: no lease is taken for it.
  emar::v1::CompleteResponse old;
  ASSERT_TRUE(Complete(7, &old).ok());
  EXPECT_FALSE(old.has_next_task());
  // A refused result leases nothing either.
  emar::v1::CompleteResponse refused;
  EXPECT_EQ(Complete(-1, &refused, /*lease_next=*/true).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_FALSE(refused.has_next_task());
  EXPECT_EQ(core_.events(), (std::vector<std::string>{"stored 5", "leased for w1", "stored 6",
                                                      "leased for idle", "stored 7", "stored -1"}));
}

TEST_F(WorkerServiceTest, TheCoresErrorsReachTheWorkerWithTheirCodes) {
  core_.Open();
  emar::v1::CompleteResponse resp;
  const grpc::Status complete = Complete(-1, &resp);
  EXPECT_EQ(complete.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(complete.error_message(), "shard -1 is not of job-1");

  grpc::ClientContext ctx;
  emar::v1::HeartbeatRequest beat;
  beat.set_lease_id("lost");
  emar::v1::HeartbeatResponse alive;
  const grpc::Status heartbeat = stub_->Heartbeat(&ctx, beat, &alive);
  EXPECT_EQ(heartbeat.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(heartbeat.error_message(), "lease lost is not current");
}

}  // namespace
}  // namespace emar
