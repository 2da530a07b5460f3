// The gRPC edge over real gRPC on loopback, with fake cores behind it: the watch, lease and
// blob-read reactors; the CallGuard's size limit, authentication and authorization on every
// handler; method labels from a fixed set; and server reflection under tokens.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "emar/v1/service.grpc.pb.h"
#include "server/evaluation_service.h"
#include "server/reflection_guard.h"
#include "server/request_counter.h"
#include "server/worker_service.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A client core whose watches and job reads the test drives. Thread-safe.
class FakeClientCore : public ClientCore {
 public:
  void CreateJobAsync(emar::v1::CreateJobRequest, CreateCallback done, const Principal&) override {
    done(absl::UnimplementedError("fake"));
  }
  absl::StatusOr<emar::v1::Job> GetJob(const std::string& job_id, const Principal& who) override {
    emar::v1::Job job;
    job.set_job_id(job_id);
    job.set_owner(who.name);
    return job;
  }
  absl::StatusOr<emar::v1::ListJobsResponse> ListJobs(const emar::v1::ListJobsRequest&,
                                                      const Principal&) override {
    return emar::v1::ListJobsResponse();
  }
  absl::StatusOr<emar::v1::Series> GetSeries(const emar::v1::GetSeriesRequest&,
                                             const Principal&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<emar::v1::Job> CancelJob(const std::string&, const Principal&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<emar::v1::Report> GetReport(const std::string&, const Principal&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<emar::v1::DeleteJobResponse> DeleteJob(const std::string&,
                                                        const Principal&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<uint64_t> Watch(const std::string& job_id, WatchCallback cb,
                                 std::function<void()> on_shutdown, const Principal&) override {
    if (job_id == "missing") return absl::NotFoundError("job 'missing' not found");
    emar::v1::Job job;
    job.set_job_id(job_id);
    job.set_state(emar::v1::JOB_STATE_QUEUED);
    cb(job);
    absl::MutexLock lock(&mu_);
    cb_ = std::move(cb);
    on_shutdown_ = std::move(on_shutdown);
    return 7;
  }
  void Unwatch(uint64_t handle) override {
    absl::MutexLock lock(&mu_);
    unwatched_ = handle;
  }

  // Waits for a watch, then sends `job` to it.
  void Push(const emar::v1::Job& job) {
    WatchCallback cb;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WatchCallback* c) { return *c != nullptr; }, &cb_));
      cb = cb_;
    }
    cb(job);
  }
  void ShutDown() {
    std::function<void()> bye;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WatchCallback* c) { return *c != nullptr; }, &cb_));
      bye = on_shutdown_;
    }
    bye();
  }
  uint64_t unwatched() {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](uint64_t* u) { return *u != 0; }, &unwatched_),
                         absl::Seconds(10));
    return unwatched_;
  }

 private:
  absl::Mutex mu_;
  WatchCallback cb_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_shutdown_ ABSL_GUARDED_BY(mu_);
  uint64_t unwatched_ ABSL_GUARDED_BY(mu_) = 0;
};

// A worker core whose long-polls the test answers or sees withdrawn. Thread-safe.
class FakeWorkerCore : public WorkerCore {
 public:
  uint64_t LeaseAsync(const std::string&, absl::Duration, LeaseCallback cb) override {
    absl::MutexLock lock(&mu_);
    cb_ = std::move(cb);
    return 42;
  }
  bool CancelLeaseWait(uint64_t handle) override {
    absl::MutexLock lock(&mu_);
    cancelled_ = handle;
    cb_ = nullptr;
    return true;
  }
  absl::StatusOr<emar::v1::HeartbeatResponse> Heartbeat(
      const emar::v1::HeartbeatRequest&) override {
    emar::v1::HeartbeatResponse resp;
    resp.set_keep_going(true);
    return resp;
  }
  absl::StatusOr<emar::v1::CompleteResponse> Complete(const emar::v1::CompleteRequest&) override {
    return emar::v1::CompleteResponse();
  }

