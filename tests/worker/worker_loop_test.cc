// The worker's RPC loop against a scripted WorkerService on a real gRPC server (127.0.0.1, port
// 0): it hands out the shards a test queues, serves blobs from memory, answers heartbeats as told
// and records every completion, so each test can look at exactly what the worker sent.
#include "worker/worker_loop.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::HasSubstr;

constexpr char kRefs[] = "refs-sha";

class FakeWorkerService final : public emar::v1::WorkerService::Service {
 public:
  void Queue(emar::v1::ShardTask task) {
    absl::MutexLock lock(&mu_);
    tasks_.push_back(std::move(task));
  }
  void PutBlob(const std::string& sha, const std::string& bytes) {
    absl::MutexLock lock(&mu_);
    blobs_[sha] = bytes;
  }
  void set_keep_going(bool v) {
    absl::MutexLock lock(&mu_);
    keep_going_ = v;
  }
  void set_read_delay(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    read_delay_ = d;
  }
  void set_unavailable_completes(int n) {
    absl::MutexLock lock(&mu_);
    unavailable_completes_ = n;
  }
  // Waits until `n` completions were accepted (or 20 s) and returns them.
  std::vector<emar::v1::CompleteRequest> AwaitCompleted(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&] { return completed_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
    return completed_;
  }
  // Waits until `n` heartbeats arrived (or 20 s); returns how many did.
  int AwaitHeartbeats(int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&] { return heartbeats_ >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(20));
    return heartbeats_;
  }
  int complete_calls() {
    absl::MutexLock lock(&mu_);
    return complete_calls_;
  }
  int reads_of(const std::string& sha) {
    absl::MutexLock lock(&mu_);
    return reads_[sha];
  }
  std::string blob(const std::string& sha) {
    absl::MutexLock lock(&mu_);
    return blobs_[sha];
  }

  grpc::Status Lease(grpc::ServerContext* ctx, const emar::v1::LeaseRequest* req,
                     emar::v1::LeaseResponse* resp) override {
    const absl::Time deadline = absl::Now() + absl::Milliseconds(req->wait_ms());
    absl::MutexLock lock(&mu_);
    auto has_task = [&] { return !tasks_.empty(); };
    // In steps, so a call the worker cancelled ends soon (the server's shutdown waits for it).
    while (tasks_.empty() && !ctx->IsCancelled() && absl::Now() < deadline) {
      mu_.AwaitWithTimeout(absl::Condition(&has_task), absl::Milliseconds(50));
    }
    if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
    if (!tasks_.empty()) {
      *resp->mutable_task() = std::move(tasks_.front());
      tasks_.pop_front();
      ++leased_by_lease_;
    }
    return grpc::Status::OK;
  }
  grpc::Status Heartbeat(grpc::ServerContext*, const emar::v1::HeartbeatRequest* req,
                         emar::v1::HeartbeatResponse* resp) override {
    absl::MutexLock lock(&mu_);
    ++heartbeats_;
    resp->set_keep_going(keep_going_ && withdrawn_.count(req->lease_id()) == 0);
    return grpc::Status::OK;
  }
  grpc::Status Complete(grpc::ServerContext*, const emar::v1::CompleteRequest* req,
                        emar::v1::CompleteResponse* resp) override {
    absl::Duration delay;
    {
      absl::MutexLock lock(&mu_);
      events_.push_back("complete-begin " + req->lease_id());
      delay = complete_delay_;
    }
    absl::SleepFor(delay);
    absl::MutexLock lock(&mu_);
    events_.push_back("complete-end " + req->lease_id());
    ++complete_calls_;
    if (unavailable_completes_ > 0) {
      --unavailable_completes_;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not now");
    }
    completed_.push_back(*req);
    // A coordinator that knows lease_next hands the next queued shard with the answer.
    if (serve_lease_next_ && req->lease_next() && !tasks_.empty()) {
      *resp->mutable_next_task() = std::move(tasks_.front());
      tasks_.pop_front();
    }
    return grpc::Status::OK;
  }
  void set_serve_lease_next(bool v) {
    absl::MutexLock lock(&mu_);
    serve_lease_next_ = v;
  }
  void set_complete_delay(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    complete_delay_ = d;
  }
  // Heartbeats for this lease answer keep_going=false.
  void Withdraw(const std::string& lease_id) {
    absl::MutexLock lock(&mu_);
    withdrawn_.insert(lease_id);
  }
  // "complete-begin LEASE", "complete-end LEASE" and "read SHA", in the order they happened.
  std::vector<std::string> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  int leased_by_lease() {
    absl::MutexLock lock(&mu_);
    return leased_by_lease_;
  }
  grpc::Status ReadBlob(grpc::ServerContext*, const emar::v1::ReadBlobRequest* req,
                        grpc::ServerWriter<emar::v1::ReadBlobResponse>* writer) override {
    std::string bytes;
    absl::Duration delay;
    {
      absl::MutexLock lock(&mu_);
      ++reads_[req->range().sha256()];
      events_.push_back("read " + req->range().sha256());
      auto it = blobs_.find(req->range().sha256());
      if (it == blobs_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such blob");
      const std::string& all = it->second;
      const size_t offset = static_cast<size_t>(req->range().offset());
      bytes = req->range().length() < 0
                  ? all.substr(offset)
                  : all.substr(offset, static_cast<size_t>(req->range().length()));
      delay = read_delay_;
    }
    absl::SleepFor(delay);
    emar::v1::ReadBlobResponse chunk;
    chunk.set_chunk(bytes);
    writer->Write(chunk);
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  std::deque<emar::v1::ShardTask> tasks_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> blobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> reads_ ABSL_GUARDED_BY(mu_);
  std::vector<emar::v1::CompleteRequest> completed_ ABSL_GUARDED_BY(mu_);
  bool keep_going_ ABSL_GUARDED_BY(mu_) = true;
  absl::Duration read_delay_ ABSL_GUARDED_BY(mu_);
  int unavailable_completes_ ABSL_GUARDED_BY(mu_) = 0;
  int complete_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int heartbeats_ ABSL_GUARDED_BY(mu_) = 0;
  bool serve_lease_next_ ABSL_GUARDED_BY(mu_) = false;  // false: an older coordinator
  int leased_by_lease_ ABSL_GUARDED_BY(mu_) = 0;        // shards handed out by Lease calls
  absl::Duration complete_delay_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> withdrawn_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

// The fake service on loopback and a worker loop running against it on its own thread.
class WorkerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_.PutBlob(kRefs,
                     "{\"id\": \"a\", \"reference\": \"pos\"}\n"
                     "{\"id\": \"b\", \"reference\": \"neg\"}\n");
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    address_ = absl::StrCat("127.0.0.1:", port);
  }
  void TearDown() override {
    StopWorker();
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }

  void StartWorker(int threads = 1, bool lease_ahead = false) {
    WorkerOptions o;
    o.worker_id = "w";
    o.threads = threads;
    o.lease_ahead = lease_ahead;
    o.lease_wait = absl::Milliseconds(200);
    o.read_blob = read_blob_;
    worker_ = std::make_unique<WorkerLoop>(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()), o);
    thread_ = std::thread([this] { worker_->Run(); });
  }
  void StopWorker() {
    if (worker_) worker_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  // An accuracy shard of `outputs` (all of it), against the two references above.
  emar::v1::ShardTask Task(int shard_id, const std::string& outputs) {
    const std::string sha = absl::StrCat("out-", shard_id);
    service_.PutBlob(sha, outputs);
    emar::v1::ShardTask t;
    t.set_job_id("job");
    t.set_shard_id(shard_id);
    t.set_lease_id(absl::StrCat("lease-", shard_id));
    t.set_lease_ttl_ms(30000);
    t.set_role(emar::v1::DATASET_ROLE_TARGET);
    t.set_model("base");
    t.set_metric("accuracy");
    t.set_first_line(1);
    t.set_reference_rows(2);
    t.mutable_outputs()->set_sha256(sha);
    t.mutable_outputs()->set_display_name("out/base.jsonl");
    t.mutable_outputs()->set_length(-1);
    t.mutable_references()->set_sha256(kRefs);
    t.mutable_references()->set_display_name("data/refs.jsonl");
    t.mutable_references()->set_length(-1);
    return t;
  }

  FakeWorkerService service_;
  // WorkerOptions::read_blob of the next StartWorker (unset: blobs come through ReadBlob).
  std::function<absl::StatusOr<std::string>(const emar::v1::BlobRange&)> read_blob_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<WorkerLoop> worker_;
  std::thread thread_;
};

