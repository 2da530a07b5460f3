// EvaluationClient end to end against a real coordinator and worker on loopback TCP, no mocks.
#include "client/evaluation_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "client/job_file.h"
#include "common/job_state.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"
#include "tests/server/temp_dir.h"
#include "worker/worker_loop.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

// Counts the client's RPCs by method name, seen from the client's own channel: how we know what
// Submit sent over the wire, not just what the server ended up holding.
class RpcCounter {
 public:
  void Add(const std::string& method) {
    absl::MutexLock lock(&mu_);
    ++counts_[method];
  }
  int Count(const std::string& rpc) {
    absl::MutexLock lock(&mu_);
    auto it = counts_.find(absl::StrCat("/emar.v1.EvaluationService/", rpc));
    return it == counts_.end() ? 0 : it->second;
  }
  void Reset() {
    absl::MutexLock lock(&mu_);
    counts_.clear();
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
};

class CountingInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit CountingInterceptorFactory(std::shared_ptr<RpcCounter> counter)
      : counter_(std::move(counter)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    counter_->Add(info->method());
    return nullptr;  // observe only; the call proceeds untouched
  }

 private:
  std::shared_ptr<RpcCounter> counter_;
};

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A tiny job whose scores are easy to count by hand.
//  target (accuracy, 5 items):   base right on r1 r4 = 2/5;  cand right on r1 r2 r3 r5 = 4/5
//  benchmark (exact_match, 4):   base right on 1 2 4 = 3/4;  cand right on 1 3 = 2/4
// so dT = 0.4, dB = -0.25 and relative_gain EMAR = dT / T0 = 1.0.
const std::map<std::string, std::string>& TinyJobFiles() {
  static const auto* files = new std::map<std::string, std::string>{
      {"t.jsonl",
       "{\"id\": \"r1\", \"reference\": \"yes\"}\n{\"id\": \"r2\", \"reference\": \"no\"}\n"
       "{\"id\": \"r3\", \"reference\": \"yes\"}\n{\"id\": \"r4\", \"reference\": \"no\"}\n"
       "{\"id\": \"r5\", \"reference\": \"yes\"}\n"},
      {"b.jsonl",
       "{\"id\": 1, \"references\": [\"Paris\"]}\n{\"id\": 2, \"references\": [\"Tokyo\"]}\n"
       "{\"id\": 3, \"references\": [\"Lima\"]}\n{\"id\": 4, \"references\": [\"Oslo\"]}\n"},
      {"base.t.jsonl",
       "{\"id\": \"r1\", \"prediction\": \"yes\"}\n{\"id\": \"r2\", \"prediction\": \"yes\"}\n"
       "{\"id\": \"r3\", \"prediction\": \"no\"}\n{\"id\": \"r4\", \"prediction\": \"no\"}\n"
       "{\"id\": \"r5\", \"prediction\": \"no\"}\n"},
      {"cand.t.jsonl",  // out of order on purpose: joined by id
       "{\"id\": \"r5\", \"prediction\": \"yes\"}\n{\"id\": \"r4\", \"prediction\": \"yes\"}\n"
       "{\"id\": \"r3\", \"prediction\": \"yes\"}\n{\"id\": \"r2\", \"prediction\": \"no\"}\n"
       "{\"id\": \"r1\", \"prediction\": \"yes\"}\n"},
      {"base.b.jsonl",
       "{\"id\": 1, \"prediction\": \"Paris\"}\n{\"id\": 2, \"prediction\": \"Tokyo\"}\n"
       "{\"id\": 3, \"prediction\": \"Rome\"}\n{\"id\": 4, \"prediction\": \"Oslo\"}\n"},
      {"cand.b.jsonl",
       "{\"id\": 1, \"prediction\": \"Paris\"}\n{\"id\": 2, \"prediction\": \"Kyoto\"}\n"
       "{\"id\": 3, \"prediction\": \"Lima\"}\n{\"id\": 4, \"prediction\": \"Bergen\"}\n"},
  };
  return *files;
}