  void Answer(std::optional<emar::v1::ShardTask> task) {
    LeaseCallback cb;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](LeaseCallback* c) { return *c != nullptr; }, &cb_));
      cb = cb_;
    }
    cb(std::move(task));
  }
  uint64_t cancelled() {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](uint64_t* c) { return *c != 0; }, &cancelled_),
                         absl::Seconds(10));
    return cancelled_;
  }

 private:
  absl::Mutex mu_;
  LeaseCallback cb_ ABSL_GUARDED_BY(mu_);
  uint64_t cancelled_ ABSL_GUARDED_BY(mu_) = 0;
};

constexpr char kClientToken[] = "client-secret";
constexpr char kWorkerToken[] = "worker-secret";

class EdgeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Start(/*with_tokens=*/false)); }
  void TearDown() override { Stop(); }

  void Start(bool with_tokens) {
    Stop();
    if (with_tokens) {
      ASSERT_OK_AND_ASSIGN(
          TokenTable table,
          TokenTable::Parse(absl::StrCat("client alice ", Sha256Hex(kClientToken), "\nworker w ",
                                         Sha256Hex(kWorkerToken), "\n"),
                            "tokens"));
      auth_ = std::make_unique<Authenticator>(std::move(table));
    } else {
      auth_ = std::make_unique<Authenticator>();
    }
    blob_store_ = std::make_unique<BlobStore>(dir_.path(), /*durable=*/false);
    ASSERT_OK(blob_store_->Init());
    if (job_store_ == nullptr) {
      ASSERT_OK_AND_ASSIGN(job_store_, JobStore::Open(dir_.path() + "/jobs.db"));
    }
    blobs_ = std::make_unique<BlobAccess>(blob_store_.get(), job_store_.get(), BlobAccessOptions{},
                                          [](const std::string&) { return std::nullopt; });
    ClientApiLimits limits;
    limits.max_request_bytes = 64 << 10;
    evaluation_ = std::make_unique<EvaluationServiceImpl>(&client_core_, blobs_.get(), limits,
                                                          nullptr, auth_.get());
    worker_ = std::make_unique<WorkerServiceImpl>(&worker_core_, blobs_.get(), auth_.get());
    counter_ = std::make_unique<RequestCounter>(RequestCounter::ServedMethods());
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(evaluation_.get());
    builder.RegisterService(worker_.get());
    auto interceptors = counter_->InterceptorFactories();
    if (with_tokens) interceptors.push_back(MakeReflectionGuard(auth_.get()));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ =
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
    client_ = emar::v1::EvaluationService::NewStub(channel_);
    workers_ = emar::v1::WorkerService::NewStub(channel_);
  }
  void Stop() {
    if (server_) server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    server_.reset();
    worker_.reset();
    evaluation_.reset();
  }
  static void WithToken(grpc::ClientContext* ctx, const char* token) {
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }

  TempDir dir_;
  FakeClientCore client_core_;
  FakeWorkerCore worker_core_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<BlobStore> blob_store_;
  std::unique_ptr<JobStore> job_store_;
  std::unique_ptr<BlobAccess> blobs_;
  std::unique_ptr<RequestCounter> counter_;
  std::unique_ptr<EvaluationServiceImpl> evaluation_;
  std::unique_ptr<WorkerServiceImpl> worker_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<emar::v1::EvaluationService::Stub> client_;
  std::unique_ptr<emar::v1::WorkerService::Stub> workers_;
};