TEST_F(WorkerLoopTest, ScoresALeasedShardAndCompletesIt) {
  service_.Queue(Task(0,
                      "{\"id\": \"b\", \"prediction\": \"pos\"}\n"
                      "{\"id\": \"a\", \"prediction\": \"pos\"}\n"));
  StartWorker();
  auto done = service_.AwaitCompleted(1);
  ASSERT_EQ(done.size(), 1u);
  const emar::v1::CompleteRequest& c = done[0];
  EXPECT_EQ(c.lease_id(), "lease-0");
  EXPECT_EQ(c.job_id(), "job");
  ASSERT_TRUE(c.has_result()) << c.failure().message();
  // Outputs line 1 answered reference row 1 (b, wrong), line 2 row 0 (a, right).
  EXPECT_THAT(c.result().reference_row(), ::testing::ElementsAre(1, 0));
  EXPECT_THAT(c.result().line(), ::testing::ElementsAre(1, 2));
  EXPECT_THAT(c.result().stats(), ::testing::ElementsAre(0.0, 1.0));
  StopWorker();
  EXPECT_EQ(worker_->shards_completed(), 1);
  EXPECT_THAT(worker_->MetricsText(), HasSubstr("emar_worker_shards_total{outcome=\"scored\"} 1"));
  EXPECT_THAT(worker_->MetricsText(), HasSubstr("emar_worker_examples_scored_total 2"));
  EXPECT_GT(worker_->last_contact(), absl::Now() - absl::Minutes(1));
}