constexpr char kTinyJobYaml[] = R"(name: tiny
target: {name: t, references: t.jsonl, metric: accuracy}
benchmark: {name: b, references: b.jsonl, metric: exact_match}
base: {name: base, target_outputs: base.t.jsonl, benchmark_outputs: base.b.jsonl}
candidates:
  - {name: cand, target_outputs: cand.t.jsonl, benchmark_outputs: cand.b.jsonl}
formula: relative_gain
)";

std::vector<std::string> TinyJobDigests() {
  std::vector<std::string> out;
  for (const auto& [name, text] : TinyJobFiles()) out.push_back(Sha256Hex(text));
  return out;
}

class EvaluationClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [name, text] : TinyJobFiles()) Write(inputs_.path() + "/" + name, text);
    Write(inputs_.path() + "/job.yaml", kTinyJobYaml);
  }
  void TearDown() override { StopAll(); }

  // Coordinator + TCP server on a free port + a client whose calls are counted.
  void StartServer(int64_t rows_per_shard = 50000, int port = 0) {
    CoordinatorOptions o;
    o.data_dir = data_.path();
    o.rows_per_shard = rows_per_shard;
    o.tick = absl::Milliseconds(10);
    auto c = Coordinator::Create(o);
    ASSERT_OK(c.status());
    coordinator_ = std::move(*c);
    auto s = CoordinatorServer::Start(coordinator_.get(),
                                      ServerOptions{absl::StrCat("127.0.0.1:", port)});
    ASSERT_OK(s.status());
    server_ = std::move(*s);
    ASSERT_GT(server_->port(), 0);
    address_ = absl::StrCat("127.0.0.1:", server_->port());
    std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> f;
    f.push_back(std::make_unique<CountingInterceptorFactory>(rpcs_));
    client_ =
        std::make_unique<EvaluationClient>(grpc::experimental::CreateCustomChannelWithInterceptors(
            address_, grpc::InsecureChannelCredentials(), grpc::ChannelArguments(), std::move(f)));
  }

  void StartWorker(int threads) {
    WorkerOptions w;
    w.worker_id = "test-worker";
    w.threads = threads;
    w.lease_wait = absl::Seconds(1);
    worker_ = std::make_unique<WorkerLoop>(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()), w);
    worker_thread_ = std::thread([this] { worker_->Run(); });
  }

  void StopWorker() {
    if (worker_) worker_->Stop();
    if (worker_thread_.joinable()) worker_thread_.join();
  }

  void StopAll() {
    StopWorker();
    if (server_) server_->Shutdown(absl::Seconds(2));
    if (coordinator_) coordinator_->Shutdown();
    client_.reset();
    server_.reset();
    coordinator_.reset();
  }

  JobFile LoadTinyJob() {
    auto job = LoadJobFile(inputs_.path() + "/job.yaml");
    EXPECT_OK(job.status());
    return job.value_or(JobFile());
  }

  TempDir data_, inputs_;
  std::shared_ptr<RpcCounter> rpcs_ = std::make_shared<RpcCounter>();
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  std::string address_;
  std::unique_ptr<EvaluationClient> client_;
  std::unique_ptr<WorkerLoop> worker_;
  std::thread worker_thread_;
};