TEST_F(EdgeTest, WatchStreamsEveryEventThenEndsAtTheTerminalState) {
  grpc::ClientContext ctx;
  emar::v1::WatchJobRequest req;
  req.set_job_id("j1");
  auto reader = client_->WatchJob(&ctx, req);
  emar::v1::JobEvent ev;
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.job().state(), emar::v1::JOB_STATE_QUEUED);  // the snapshot
  emar::v1::Job job = ev.job();
  job.set_state(emar::v1::JOB_STATE_RUNNING);
  job.mutable_progress()->set_shards_done(2);
  client_core_.Push(job);
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.job().progress().shards_done(), 2);
  job.mutable_progress()->set_shards_done(1);  // stale: raced a newer event, dropped
  client_core_.Push(job);
  job.set_state(emar::v1::JOB_STATE_SUCCEEDED);
  client_core_.Push(job);
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_EQ(ev.job().state(), emar::v1::JOB_STATE_SUCCEEDED);
  EXPECT_FALSE(reader->Read(&ev));
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(client_core_.unwatched(), 7u);
}

TEST_F(EdgeTest, WatchEndsUnavailableWhenTheCoreShutsDown) {
  grpc::ClientContext ctx;
  emar::v1::WatchJobRequest req;
  req.set_job_id("j1");
  auto reader = client_->WatchJob(&ctx, req);
  emar::v1::JobEvent ev;
  ASSERT_TRUE(reader->Read(&ev));
  client_core_.ShutDown();
  EXPECT_FALSE(reader->Read(&ev));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(EdgeTest, WatchOfAJobTheCoreRefusesEndsWithItsError) {
  grpc::ClientContext ctx;
  emar::v1::WatchJobRequest req;
  req.set_job_id("missing");
  auto reader = client_->WatchJob(&ctx, req);
  emar::v1::JobEvent ev;
  EXPECT_FALSE(reader->Read(&ev));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(EdgeTest, LeaseIsAnsweredByTheCore) {
  std::thread answer([&] {
    emar::v1::ShardTask task;
    task.set_job_id("j1");
    task.set_shard_id(3);
    worker_core_.Answer(task);
  });
  grpc::ClientContext ctx;
  emar::v1::LeaseRequest req;
  req.set_worker_id("w1");
  emar::v1::LeaseResponse resp;
  ASSERT_TRUE(workers_->Lease(&ctx, req, &resp).ok());
  answer.join();
  EXPECT_EQ(resp.task().shard_id(), 3);
}

TEST_F(EdgeTest, AnAbandonedLeaseWaitIsWithdrawnFromTheCore) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(200)));
  emar::v1::LeaseRequest req;
  emar::v1::LeaseResponse resp;
  EXPECT_EQ(workers_->Lease(&ctx, req, &resp).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(worker_core_.cancelled(), 42u);
}

TEST_F(EdgeTest, ReadBlobStreamsARangeInChunks) {
  std::string data((1 << 20) + 5, 'x');
  data.back() = 'y';
  ASSERT_OK_AND_ASSIGN(std::string sha, blob_store_->Put(data));
  grpc::ClientContext ctx;
  emar::v1::ReadBlobRequest req;
  req.mutable_range()->set_sha256(sha);
  req.mutable_range()->set_offset(3);
  req.mutable_range()->set_length(-1);
  auto reader = workers_->ReadBlob(&ctx, req);
  emar::v1::ReadBlobResponse chunk;
  std::string got;
  int chunks = 0;
  while (reader->Read(&chunk)) {
    got += chunk.chunk();
    ++chunks;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(chunks, 2);
  EXPECT_EQ(got, data.substr(3));

  grpc::ClientContext past;
  req.mutable_range()->set_offset(static_cast<int64_t>(data.size()) + 1);
  auto refused = workers_->ReadBlob(&past, req);
  EXPECT_FALSE(refused->Read(&chunk));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::OUT_OF_RANGE);
}

TEST_F(EdgeTest, OversizedRequestsAreRefusedNamingTheFlag) {
  grpc::ClientContext ctx;
  emar::v1::GetJobRequest req;
  req.set_job_id(std::string(65 << 10, 'j'));
  emar::v1::Job resp;
  const grpc::Status s = client_->GetJob(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("--max-request-kb"));
}

