// End to end: hostile requests against a real coordinator with two worker processes, each
// answered with its precise status code, while a good job runs; afterwards the coordinator still
// serves and the good job's report has the right numbers.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <limits>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "emar/v1/service.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/gzip.h"
#include "tests/system/generated_job.h"
#include "tests/system/local_cluster.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

// The peak resident memory of process `pid` (VmHWM), KiB; -1 if unreadable.
int64_t PeakRssKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    int64_t kb;
    if (absl::StartsWith(line, "VmHWM:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(absl::StripSuffix(line.substr(6), "kB")),
                         &kb)) {
      return kb;
    }
  }
  return -1;
}

// Resets the peak resident memory of process `pid` to its current size (Linux 4.0+).
bool ResetPeakRss(pid_t pid) {
  std::ofstream clear(absl::StrCat("/proc/", pid, "/clear_refs"));
  clear << "5";
  clear.close();
  return !clear.fail();
}

class HostileRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.workers = 2;
    // Small enough that an oversized message is cut long before it is whole.
    options.coordinator_flags = {"--max_grpc_memory_mb", "64"};
    auto cluster = LocalCluster::Start(options);
    ASSERT_OK(cluster.status());
    cluster_ = std::move(*cluster);
    auto channel = grpc::CreateChannel(cluster_->server(), grpc::InsecureChannelCredentials());
    client_ = emar::v1::EvaluationService::NewStub(channel);
    worker_ = emar::v1::WorkerService::NewStub(channel);
  }

  grpc::Status Upload(const std::string& data) {
    grpc::ClientContext ctx;
    emar::v1::UploadBlobResponse resp;
    auto w = client_->UploadBlob(&ctx, &resp);
    emar::v1::UploadBlobRequest msg;
    msg.set_sha256(Sha256Hex(data));
    msg.set_size_bytes(static_cast<int64_t>(data.size()));
    msg.set_chunk(data);
    w->Write(msg);
    w->WritesDone();
    return w->Finish();
  }

  // A valid request over `refs` and `outs` (uploaded here); the caller spoils one part of it.
  emar::v1::CreateJobRequest Request(const std::string& refs, const std::string& outs) {
    EXPECT_TRUE(Upload(refs).ok());
    EXPECT_TRUE(Upload(outs).ok());
    emar::v1::CreateJobRequest req;
    emar::v1::JobSpec& s = *req.mutable_spec();
    s.set_name("hostile");
    for (emar::v1::DatasetSpec* d : {s.mutable_target(), s.mutable_benchmark()}) {
      d->set_name("d");
      d->set_references("refs.jsonl");
      d->set_metric("accuracy");
    }
    s.mutable_base()->set_name("base");
    s.mutable_base()->set_target_outputs("out.jsonl");
    s.mutable_base()->set_benchmark_outputs("out.jsonl");
    *s.add_candidates() = s.base();
    s.mutable_candidates(0)->set_name("cand");
    (*req.mutable_input_digests())["refs.jsonl"] = Sha256Hex(refs);
    (*req.mutable_input_digests())["out.jsonl"] = Sha256Hex(outs);
    return req;
  }

  grpc::Status Create(const emar::v1::CreateJobRequest& req) {
    grpc::ClientContext ctx;
    emar::v1::Job job;
    return client_->CreateJob(&ctx, req, &job);
  }

  // Decompression bombs named as references: a 21-byte zstd frame declaring 2 GiB (the
  // coordinator once died of it: 134), then a gzip bomb.
  void ExpectDecompressionBombsRefused(const std::string& refs, const std::string& outs) {
    const std::string frame = absl::HexStringToBytes("28b52ffde0000000e00000000029000068656c6c6f");
    ASSERT_TRUE(Upload(frame).ok());
    emar::v1::CreateJobRequest req = Request(refs, outs);
    (*req.mutable_input_digests())["refs.jsonl"] = Sha256Hex(frame);
    grpc::Status st = Create(req);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr("refs.jsonl"));

    // A gzip bomb (64 MiB of zeros) as references: refused, and its expansion not kept.
    const std::string zeros(64 << 20, '\0');
    const std::string bomb = Gzip(zeros);
    ASSERT_TRUE(Upload(bomb).ok());
    req = Request(refs, outs);
    (*req.mutable_input_digests())["refs.jsonl"] = Sha256Hex(bomb);
    st = Create(req);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    {
      grpc::ClientContext ctx;
      emar::v1::FindMissingBlobsRequest find;
      find.add_sha256(Sha256Hex(zeros));
      emar::v1::FindMissingBlobsResponse missing;
      ASSERT_TRUE(client_->FindMissingBlobs(&ctx, find, &missing).ok());
      EXPECT_EQ(missing.missing_sha256_size(), 1)
          << "the refused expansion was kept; CreateJob said: " << st.error_message();
    }
  }

  // Complete with a lease nobody was given, and a forged input error.
  void ExpectForgedCompletesRefused(const std::string& good_id) {
    grpc::Status st;
    emar::v1::CompleteRequest complete;
    complete.set_job_id(good_id);
    complete.set_shard_id(0);
    complete.set_lease_id("lease-1-" + good_id + "-0");
    complete.mutable_result()->set_stats_width(1);
    {
      grpc::ClientContext ctx;
      emar::v1::CompleteResponse resp;
      st = worker_->Complete(&ctx, complete, &resp);
      EXPECT_TRUE(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                  st.error_code() == grpc::StatusCode::NOT_FOUND)
          << st.error_code() << ": " << st.error_message();
    }
    complete.mutable_failure()->set_message("made up");
    complete.mutable_failure()->set_input_error(true);
    {
      grpc::ClientContext ctx;
      emar::v1::CompleteResponse resp;
      st = worker_->Complete(&ctx, complete, &resp);
      EXPECT_FALSE(st.ok()) << "a forged failure was accepted";
    }
    complete.set_job_id("job-0000000000000000");
    {
      grpc::ClientContext ctx;
      emar::v1::CompleteResponse resp;
      st = worker_->Complete(&ctx, complete, &resp);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
    }
  }

  // A 10 MB job name (past the client API's request limit); a 3 KB one (past the name limit);
  // a 1 MB formula whose error must still reach the client.
  void ExpectOversizedSpecsRefused(const std::string& refs, const std::string& outs) {
    grpc::Status st;
    emar::v1::CreateJobRequest req;
    req = Request(refs, outs);
    req.mutable_spec()->set_name(std::string(10 << 20, 'n'));
    st = Create(req);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr("exceeds --max-request-kb (4096 KiB)"));
    req.mutable_spec()->set_name(std::string(3000, 'n'));
    st = Create(req);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr("limit 256"));
    req = Request(refs, outs);
    std::string formula = "T0";
    while (formula.size() < (1 << 20)) formula += "+T0";
    req.mutable_spec()->set_formula(formula);
    st = Create(req);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr("'formula'"));
    EXPECT_LT(st.error_message().size(), 1000u);
  }

  // ReadBlob with a range whose end overflows 64 bits.
  void ExpectOverflowingReadRefused(const std::string& refs) {
    grpc::Status st;
    {
      grpc::ClientContext ctx;
      emar::v1::ReadBlobRequest rb;
      rb.mutable_range()->set_sha256(Sha256Hex(refs));
      rb.mutable_range()->set_offset(10);
      rb.mutable_range()->set_length(std::numeric_limits<int64_t>::max() - 4);
      auto reader = worker_->ReadBlob(&ctx, rb);
      emar::v1::ReadBlobResponse chunk;
      while (reader->Read(&chunk)) {
      }
      st = reader->Finish();
      EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE) << st.error_message();
    }
  }

  // A 512 MiB message (gRPC's limit check comes only once a message is whole): the memory
  // quota cuts it while it arrives, so the coordinator never holds it.
  void ExpectHugeMessageCutWhileArriving(const std::string& refs, const std::string& outs) {
    grpc::Status st;
    emar::v1::CreateJobRequest req;
    {
      grpc::ChannelArguments args;
      args.SetMaxSendMessageSize(-1);
      auto big_channel =
          grpc::CreateCustomChannel(cluster_->server(), grpc::InsecureChannelCredentials(), args);
      auto big_client = emar::v1::EvaluationService::NewStub(big_channel);
      // The steps above peak higher (a 64 MiB expansion is checked): measure from here.
      ASSERT_TRUE(ResetPeakRss(cluster_->coordinator().pid()));
      req = Request(refs, outs);
      req.mutable_spec()->set_name(std::string(512 << 20, 'n'));
      grpc::ClientContext ctx;
      emar::v1::Job job;
      st = big_client->CreateJob(&ctx, req, &job);
      EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
      req.Clear();
      const int64_t peak_kb = PeakRssKb(cluster_->coordinator().pid());
      EXPECT_GT(peak_kb, 0);
      EXPECT_LT(peak_kb, 256 << 10) << "the coordinator held the oversized message";
    }
  }

  // The coordinator still serves, and the good job got its right report.
  void ExpectGoodJobsReport(const std::string& good_id, const GeneratedJob& good) {
    CommandResult watched = cluster_->Emarctl({"watch", good_id}, absl::Seconds(120));
    ASSERT_TRUE(watched.exit.Exited(0)) << watched.err << cluster_->Logs();
    watched = cluster_->Emarctl({"report", good_id, "--format", "json"});
    ASSERT_TRUE(watched.exit.Exited(0)) << watched.err << cluster_->Logs();
    ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(watched.out));
    ASSERT_EQ(report.candidates_size(), 1);
    EXPECT_NEAR(report.candidates(0).target().base().value(), good.t0, 1e-12);
    EXPECT_NEAR(report.candidates(0).target().candidate().value(), good.t1, 1e-12);
    EXPECT_NEAR(report.candidates(0).benchmark().base().value(), good.b0, 1e-12);
    EXPECT_NEAR(report.candidates(0).benchmark().candidate().value(), good.b1, 1e-12);
    CommandResult listed = cluster_->Emarctl({"list"});
    EXPECT_TRUE(listed.exit.Exited(0)) << listed.err;
    EXPECT_THAT(listed.out, HasSubstr(good_id));
  }

  std::unique_ptr<LocalCluster> cluster_;
  std::unique_ptr<emar::v1::EvaluationService::Stub> client_;
  std::unique_ptr<emar::v1::WorkerService::Stub> worker_;
};