TEST_F(EvaluationClientTest, SubmitUploadsOnlyTheBlobsTheCoordinatorLacks) {
  StartServer();
  const JobFile job = LoadTinyJob();
  ASSERT_EQ(job.inputs.size(), 6u);
  const std::vector<std::string> digests = TinyJobDigests();
  EXPECT_THAT(coordinator_->FindMissingBlobs(digests), UnorderedElementsAreArray(digests));

  // One input is already there: Submit must send the other five and only those.
  const std::string t_sha = Sha256Hex(TinyJobFiles().at("t.jsonl"));
  ASSERT_OK(client_->Upload(inputs_.path() + "/t.jsonl", t_sha));
  rpcs_->Reset();
  ASSERT_OK_AND_ASSIGN(emar::v1::Job first, client_->Submit(job, "first"));
  // Each blob is asked about as soon as it is hashed (while the next one is hashed).
  EXPECT_EQ(rpcs_->Count("FindMissingBlobs"), 6);
  EXPECT_EQ(rpcs_->Count("UploadBlob"), 5);
  EXPECT_EQ(rpcs_->Count("CreateJob"), 1);
  EXPECT_TRUE(coordinator_->FindMissingBlobs(digests).empty());
  for (const auto& [name, text] : TinyJobFiles()) {
    ASSERT_OK_AND_ASSIGN(std::string stored, coordinator_->blobs().Read(Sha256Hex(text), 0, -1));
    EXPECT_EQ(stored, text) << name;
  }

  // Same inputs again, as a new job: nothing to upload.
  rpcs_->Reset();
  ASSERT_OK_AND_ASSIGN(emar::v1::Job second, client_->Submit(job, "second"));
  EXPECT_NE(second.job_id(), first.job_id());
  EXPECT_EQ(rpcs_->Count("FindMissingBlobs"), 6);
  EXPECT_EQ(rpcs_->Count("UploadBlob"), 0);
  EXPECT_EQ(rpcs_->Count("CreateJob"), 1);
}

TEST_F(EvaluationClientTest, SubmitWithTheSameRequestIdReturnsTheSameJob) {
  StartServer();
  const JobFile job = LoadTinyJob();
  ASSERT_OK_AND_ASSIGN(emar::v1::Job a, client_->Submit(job, "pipeline-step-7"));
  ASSERT_OK_AND_ASSIGN(emar::v1::Job b, client_->Submit(job, "pipeline-step-7"));
  EXPECT_FALSE(a.job_id().empty());
  EXPECT_EQ(b.job_id(), a.job_id());
  EXPECT_EQ(b.request_id(), "pipeline-step-7");
  ASSERT_OK_AND_ASSIGN(std::vector<emar::v1::Job> jobs, client_->ListJobs(10));
  EXPECT_EQ(jobs.size(), 1u);
  ASSERT_OK_AND_ASSIGN(emar::v1::Job c, client_->Submit(job, "pipeline-step-8"));
  EXPECT_NE(c.job_id(), a.job_id());
  // An empty request id is a fresh one each time: two submits, two jobs.
  ASSERT_OK_AND_ASSIGN(emar::v1::Job d, client_->Submit(job, ""));
  ASSERT_OK_AND_ASSIGN(emar::v1::Job e, client_->Submit(job, ""));
  EXPECT_NE(d.job_id(), e.job_id());
  ASSERT_OK_AND_ASSIGN(jobs, client_->ListJobs(10));
  EXPECT_EQ(jobs.size(), 4u);
}