TEST_F(WorkerLoopTest, BadOutputsAreReportedAsAnInputFailureNamingFileAndLine) {
  service_.Queue(Task(0,
                      "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"zz\", "
                      "\"prediction\": \"pos\"}\n"));
  StartWorker();
  auto done = service_.AwaitCompleted(1);
  ASSERT_EQ(done.size(), 1u);
  ASSERT_TRUE(done[0].has_failure());
  EXPECT_TRUE(done[0].failure().input_error());
  EXPECT_THAT(done[0].failure().message(), HasSubstr("out/base.jsonl:2: "));
  EXPECT_THAT(done[0].failure().message(), HasSubstr("zz"));
  StopWorker();
  EXPECT_THAT(worker_->MetricsText(), HasSubstr("emar_worker_shards_total{outcome=\"failed\"} 1"));
}

TEST_F(WorkerLoopTest, ReferencesAreFetchedOnceForShardsThatShareThem) {
  for (int i = 0; i < 3; ++i) service_.Queue(Task(i, "{\"id\": \"a\", \"prediction\": \"pos\"}\n"));
  StartWorker();
  EXPECT_EQ(service_.AwaitCompleted(3).size(), 3u);
  EXPECT_EQ(service_.reads_of(kRefs), 1);
  EXPECT_EQ(service_.reads_of("out-2"), 1);
}

// The embedded mode's workers read blobs beside their coordinator: no ReadBlob call, the same
// result; and a blob that cannot be read fails the shard as a ReadBlob error would.
TEST_F(WorkerLoopTest, ReadBlobInProcessReplacesTheCall) {
  const std::string outputs =
      "{\"id\": \"b\", \"prediction\": \"pos\"}\n{\"id\": \"a\", \"prediction\": \"pos\"}\n";
  service_.Queue(Task(0, outputs));
  service_.Queue(Task(1, outputs));
  absl::Mutex mu;
  std::vector<std::string> asked;
  read_blob_ = [&](const emar::v1::BlobRange& range) -> absl::StatusOr<std::string> {
    absl::MutexLock lock(&mu);
    asked.push_back(range.sha256());
    if (range.sha256() == kRefs) return service_.blob(kRefs);
    if (range.sha256() == "out-0") return outputs;
    return absl::NotFoundError(absl::StrCat("blob ", range.sha256(), " not found"));
  };
  StartWorker();
  auto done = service_.AwaitCompleted(2);
  ASSERT_EQ(done.size(), 2u);
  ASSERT_TRUE(done[0].has_result()) << done[0].failure().message();
  EXPECT_THAT(done[0].result().reference_row(), ::testing::ElementsAre(1, 0));
  EXPECT_THAT(done[0].result().stats(), ::testing::ElementsAre(0.0, 1.0));
  ASSERT_TRUE(done[1].has_failure());
  EXPECT_THAT(done[1].failure().message(), HasSubstr("blob out-1 not found"));
  EXPECT_EQ(service_.reads_of(kRefs), 0);
  EXPECT_EQ(service_.reads_of("out-0"), 0);
  absl::MutexLock lock(&mu);
  EXPECT_THAT(asked, ::testing::ElementsAre(kRefs, "out-0", "out-1"));
}