TEST_F(HostileRequestsTest, EachIsRefusedPreciselyAndAGoodJobRunsMeanwhile) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("emar-hostile"));
  ASSERT_OK_AND_ASSIGN(GeneratedJob good, WriteGeneratedJob(dir.path(), 3000, 2000));
  CommandResult submitted = cluster_->Emarctl({"submit", good.job_file, "--format", "json"});
  ASSERT_TRUE(submitted.exit.Exited(0)) << submitted.err << cluster_->Logs();
  const size_t at = submitted.out.find("job-");
  ASSERT_NE(at, std::string::npos) << submitted.out;
  const std::string good_id = submitted.out.substr(at, 20);

  const std::string refs = "{\"id\": 1, \"reference\": \"a\"}\n{\"id\": 2, \"reference\": \"b\"}\n";
  const std::string outs =
      "{\"id\": 1, \"prediction\": \"a\"}\n{\"id\": 2, \"prediction\": \"a\"}\n";

  ASSERT_NO_FATAL_FAILURE(ExpectDecompressionBombsRefused(refs, outs));
  ASSERT_NO_FATAL_FAILURE(ExpectForgedCompletesRefused(good_id));
  ASSERT_NO_FATAL_FAILURE(ExpectOversizedSpecsRefused(refs, outs));
  ASSERT_NO_FATAL_FAILURE(ExpectOverflowingReadRefused(refs));
  ASSERT_NO_FATAL_FAILURE(ExpectHugeMessageCutWhileArriving(refs, outs));
  ASSERT_NO_FATAL_FAILURE(ExpectGoodJobsReport(good_id, good));
}