TEST_F(EvaluationClientTest, WatchFollowsProgressToSuccessAndReportHasHandCountedScores) {
  StartServer(/*rows_per_shard=*/2);
  ASSERT_OK_AND_ASSIGN(emar::v1::Job created, client_->Submit(LoadTinyJob(), ""));
  // 5 target rows: 3 shards a model; 4 benchmark rows: 2 shards a model; two models.
  EXPECT_EQ(created.progress().shards_total(), 10);
  EXPECT_EQ(created.state(), emar::v1::JOB_STATE_QUEUED);

  absl::Mutex mu;
  std::vector<emar::v1::Job> events;
  absl::Notification first_event;
  absl::StatusOr<emar::v1::Job> watched;
  std::thread watcher([&] {
    watched = client_->Watch(created.job_id(), [&](const emar::v1::Job& j) {
      absl::MutexLock lock(&mu);
      events.push_back(j);
      if (!first_event.HasBeenNotified()) first_event.Notify();
    });
  });
  // The worker starts only once the watch is in place, so it sees the job from the start. One
  // worker thread completes shards one at a time, each acknowledged after its progress event.
  ASSERT_TRUE(first_event.WaitForNotificationWithTimeout(absl::Seconds(10)));
  StartWorker(1);
  watcher.join();
  ASSERT_OK(watched.status());
  ASSERT_EQ(watched->state(), emar::v1::JOB_STATE_SUCCEEDED) << watched->error();
  EXPECT_EQ(watched->job_id(), created.job_id());
  EXPECT_EQ(watched->progress().shards_done(), 10);
  EXPECT_EQ(watched->progress().examples_scored(), 2 * 5 + 2 * 4);

  absl::MutexLock lock(&mu);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.front().state(), emar::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(events.front().progress().shards_done(), 0);
  EXPECT_EQ(events.back().state(), emar::v1::JOB_STATE_SUCCEEDED);
  std::set<int> done_seen;
  for (size_t i = 0; i < events.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("event ", i));
    EXPECT_EQ(events[i].job_id(), created.job_id());
    EXPECT_EQ(events[i].progress().shards_total(), 10);
    EXPECT_EQ(IsTerminalJobState(events[i].state()), i + 1 == events.size());
    if (i > 0) {
      EXPECT_GE(events[i].progress().shards_done(), events[i - 1].progress().shards_done());
    }
    done_seen.insert(events[i].progress().shards_done());
  }
  EXPECT_EQ(done_seen, (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));

  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, client_->GetReport(created.job_id()));
  EXPECT_EQ(report.job_id(), created.job_id());
  EXPECT_EQ(report.name(), "tiny");
  ASSERT_EQ(report.candidates_size(), 1);
  const emar::v1::CandidateReport& c = report.candidates(0);
  EXPECT_EQ(c.name(), "cand");
  EXPECT_EQ(c.target().n(), 5);
  EXPECT_EQ(c.benchmark().n(), 4);
  EXPECT_NEAR(c.target().base().value(), 2.0 / 5, 1e-12);
  EXPECT_NEAR(c.target().candidate().value(), 4.0 / 5, 1e-12);
  EXPECT_NEAR(c.target().delta().value(), 2.0 / 5, 1e-12);
  EXPECT_NEAR(c.benchmark().base().value(), 3.0 / 4, 1e-12);
  EXPECT_NEAR(c.benchmark().candidate().value(), 2.0 / 4, 1e-12);
  EXPECT_NEAR(c.benchmark().delta().value(), -1.0 / 4, 1e-12);
  EXPECT_NEAR(c.emar().value(), (0.8 - 0.4) / 0.4, 1e-12);
  // Provenance names every input with the digest and size of what was uploaded.
  std::map<std::string, std::pair<std::string, int64_t>> inputs;
  for (const emar::v1::InputFile& in : report.provenance().inputs()) {
    inputs[in.path_or_name()] = {in.sha256(), in.size_bytes()};
  }
  ASSERT_EQ(inputs.size(), TinyJobFiles().size());
  for (const auto& [name, text] : TinyJobFiles()) {
    ASSERT_TRUE(inputs.count(name)) << name;
    EXPECT_EQ(inputs[name].first, Sha256Hex(text)) << name;
    EXPECT_EQ(inputs[name].second, static_cast<int64_t>(text.size())) << name;
  }

  StopWorker();
  EXPECT_EQ(worker_->shards_completed(), 10);
}

