// Upload limits behind real gRPC on 127.0.0.1: at most --max-uploads uploads
// at once, the next refused at once; an upload that sends nothing for --upload-idle-seconds is
// ended with DEADLINE_EXCEEDED and its partial file removed, and its slot serves a new upload.
#include <dirent.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/evaluation_client.h"
#include "client/job_file.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "emar/v1/service.grpc.pb.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"
#include "tests/server/temp_dir.h"
#include "worker/worker_loop.h"

namespace emar {
namespace {

using ::testing::HasSubstr;

void Write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Calls `done` until it is true or `timeout` passes; generous timeouts, no timing asserted.
bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

// An upload that sends its header and the first half of `data`, then nothing: what a stalled
// or malicious client holds open. Cancelled on destruction if the server has not ended it.
class StalledUpload {
 public:
  StalledUpload(emar::v1::EvaluationService::Stub& stub, const std::string& data) {
    ctx_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    writer_ = stub.UploadBlob(&ctx_, &resp_);
    emar::v1::UploadBlobRequest header;
    header.set_sha256(Sha256Hex(data));
    header.set_size_bytes(static_cast<int64_t>(data.size()));
    header.set_chunk(data.substr(0, data.size() / 2));
    writer_->Write(header);  // false when the server has refused the call already
  }
  ~StalledUpload() {
    if (finished_) return;
    ctx_.TryCancel();
    writer_->Finish();
  }
  // Waits for the server's status (the client deadline of 60 s bounds it).
  grpc::Status Finish() {
    finished_ = true;
    return writer_->Finish();
  }
  void Cancel() { ctx_.TryCancel(); }