TEST_F(WorkerLoopTest, TheNextShardComesWithTheAnswerToTheLastResult) {
  service_.set_serve_lease_next(true);
  for (int i = 0; i < 3; ++i) service_.Queue(Task(i, "{\"id\": \"a\", \"prediction\": \"pos\"}\n"));
  StartWorker();
  auto done = service_.AwaitCompleted(3);
  ASSERT_EQ(done.size(), 3u);
  for (const emar::v1::CompleteRequest& c : done) EXPECT_TRUE(c.lease_next()) << c.lease_id();
  // One Lease call; the other two shards came with Complete's answers.
  EXPECT_EQ(service_.leased_by_lease(), 1);
  StopWorker();
  EXPECT_EQ(worker_->shards_completed(), 3);
}

// lease_ahead (the embedded mode): a second shard is leased at once, its outputs fetched while the
// first is scored, and it is scored while the first one's result is being completed; each later
// shard comes with an answer, as before.
TEST_F(WorkerLoopTest, LeaseAheadScoresTheNextShardWhileTheLastResultIsCompleted) {
  service_.set_serve_lease_next(true);
  service_.set_complete_delay(absl::Milliseconds(300));
  for (int i = 0; i < 4; ++i) service_.Queue(Task(i, "{\"id\": \"a\", \"prediction\": \"pos\"}\n"));
  StartWorker(/*threads=*/1, /*lease_ahead=*/true);
  auto done = service_.AwaitCompleted(4);
  ASSERT_EQ(done.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(done[i].shard_id(), i);  // in order, each once
  EXPECT_EQ(service_.leased_by_lease(), 2);
  const std::vector<std::string> events = service_.events();
  auto at = [&](const std::string& e) {
    return std::find(events.begin(), events.end(), e) - events.begin();
  };
  // Shard i+1's outputs were read while shard i's Complete (300 ms) was still unanswered.
  for (int i = 0; i < 3; ++i) {
    const std::string next = absl::StrCat("read out-", i + 1);
    EXPECT_LT(at(next), at(absl::StrCat("complete-end lease-", i)))
        << ::testing::PrintToString(events);
  }
  StopWorker();
  EXPECT_EQ(worker_->shards_completed(), 4);
}

// A shard held ahead has its lease renewed by the heartbeat of the shard being scored (and its
// outputs fetched meanwhile); when the coordinator withdraws it, it is dropped unscored.
TEST_F(WorkerLoopTest, AShardHeldAheadWhoseLeaseIsWithdrawnIsDroppedUnscored) {
  service_.set_read_delay(absl::Milliseconds(600));  // scoring outlasts a heartbeat (every 100 ms)
  emar::v1::ShardTask t = Task(0, "{\"id\": \"a\", \"prediction\": \"pos\"}\n");
  t.set_lease_ttl_ms(300);
  service_.Queue(t);
  service_.Queue(Task(1, "{\"id\": \"a\", \"prediction\": \"pos\"}\n"));
  service_.Withdraw("lease-1");
  StartWorker(/*threads=*/1, /*lease_ahead=*/true);
  auto done = service_.AwaitCompleted(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].shard_id(), 0);
  StopWorker();
  EXPECT_EQ(service_.complete_calls(), 1);  // shard 1's outputs were fetched ahead, not scored
  EXPECT_THAT(worker_->MetricsText(), HasSubstr("emar_worker_shards_total{outcome=\"dropped\"} 1"));
}