TEST_F(EvaluationClientTest, ListJobsIsNewestFirstAndHonoursTheLimit) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(std::vector<emar::v1::Job> none, client_->ListJobs(10));
  EXPECT_TRUE(none.empty());
  JobFile job = LoadTinyJob();
  job.spec.set_name("older");
  ASSERT_OK_AND_ASSIGN(emar::v1::Job older, client_->Submit(job, ""));
  job.spec.set_name("newer");
  ASSERT_OK_AND_ASSIGN(emar::v1::Job newer, client_->Submit(job, ""));
  ASSERT_OK_AND_ASSIGN(std::vector<emar::v1::Job> jobs, client_->ListJobs(10));
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].job_id(), newer.job_id());
  EXPECT_EQ(jobs[0].name(), "newer");
  EXPECT_EQ(jobs[1].job_id(), older.job_id());
  EXPECT_EQ(jobs[1].name(), "older");
  EXPECT_EQ(jobs[1].state(), emar::v1::JOB_STATE_QUEUED);
  ASSERT_OK_AND_ASSIGN(std::vector<emar::v1::Job> one, client_->ListJobs(1));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].job_id(), newer.job_id());
}

TEST_F(EvaluationClientTest, CancelledQueuedJobEndsCancelledAndIsNeverScored) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(emar::v1::Job doomed, client_->Submit(LoadTinyJob(), ""));
  ASSERT_OK_AND_ASSIGN(emar::v1::Job cancelled, client_->CancelJob(doomed.job_id()));
  EXPECT_EQ(cancelled.job_id(), doomed.job_id());
  EXPECT_EQ(cancelled.state(), emar::v1::JOB_STATE_CANCELLED);
  ASSERT_OK_AND_ASSIGN(emar::v1::Job again, client_->CancelJob(doomed.job_id()));
  EXPECT_EQ(again.state(), emar::v1::JOB_STATE_CANCELLED);
  ASSERT_OK_AND_ASSIGN(emar::v1::Job watched, client_->Watch(doomed.job_id(), nullptr));
  EXPECT_EQ(watched.state(), emar::v1::JOB_STATE_CANCELLED);
  EXPECT_THAT(client_->GetReport(doomed.job_id()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("CANCELLED")));

  // A worker arriving now scores the next job and nothing of the cancelled one.
  StartWorker(2);
  ASSERT_OK_AND_ASSIGN(emar::v1::Job next, client_->Submit(LoadTinyJob(), ""));
  ASSERT_OK_AND_ASSIGN(emar::v1::Job done, client_->Watch(next.job_id(), nullptr));
  EXPECT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  StopWorker();
  EXPECT_EQ(worker_->shards_completed(), next.progress().shards_total());
  ASSERT_OK_AND_ASSIGN(emar::v1::Job still, client_->GetJob(doomed.job_id()));
  EXPECT_EQ(still.state(), emar::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(still.progress().shards_done(), 0);
}

TEST_F(EvaluationClientTest, CancelledRunningJobWithdrawsItsLeases) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(emar::v1::Job job, client_->Submit(LoadTinyJob(), ""));
  // Play a worker that has taken one shard and is scoring it.
  absl::Notification leased;
  std::optional<emar::v1::ShardTask> task;
  coordinator_->LeaseAsync("hand", absl::Seconds(5), [&](std::optional<emar::v1::ShardTask> t) {
    task = std::move(t);
    leased.Notify();
  });
  ASSERT_TRUE(leased.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(task);
  ASSERT_OK_AND_ASSIGN(emar::v1::Job running, client_->GetJob(job.job_id()));
  EXPECT_EQ(running.state(), emar::v1::JOB_STATE_RUNNING);

  ASSERT_OK_AND_ASSIGN(emar::v1::Job cancelled, client_->CancelJob(job.job_id()));
  EXPECT_EQ(cancelled.state(), emar::v1::JOB_STATE_CANCELLED);
  emar::v1::HeartbeatRequest hb;
  hb.set_lease_id(task->lease_id());
  // Cancellation reaches the worker through its heartbeat: keep_going=false, or a lease the
  // coordinator no longer knows (NOT_FOUND), both of which stop a WorkerLoop.
  absl::StatusOr<emar::v1::HeartbeatResponse> resp = coordinator_->Heartbeat(hb);
  if (resp.ok()) {
    EXPECT_FALSE(resp->keep_going());
  } else {
    EXPECT_THAT(resp, StatusIs(absl::StatusCode::kNotFound));
  }
  ASSERT_OK_AND_ASSIGN(emar::v1::Job watched, client_->Watch(job.job_id(), nullptr));
  EXPECT_EQ(watched.state(), emar::v1::JOB_STATE_CANCELLED);
}