 private:
  grpc::ClientContext ctx_;
  emar::v1::UploadBlobResponse resp_;
  std::unique_ptr<grpc::ClientWriter<emar::v1::UploadBlobRequest>> writer_;
  bool finished_ = false;
};

// A whole upload in `chunks` messages, `pause` apart.
grpc::Status UploadWhole(emar::v1::EvaluationService::Stub& stub, const std::string& data,
                         int chunks = 1, absl::Duration pause = absl::ZeroDuration()) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  emar::v1::UploadBlobResponse resp;
  auto writer = stub.UploadBlob(&ctx, &resp);
  const size_t step = (data.size() + chunks - 1) / chunks;
  for (int i = 0; i < chunks; ++i) {
    if (i > 0) absl::SleepFor(pause);
    emar::v1::UploadBlobRequest m;
    if (i == 0) {
      m.set_sha256(Sha256Hex(data));
      m.set_size_bytes(static_cast<int64_t>(data.size()));
    }
    m.set_chunk(data.substr(std::min(data.size(), i * step), step));
    if (!writer->Write(m)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

class UploadLimitsTest : public ::testing::Test {
 protected:
  void Start(UploadLimits limits, ClientApiLimits api = {}) {
    CoordinatorOptions o;
    o.data_dir = data_.path();
    o.tick = absl::Milliseconds(10);
    auto c = Coordinator::Create(o);
    ASSERT_OK(c.status());
    coordinator_ = std::move(*c);
    ServerOptions s;
    s.listen = "127.0.0.1:0";
    s.uploads = limits;
    s.client_api = api;
    auto server = CoordinatorServer::Start(coordinator_.get(), s);
    ASSERT_OK(server.status());
    server_ = std::move(*server);
    address_ = absl::StrCat("127.0.0.1:", server_->port());
    stub_ = NewStub();
  }
  void TearDown() override {
    if (worker_) worker_->Stop();
    if (worker_thread_.joinable()) worker_thread_.join();
    if (server_) server_->Shutdown(absl::Seconds(2));
    server_.reset();
    coordinator_.reset();
  }

  // A stub on a connection of its own.
  std::unique_ptr<emar::v1::EvaluationService::Stub> NewStub() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return emar::v1::EvaluationService::NewStub(
        grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args));
  }

  // Files in DIR/tmp: one per upload in progress.
  int TmpFiles() const {
    DIR* d = ::opendir((data_.path() + "/tmp").c_str());
    if (d == nullptr) return -1;
    int n = 0;
    while (const struct dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    return n;
  }

  bool Stored(const std::string& data) {
    grpc::ClientContext ctx;
    emar::v1::FindMissingBlobsRequest req;
    req.add_sha256(Sha256Hex(data));
    emar::v1::FindMissingBlobsResponse resp;
    return stub_->FindMissingBlobs(&ctx, req, &resp).ok() && resp.missing_sha256_size() == 0;
  }

  TempDir data_, inputs_;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<CoordinatorServer> server_;
  std::string address_;
  std::unique_ptr<emar::v1::EvaluationService::Stub> stub_;
  std::unique_ptr<WorkerLoop> worker_;
  std::thread worker_thread_;
};

std::string BlobData(int i) { return absl::StrCat("blob ", i, ": ", std::string(4000, 'x')); }

TEST_F(UploadLimitsTest, UploadsBeyondTheLimitAreRefusedAndAJobStillRuns) {
  Start({.max_concurrent = 4, .idle_timeout = absl::Minutes(10)});
  std::vector<std::unique_ptr<StalledUpload>> stalled;
  for (int i = 0; i < 4; ++i)
    stalled.push_back(std::make_unique<StalledUpload>(*stub_, BlobData(i)));
  ASSERT_TRUE(WaitFor([&] { return TmpFiles() == 4; })) << TmpFiles();  // all four admitted

  auto fifth_stub = NewStub();
  StalledUpload fifth(*fifth_stub, BlobData(4));
  const grpc::Status refused = fifth.Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_THAT(refused.error_message(), HasSubstr("at most 4"));
  EXPECT_THAT(refused.error_message(), HasSubstr("--max-uploads"));
  EXPECT_EQ(TmpFiles(), 4);

  // Everything but uploads is served meanwhile, on a new connection too.
  {
    auto other = NewStub();
    grpc::ClientContext ctx;
    emar::v1::FindMissingBlobsRequest req;
    req.add_sha256(Sha256Hex(BlobData(0)));
    emar::v1::FindMissingBlobsResponse resp;
    ASSERT_TRUE(other->FindMissingBlobs(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.missing_sha256_size(), 1);
  }

  // A client giving up frees its slot and its partial file.
  stalled[0]->Cancel();
  ASSERT_TRUE(WaitFor([&] { return TmpFiles() == 3; })) << TmpFiles();

  // A whole job through the one free slot: upload (one file at a time), create, score, report.
  Write(inputs_.path() + "/t.jsonl",
        "{\"id\": \"a\", \"reference\": \"pos\"}\n{\"id\": \"b\", \"reference\": \"neg\"}\n");
  Write(inputs_.path() + "/b.jsonl", "{\"id\": 1, \"references\": [\"Paris\"]}\n");
  Write(inputs_.path() + "/base.t.jsonl",
        "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"b\", \"prediction\": \"pos\"}\n");
  Write(inputs_.path() + "/cand.t.jsonl",
        "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"b\", \"prediction\": \"neg\"}\n");
  Write(inputs_.path() + "/base.b.jsonl", "{\"id\": 1, \"prediction\": \"Paris\"}\n");
  Write(inputs_.path() + "/cand.b.jsonl", "{\"id\": 1, \"prediction\": \"Paris\"}\n");
  const std::string yaml = R"(name: limits
target: {name: t, references: t.jsonl, metric: accuracy}
benchmark: {name: b, references: b.jsonl, metric: exact_match}
base: {name: base, target_outputs: base.t.jsonl, benchmark_outputs: base.b.jsonl}
candidates:
  - {name: cand, target_outputs: cand.t.jsonl, benchmark_outputs: cand.b.jsonl}
formula: relative_gain
)";
  ASSERT_OK_AND_ASSIGN(JobFile job,
                       ParseJobFile(yaml, inputs_.path() + "/job.yaml", inputs_.path()));
  auto channel = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  EvaluationClient client(channel);
  ASSERT_OK_AND_ASSIGN(emar::v1::Job created, client.Submit(job, ""));
  WorkerOptions w;
  w.threads = 1;
  w.lease_wait = absl::Seconds(1);
  worker_ = std::make_unique<WorkerLoop>(channel, w);
  worker_thread_ = std::thread([this] { worker_->Run(); });
  ASSERT_OK_AND_ASSIGN(emar::v1::Job done, client.Watch(created.job_id(), nullptr));
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, client.GetReport(created.job_id()));
  ASSERT_EQ(report.candidates_size(), 1);
  EXPECT_DOUBLE_EQ(report.candidates(0).target().base().value(), 0.5);
  EXPECT_DOUBLE_EQ(report.candidates(0).target().candidate().value(), 1.0);
  EXPECT_EQ(TmpFiles(), 3);  // the three stalled uploads are still there
}

TEST_F(UploadLimitsTest, OversizedChunksBlobsAndRequestsAreRefusedNamingTheirFlag) {
  Start({.max_concurrent = 4}, {.max_blob_bytes = 200 << 10, .max_request_bytes = 64 << 10});
  const std::string big(150 << 10, 'x');
  // One 150 KiB chunk: past --max-request-kb; the same data in four chunks is fine.
  grpc::Status s = UploadWhole(*stub_, big, 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("chunk of 153600 bytes exceeds --max-request-kb (64"));
  EXPECT_FALSE(Stored(big));
  s = UploadWhole(*stub_, big, 4);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(Stored(big));
  // A blob past --max-blob-mb, even in small chunks.
  const std::string bigger(300 << 10, 'y');
  s = UploadWhole(*stub_, bigger, 10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("exceeds --max-blob-mb"));
  EXPECT_EQ(TmpFiles(), 0);
  // A unary request past --max-request-kb: 2,000 digests are 130 KiB.
  grpc::ClientContext ctx;
  emar::v1::FindMissingBlobsRequest find;
  for (int i = 0; i < 2000; ++i) find.add_sha256(Sha256Hex(BlobData(i)));
  emar::v1::FindMissingBlobsResponse resp;
  s = stub_->FindMissingBlobs(&ctx, find, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("FindMissingBlobsRequest of "));
  EXPECT_THAT(s.error_message(), HasSubstr("exceeds --max-request-kb (64 KiB)"));
  // WatchJob too, though a stream.
  grpc::ClientContext wctx;
  emar::v1::WatchJobRequest watch;
  watch.set_job_id(std::string(100 << 10, 'j'));
  auto reader = stub_->WatchJob(&wctx, watch);
  emar::v1::JobEvent ev;
  EXPECT_FALSE(reader->Read(&ev));
  s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(Stored(big));  // and still serving
}

TEST_F(UploadLimitsTest, IdleUploadsEndWithDeadlineExceededAndTheirFilesGo) {
  Start({.max_concurrent = 4, .idle_timeout = absl::Milliseconds(300)});
  // Fill every slot with stalled uploads: each ends on its own, and nothing is left behind.
  std::vector<std::unique_ptr<StalledUpload>> stalled;
  const absl::Time started = absl::Now();
  for (int i = 0; i < 4; ++i)
    stalled.push_back(std::make_unique<StalledUpload>(*stub_, BlobData(i)));
  for (auto& upload : stalled) {
    const grpc::Status s = upload->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("--upload-idle-seconds"));
  }
  EXPECT_GE(absl::Now() - started, absl::Milliseconds(300));  // idle for the timeout, not less
  EXPECT_EQ(TmpFiles(), 0);                                   // removed before the status is sent
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(Stored(BlobData(i)));

  // The slots are free again: a whole upload is accepted and stored.
  const grpc::Status ok = UploadWhole(*stub_, BlobData(9));
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_TRUE(Stored(BlobData(9)));
  EXPECT_EQ(TmpFiles(), 0);
}

TEST_F(UploadLimitsTest, ASlowUploadThatKeepsSendingIsNotIdle) {
  Start({.max_concurrent = 4, .idle_timeout = absl::Seconds(1)});
  // Eight chunks 250 ms apart: two seconds in all, twice the idle timeout.
  const grpc::Status s = UploadWhole(*stub_, BlobData(1), 8, absl::Milliseconds(250));
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(Stored(BlobData(1)));
  EXPECT_EQ(TmpFiles(), 0);
}

}  // namespace
}  // namespace emar