TEST_F(WorkerLoopTest, ACoordinatorThatIgnoresLeaseNextIsLeasedFromAsBefore) {
  for (int i = 0; i < 3; ++i) service_.Queue(Task(i, "{\"id\": \"a\", \"prediction\": \"pos\"}\n"));
  StartWorker();
  EXPECT_EQ(service_.AwaitCompleted(3).size(), 3u);
  EXPECT_EQ(service_.leased_by_lease(), 3);
}

TEST_F(WorkerLoopTest, AWithdrawnLeaseDropsTheResult) {
  service_.set_keep_going(false);
  service_.set_read_delay(absl::Milliseconds(600));  // scoring outlasts a heartbeat (every 100 ms)
  emar::v1::ShardTask t = Task(0, "{\"id\": \"a\", \"prediction\": \"pos\"}\n");
  t.set_lease_ttl_ms(300);
  service_.Queue(t);
  StartWorker();
  EXPECT_GE(service_.AwaitHeartbeats(1), 1);
  // Then the next shard, which is kept, shows the first was done with.
  service_.set_keep_going(true);
  service_.set_read_delay(absl::ZeroDuration());
  service_.Queue(Task(1, "{\"id\": \"a\", \"prediction\": \"pos\"}\n"));
  auto done = service_.AwaitCompleted(1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].shard_id(), 1);
  StopWorker();
  EXPECT_THAT(worker_->MetricsText(), HasSubstr("emar_worker_shards_total{outcome=\"dropped\"} 1"));
}

TEST_F(WorkerLoopTest, AnUnavailableCompleteIsRetried) {
  service_.set_unavailable_completes(2);
  service_.Queue(Task(0, "{\"id\": \"a\", \"prediction\": \"pos\"}\n"));
  StartWorker();
  EXPECT_EQ(service_.AwaitCompleted(1).size(), 1u);
  EXPECT_EQ(service_.complete_calls(), 3);
  StopWorker();
  EXPECT_EQ(worker_->shards_completed(), 1);
}

// A coordinator out of disk answers UNAVAILABLE for as long as the outage lasts: the worker keeps
// its result and resends it, backing off no longer than a third of the lease TTL (each try
// renews the lease), however many tries it takes.
TEST_F(WorkerLoopTest, AResultIsKeptAndResentThroughALongOutage) {
  service_.set_unavailable_completes(20);
  emar::v1::ShardTask t = Task(0, "{\"id\": \"a\", \"prediction\": \"pos\"}\n");
  t.set_lease_ttl_ms(300);  // backoff capped at 100 ms: 20 tries in about 2 s
  service_.Queue(t);
  StartWorker();
  EXPECT_EQ(service_.AwaitCompleted(1).size(), 1u);
  EXPECT_EQ(service_.complete_calls(), 21);
  StopWorker();
  EXPECT_EQ(worker_->shards_completed(), 1);
}

TEST_F(WorkerLoopTest, StopEndsRunWithoutWaitingOutTheLongPoll) {
  WorkerOptions o;
  o.lease_wait = absl::Seconds(30);
  o.threads = 2;
  worker_ = std::make_unique<WorkerLoop>(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()), o);
  thread_ = std::thread([this] { worker_->Run(); });
  absl::SleepFor(absl::Milliseconds(300));  // both loops are in a long-poll by now
  const absl::Time start = absl::Now();
  StopWorker();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(WorkerLoopUnreachableTest, CountsFailedLeasesAndHasNoContact) {
  // A port nothing listens on: bind one, note it, close it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  WorkerOptions o;
  o.worker_id = "w";
  WorkerLoop worker(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()), o);
  std::thread t([&] { worker.Run(); });
  absl::SleepFor(absl::Milliseconds(500));
  worker.Stop();
  t.join();
  EXPECT_EQ(worker.last_contact(), absl::InfinitePast());
  EXPECT_THAT(worker.MetricsText(),
              ::testing::Not(HasSubstr("emar_worker_lease_errors_total 0\n")));
}

}  // namespace
}  // namespace emar