TEST_F(EvaluationClientTest, UnknownJobIdIsNotFound) {
  StartServer();
  EXPECT_THAT(client_->GetJob("job-missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job-missing")));
  EXPECT_THAT(client_->GetReport("job-missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job-missing")));
  EXPECT_THAT(client_->CancelJob("job-missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job-missing")));
  EXPECT_THAT(client_->Watch("job-missing", nullptr),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("job-missing")));
}

TEST_F(EvaluationClientTest, UploadRefusesContentThatDoesNotMatchItsDigest) {
  StartServer();
  const std::string path = inputs_.path() + "/t.jsonl";
  const std::string right = Sha256Hex(TinyJobFiles().at("t.jsonl"));
  const std::string wrong = Sha256Hex("not the content of t.jsonl");
  ASSERT_NE(right, wrong);
  EXPECT_THAT(client_->Upload(path, wrong),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr(path), HasSubstr("digest mismatch"),
                                        HasSubstr(wrong), HasSubstr(right))));
  // Nothing was stored, under either name.
  EXPECT_THAT(coordinator_->FindMissingBlobs({wrong, right}),
              UnorderedElementsAreArray({wrong, right}));
  EXPECT_THAT(client_->Upload(path, "not-a-digest"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client_->Upload(inputs_.path() + "/no-such-file.jsonl", right),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no-such-file.jsonl")));
  ASSERT_OK(client_->Upload(path, right));
  EXPECT_TRUE(coordinator_->FindMissingBlobs({right}).empty());
  EXPECT_THAT(coordinator_->FindMissingBlobs({wrong}), UnorderedElementsAreArray({wrong}));
}

// Shutting down (SIGTERM) ends open watch streams at once with UNAVAILABLE,
// instead of holding the drain for the whole grace period.
TEST_F(EvaluationClientTest, ShutdownEndsWatchStreamsWithUnavailable) {
  StartServer();
  ASSERT_OK_AND_ASSIGN(emar::v1::Job job, client_->Submit(LoadTinyJob(), ""));  // no worker
  auto stub = emar::v1::EvaluationService::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  emar::v1::WatchJobRequest req;
  req.set_job_id(job.job_id());
  auto reader = stub->WatchJob(&ctx, req);
  emar::v1::JobEvent ev;
  ASSERT_TRUE(reader->Read(&ev));  // the snapshot: the stream is open
  EXPECT_EQ(ev.job().state(), emar::v1::JOB_STATE_QUEUED);
  std::thread stop([&] { server_->Shutdown(absl::Minutes(5)); });
  while (reader->Read(&ev)) {
  }
  const grpc::Status st = reader->Finish();
  stop.join();  // returns once the stream is gone, long before the 5-minute grace
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();
  EXPECT_THAT(st.error_message(), HasSubstr("shutting down"));
}

// A client waiting on a job re-attaches when the coordinator restarts, and gets the result.
TEST_F(EvaluationClientTest, WatchReattachesAcrossACoordinatorRestart) {
  StartServer();
  const int port = server_->port();
  ASSERT_OK_AND_ASSIGN(emar::v1::Job job, client_->Submit(LoadTinyJob(), ""));  // no worker
  EvaluationClient watcher(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  absl::Notification first_event;
  std::vector<emar::v1::JobState> states;
  absl::Mutex mu;
  absl::StatusOr<emar::v1::Job> done;
  std::thread t([&] {
    done = watcher.Watch(job.job_id(), [&](const emar::v1::Job& j) {
      absl::MutexLock lock(&mu);
      states.push_back(j.state());
      if (!first_event.HasBeenNotified()) first_event.Notify();
    });
  });
  ASSERT_TRUE(first_event.WaitForNotificationWithTimeout(absl::Seconds(10)));
  StopAll();                 // the coordinator goes away with the job queued
  StartServer(50000, port);  // the same data dir and address
  StartWorker(2);
  t.join();
  ASSERT_OK(done.status());
  EXPECT_EQ(done->state(), emar::v1::JOB_STATE_SUCCEEDED);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(states.front(), emar::v1::JOB_STATE_QUEUED);
  EXPECT_EQ(states.back(), emar::v1::JOB_STATE_SUCCEEDED);
}

// Two inputs with the same content are one blob: asked for and uploaded once.
TEST_F(EvaluationClientTest, IdenticalInputsAreUploadedOnce) {
  StartServer();
  Write(inputs_.path() + "/cand.b.jsonl", TinyJobFiles().at("base.b.jsonl"));
  rpcs_->Reset();
  ASSERT_OK(client_->Submit(LoadTinyJob(), "").status());
  EXPECT_EQ(rpcs_->Count("UploadBlob"), 5);  // 6 inputs, 5 distinct contents
}

// The progress of a submit to a coordinator that lacks every input never says there is nothing
// to send (phase "uploading" with a total of 0): hashing ends long before the first answer, and
// the files not yet asked about count as still to send. Against a coordinator that has them all,
// the last word is a total of 0.
TEST_F(EvaluationClientTest, UploadProgressNeverSaysNothingToSendWhileUploading) {
  StartServer();
  struct Seen {
    std::string phase;
    int64_t done, total;
  };
  absl::Mutex mu;
  std::vector<Seen> seen;
  auto record = [&](const std::string& phase, int64_t done, int64_t total) {
    absl::MutexLock lock(&mu);
    seen.push_back({phase, done, total});
  };
  const JobFile job = LoadTinyJob();
  int64_t all_bytes = 0;
  for (const auto& [name, text] : TinyJobFiles()) all_bytes += static_cast<int64_t>(text.size());
  ASSERT_OK(client_->Submit(job, "fresh", record).status());
  {
    absl::MutexLock lock(&mu);
    int uploading = 0;
    for (const Seen& s : seen) {
      if (s.phase != "uploading") continue;
      ++uploading;
      EXPECT_GT(s.total, 0) << "'nothing to send' while " << all_bytes << " bytes were missing";
      EXPECT_LE(s.done, s.total);
    }
    ASSERT_GT(uploading, 0);
    // The total is known before the first byte goes up and never grows; then CreateJob plans.
    ASSERT_GE(seen.size(), 2u);
    EXPECT_EQ(seen.back().phase, "planning");
    const Seen& last = seen[seen.size() - 2];
    EXPECT_EQ(last.phase, "uploading");
    EXPECT_EQ(last.done, all_bytes);
    EXPECT_EQ(last.total, all_bytes);
    for (const Seen& s : seen) {
      if (s.phase == "uploading") EXPECT_EQ(s.total, all_bytes);
    }
    seen.clear();
  }
  ASSERT_OK(client_->Submit(job, "again", record).status());
  absl::MutexLock lock(&mu);
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.back().phase, "planning");
  EXPECT_EQ(seen[seen.size() - 2].phase, "uploading");
  EXPECT_EQ(seen[seen.size() - 2].total, 0);
}

// A second coordinator on an address in use fails to start instead of sharing the port.
TEST_F(EvaluationClientTest, SecondServerOnTheSameAddressFailsToStart) {
  StartServer();
  TempDir other_data;
  CoordinatorOptions o;
  o.data_dir = other_data.path();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Coordinator> other, Coordinator::Create(o));
  EXPECT_THAT(CoordinatorServer::Start(other.get(), ServerOptions{address_}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot listen")));
  // The first one still serves.
  ASSERT_OK(client_->ListJobs(10).status());
}

}  // namespace
}  // namespace emar