TEST_F(EdgeTest, TokensDecideWhoCallsWhichApi) {
  ASSERT_NO_FATAL_FAILURE(Start(/*with_tokens=*/true));
  emar::v1::GetJobRequest req;
  req.set_job_id("j1");
  emar::v1::Job job;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(client_->GetJob(&ctx, req, &job).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    WithToken(&ctx, kWorkerToken);
    EXPECT_EQ(client_->GetJob(&ctx, req, &job).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    WithToken(&ctx, kClientToken);
    ASSERT_TRUE(client_->GetJob(&ctx, req, &job).ok());
    EXPECT_EQ(job.owner(), "alice");  // the core got the caller's principal
  }
  {
    grpc::ClientContext ctx;
    WithToken(&ctx, kClientToken);
    emar::v1::HeartbeatRequest hb;
    emar::v1::HeartbeatResponse resp;
    EXPECT_EQ(workers_->Heartbeat(&ctx, hb, &resp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Every refusal was counted under its method.
  EXPECT_THAT(counter_->MetricsText(),
              HasSubstr("emar_grpc_requests_total{method=\"/emar.v1.EvaluationService/GetJob\","
                        "code=\"UNAUTHENTICATED\"} 1\n"));
}

// A call to `method` with an empty message; its status.
grpc::Status CallGeneric(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                         const std::string& request, std::vector<std::string>* responses,
                         const char* token = nullptr) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  if (token != nullptr) ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  auto call = stub.PrepareCall(&ctx, method, &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  grpc::Slice slice(request);
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  call->WritesDone(reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  for (;;) {
    grpc::ByteBuffer in;
    call->Read(&in, reinterpret_cast<void*>(4));
    cq.Next(&tag, &ok);
    if (!ok) break;
    std::vector<grpc::Slice> slices;
    (void)in.Dump(&slices);
    std::string text;
    for (const grpc::Slice& s : slices)
      text.append(reinterpret_cast<const char*>(s.begin()), s.size());
    responses->push_back(std::move(text));
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

TEST_F(EdgeTest, UnknownMethodsAreCountedAsUnknown) {
  std::vector<std::string> responses;
  for (const char* made_up : {"/emar.v1.EvaluationService/MadeUp", "/no.Such/Thing"}) {
    EXPECT_EQ(CallGeneric(channel_, made_up, "", &responses).error_code(),
              grpc::StatusCode::UNIMPLEMENTED);
  }
  const std::string text = counter_->MetricsText();
  EXPECT_THAT(text, HasSubstr("method=\"unknown\",code=\"UNIMPLEMENTED\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("MadeUp")));
  EXPECT_THAT(text, Not(HasSubstr("no.Such")));
}

// ServerReflectionRequest{list_services: ""}.
const std::string kListServices("\x3a\x00", 2);
constexpr char kReflection[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

TEST_F(EdgeTest, ReflectionIsOpenWithoutTokens) {
  std::vector<std::string> responses;
  ASSERT_TRUE(CallGeneric(channel_, kReflection, kListServices, &responses).ok());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_THAT(responses[0], HasSubstr("emar.v1.EvaluationService"));
}

TEST_F(EdgeTest, ReflectionTakesTheTokensWhenThereAreSome) {
  ASSERT_NO_FATAL_FAILURE(Start(/*with_tokens=*/true));
  std::vector<std::string> refused;
  const grpc::Status s = CallGeneric(channel_, kReflection, kListServices, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  for (const std::string& r : refused) {
    EXPECT_THAT(r, Not(HasSubstr("emar.v1")));
    EXPECT_EQ(r, ReflectionErrorResponse(absl::UnauthenticatedError(s.error_message())));
  }
  std::vector<std::string> answered;
  ASSERT_TRUE(CallGeneric(channel_, kReflection, kListServices, &answered, kWorkerToken).ok());
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_THAT(answered[0], HasSubstr("emar.v1.WorkerService"));
}

}  // namespace
}  // namespace emar