// An idle client connection is closed by the coordinator after --max-connection-idle-seconds
// (descriptors are not held forever); the client reconnects transparently on its next call.
TEST(IdleConnectionTest, AnIdleConnectionIsClosedAndTheClientReconnects) {
  ClusterOptions options;
  options.workers = 0;
  options.coordinator_flags = {"--max_connection_idle_seconds", "0.5"};
  ASSERT_OK_AND_ASSIGN(auto cluster, LocalCluster::Start(options));
  auto channel = grpc::CreateChannel(cluster->server(), grpc::InsecureChannelCredentials());
  auto client = emar::v1::EvaluationService::NewStub(channel);
  auto list = [&] {
    grpc::ClientContext ctx;
    emar::v1::ListJobsRequest req;
    emar::v1::ListJobsResponse resp;
    return client->ListJobs(&ctx, req, &resp);
  };
  ASSERT_TRUE(list().ok());
  ASSERT_EQ(channel->GetState(false), GRPC_CHANNEL_READY);
  // The server's GOAWAY moves the channel out of READY; wait for it (generously: shared machines).
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);
  grpc_connectivity_state state = GRPC_CHANNEL_READY;
  while (state == GRPC_CHANNEL_READY && channel->WaitForStateChange(state, deadline)) {
    state = channel->GetState(false);
  }
  EXPECT_NE(state, GRPC_CHANNEL_READY) << "the idle connection was never closed";
  EXPECT_TRUE(list().ok()) << "no reconnect after the idle close";
}

}  // namespace
}  // namespace emar::testing
