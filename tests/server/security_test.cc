// Tokens, roles and principals on a real coordinator over loopback gRPC (client API and worker API
// on separate ports, bearer tokens): who may call what, what one principal can learn about
// another's jobs and uploads, what a worker may read, and the quotas, DeleteJob and retention. A
// good job runs to its right report through all of it.
#include <grpcpp/generic/generic_stub.h>

#include <atomic>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "client/evaluation_client.h"
#include "common/client_channel.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "server/auth.h"
#include "server/coordinator.h"
#include "server/coordinator_server.h"
#include "tests/server/secured_coordinator.h"
#include "tests/server/small_job.h"
#include "tests/server/temp_dir.h"
#include "worker/worker_loop.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

TEST(TokenTableTest, ParsesRolesAndPrincipalsAndFindsTokensByDigest) {
  ASSERT_OK_AND_ASSIGN(TokenTable t, TokenTable::Parse(TokensFile(), "tokens"));
  EXPECT_EQ(t.size(), 4u);
  ASSERT_TRUE(t.Find(kAlice).has_value());
  EXPECT_EQ(t.Find(kAlice)->name, "alice");
  EXPECT_EQ(t.Find(kAlice)->role, Role::kClient);
  EXPECT_EQ(t.Find(kWorker)->role, Role::kWorker);
  EXPECT_TRUE(t.Find(kRoot)->admin());
  EXPECT_FALSE(t.Find("guess").has_value());
  EXPECT_FALSE(t.Find(Sha256Hex(kAlice)).has_value());  // the digest is not the token
}

TEST(TokenTableTest, BadLinesAreNamedByFileAndLine) {
  const std::string digest = Sha256Hex("x");
  struct Case {
    std::string text, expected;
  } cases[] = {
      {absl::StrCat("\nclinet a ", digest), "tokens:2: unknown role 'clinet'"},
      {absl::StrCat("client a/b ", digest), "tokens:1: principal 'a/b'"},
      {"client a deadbeef", "tokens:1: the third field must be the token's sha256"},
      {"client a", "tokens:1: expected 'ROLE PRINCIPAL SHA256HEX', got 2"},
      {absl::StrCat("client a ", digest, "\nworker b ", digest), "tokens:2: the same token"},
      {"# nothing\n\n", "tokens: no tokens"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(TokenTable::Parse(c.text, "tokens"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.expected)))
        << c.text;
  }
}

class SecurityTest : public SecuredCoordinatorTest {};

grpc::Status ListWith(emar::v1::EvaluationService::Stub& stub) {
  grpc::ClientContext ctx;
  emar::v1::ListJobsRequest req;
  emar::v1::ListJobsResponse resp;
  return stub.ListJobs(&ctx, req, &resp);
}

grpc::Status LeaseWith(emar::v1::WorkerService::Stub& stub) {
  grpc::ClientContext ctx;
  emar::v1::LeaseRequest req;
  req.set_worker_id("probe");
  req.set_wait_ms(0);
  emar::v1::LeaseResponse resp;
  return stub.Lease(&ctx, req, &resp);
}

// The standard health service, called by name: kubelet probes carry no token.
grpc::Status HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  return done.get_future().get();
}

TEST_F(SecurityTest, EachCallerGetsItsStatusAndAGoodJobRunsMeanwhile) {
  Start();
  StartWorker(kWorker);
  SmallJob job(inputs_.path());
  auto alice = Client(kAlice);
  ASSERT_OK_AND_ASSIGN(emar::v1::Job created, alice->Submit(job.Load(), "alice-1"));
  EXPECT_EQ(created.owner(), "alice");
  const std::string id = created.job_id();

  // Who may call what.
  EXPECT_EQ(ListWith(*ClientStub("")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(ListWith(*ClientStub("")).error_message(), HasSubstr("no token"));
  EXPECT_EQ(ListWith(*ClientStub("wrong")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListWith(*ClientStub(kWorker)).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(LeaseWith(*WorkerStub(kAlice)).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(LeaseWith(*WorkerStub("")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // Each API only on its own port.
  EXPECT_EQ(ListWith(*ClientStub(kAlice, /*on_worker_port=*/true)).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_TRUE(HealthCheck(Channel(client_address_, "")).ok());
  EXPECT_TRUE(HealthCheck(Channel(worker_address_, "")).ok());

  // Bob cannot see, watch, cancel, delete or read the report of Alice's job: NOT_FOUND, worded
  // exactly as for a job that does not exist.
  auto bob = Client(kBob);
  const std::string absent = "job-0123456789abcdef";
  auto not_found_like_absent = [&](auto call) {
    absl::Status theirs = call(id), none = call(absent);
    EXPECT_THAT(theirs, StatusIs(absl::StatusCode::kNotFound, ::testing::_));
    std::string expected(none.message());
    expected.replace(expected.find(absent), absent.size(), id);
    EXPECT_EQ(theirs.message(), expected);
  };
  not_found_like_absent([&](const std::string& j) { return bob->GetJob(j).status(); });
  not_found_like_absent([&](const std::string& j) { return bob->CancelJob(j).status(); });
  not_found_like_absent([&](const std::string& j) { return bob->GetReport(j).status(); });
  not_found_like_absent([&](const std::string& j) { return bob->DeleteJob(j).status(); });
  not_found_like_absent([&](const std::string& j) { return bob->Watch(j, nullptr).status(); });
  ASSERT_OK_AND_ASSIGN(auto bobs_jobs, bob->ListJobs(50));
  EXPECT_TRUE(bobs_jobs.empty());
  // The same request id is Bob's own: it does not find Alice's job.
  ASSERT_OK_AND_ASSIGN(auto bob_job, bob->Submit(job.Load(), "alice-1"));
  EXPECT_NE(bob_job.job_id(), id);
  EXPECT_EQ(bob_job.owner(), "bob");

  // Alice's job finishes with the right report; the admin sees both jobs.
  ASSERT_OK_AND_ASSIGN(auto done, alice->Watch(id, nullptr));
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_OK_AND_ASSIGN(auto report, alice->GetReport(id));
  EXPECT_DOUBLE_EQ(report.candidates(0).target().base().value(), 0.5);
  EXPECT_DOUBLE_EQ(report.candidates(0).target().candidate().value(), 0.75);
  EXPECT_DOUBLE_EQ(report.candidates(0).emar().value(), 0.5);
  ASSERT_OK_AND_ASSIGN(auto all, Client(kRoot)->ListJobs(50));
  EXPECT_EQ(all.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto as_root, Client(kRoot)->GetJob(id));
  EXPECT_EQ(as_root.owner(), "alice");
}

TEST_F(SecurityTest, UploadsArePerPrincipal) {
  Start();
  const std::string secret = "{\"id\": 1, \"reference\": \"alice's data\"}\n";
  const std::string path = inputs_.path() + "/secret.jsonl";
  Write(path, secret);
  const std::string sha = Sha256Hex(secret);
  ASSERT_OK(Client(kAlice)->Upload(path, sha));

  auto missing_for = [&](const char* token) {
    grpc::ClientContext ctx;
    emar::v1::FindMissingBlobsRequest req;
    req.add_sha256(sha);
    emar::v1::FindMissingBlobsResponse resp;
    EXPECT_TRUE(ClientStub(token)->FindMissingBlobs(&ctx, req, &resp).ok());
    return resp.missing_sha256_size() == 1;
  };
  EXPECT_FALSE(missing_for(kAlice));
  EXPECT_TRUE(missing_for(kBob));  // Bob learns nothing of what Alice uploaded
  EXPECT_FALSE(missing_for(kRoot));

  // Bob naming Alice's digest in a job: the answer for a blob nobody uploaded.
  auto create = [&](const std::string& digest) {
    emar::v1::CreateJobRequest req;
    req.mutable_spec()->set_name("probe");
    (*req.mutable_input_digests())["refs.jsonl"] = digest;
    grpc::ClientContext ctx;
    emar::v1::Job resp;
    return ClientStub(kBob)->CreateJob(&ctx, req, &resp);
  };
  const grpc::Status theirs = create(sha), nobodys = create(Sha256Hex("nothing"));
  EXPECT_EQ(theirs.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(nobodys.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(theirs.error_message(), HasSubstr("was not uploaded"));
  EXPECT_THAT(nobodys.error_message(), HasSubstr("was not uploaded"));

  // Bob holding the same content uploads it (proving he has it) and may then use it.
  ASSERT_OK(Client(kBob)->Upload(path, sha));
  EXPECT_FALSE(missing_for(kBob));
}

TEST_F(SecurityTest, AWorkerReadsOnlyBlobsOfShardsItHoldsALeaseOn) {
  Start();
  SmallJob job(inputs_.path());
  ASSERT_OK_AND_ASSIGN(emar::v1::Job created, Client(kAlice)->Submit(job.Load(), ""));
  auto worker = WorkerStub(kWorker);
  emar::v1::ShardTask task;
  // The whole blob, but the leased shard's range of its outputs (one shard: the whole file).
  auto read = [&](const std::string& sha, const std::string& lease) {
    grpc::ClientContext ctx;
    emar::v1::ReadBlobRequest req;
    req.mutable_range()->set_sha256(sha);
    req.mutable_range()->set_length(-1);
    if (sha == task.outputs().sha256()) *req.mutable_range() = task.outputs();
    req.set_lease_id(lease);
    auto reader = worker->ReadBlob(&ctx, req);
    emar::v1::ReadBlobResponse chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish();
  };
  grpc::ClientContext ctx;
  emar::v1::LeaseRequest lreq;
  lreq.set_worker_id("w");
  lreq.set_wait_ms(5000);
  emar::v1::LeaseResponse leased;
  ASSERT_TRUE(worker->Lease(&ctx, lreq, &leased).ok());
  ASSERT_TRUE(leased.has_task());
  task = leased.task();
  EXPECT_TRUE(read(task.outputs().sha256(), task.lease_id()).ok());
  EXPECT_TRUE(read(task.references().sha256(), task.lease_id()).ok());
  // No lease, a made-up lease, or a blob the leased shard does not read.
  EXPECT_EQ(read(task.outputs().sha256(), "").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(read(task.outputs().sha256(), "lease-x").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const std::string other = Sha256Hex(ReadFileToString(job.dir + "/cand.b.jsonl").value());
  ASSERT_NE(other, task.outputs().sha256());
  const grpc::Status foreign = read(other, task.lease_id());
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(foreign.error_message(), HasSubstr("does not read blob"));
}

// A lease lets its worker read its shard's range of the outputs (and the whole references
// file), nothing else of the blob: not the whole file, not another shard's lines.
TEST_F(SecurityTest, AWorkerReadsOnlyItsLeasesRangeOfTheOutputs) {
  CoordinatorOptions o;
  o.rows_per_shard = 2;  // each four-line output file is two shards
  Start(o);
  SmallJob job(inputs_.path());
  ASSERT_OK(Client(kAlice)->Submit(job.Load(), "").status());
  auto worker = WorkerStub(kWorker);
  grpc::ClientContext ctx;
  emar::v1::LeaseRequest lreq;
  lreq.set_worker_id("w");
  lreq.set_wait_ms(5000);
  emar::v1::LeaseResponse leased;
  ASSERT_TRUE(worker->Lease(&ctx, lreq, &leased).ok());
  ASSERT_TRUE(leased.has_task());
  const emar::v1::ShardTask& task = leased.task();
  ASSERT_EQ(task.outputs().offset(), 0);
  ASSERT_GT(task.outputs().length(), 0);
  auto read = [&](int64_t offset, int64_t length, const std::string& sha) {
    grpc::ClientContext rctx;
    emar::v1::ReadBlobRequest req;
    req.mutable_range()->set_sha256(sha);
    req.mutable_range()->set_offset(offset);
    req.mutable_range()->set_length(length);
    req.set_lease_id(task.lease_id());
    auto reader = worker->ReadBlob(&rctx, req);
    emar::v1::ReadBlobResponse chunk;
    while (reader->Read(&chunk)) {
    }
    return reader->Finish();
  };
  const std::string& outs = task.outputs().sha256();
  const int64_t len = task.outputs().length();
  EXPECT_TRUE(read(0, len, outs).ok());
  EXPECT_TRUE(read(1, len - 1, outs).ok());
  EXPECT_TRUE(read(0, -1, task.references().sha256()).ok());
  for (const auto& [offset, length] :
       std::vector<std::pair<int64_t, int64_t>>{{0, -1}, {0, len + 1}, {len, 10}}) {
    const grpc::Status s = read(offset, length, outs);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << offset << " " << length;
    EXPECT_THAT(s.error_message(), HasSubstr(absl::StrCat("reads bytes 0..", len)));
  }
}

TEST_F(SecurityTest, StoreQuotaAndJobsPerPrincipal) {
  CoordinatorOptions o;
  o.max_store_bytes = 1000;
  o.max_unfinished_jobs_per_principal = 1;
  Start(o);
  SmallJob job(inputs_.path());  // about 900 bytes of inputs
  auto alice = Client(kAlice);
  ASSERT_OK(alice->Submit(job.Load(), "").status());  // no worker: it stays queued
  // A second unfinished job of Alice's is refused; Bob's and the admin's are not capped by hers.
  EXPECT_THAT(alice->Submit(job.Load(), "").status(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("principal 'alice' has 1 unfinished jobs")));
  ASSERT_OK(Client(kRoot)->Submit(job.Load(), "").status());
  // An upload past --max-store-gb names the limit and the use.
  const std::string big(600, 'x');
  Write(inputs_.path() + "/big", big);
  EXPECT_THAT(alice->Upload(inputs_.path() + "/big", Sha256Hex(big)),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("--max-store-gb"), HasSubstr("the store is full"))));
}

// Retention removes old finished jobs and uploads nobody reads, never a running job's inputs.
// The clock runs two days ahead of the files, past a one-day retention.
TEST_F(SecurityTest, DeleteJobAndRetentionKeepWhatARunningJobReads) {
  ShiftedClock& clock = shifted_clock_;
  clock_ = &clock;
  CoordinatorOptions o;
  o.retention = absl::Hours(24);
  o.retention_interval = absl::Hours(100);  // runs at start only; the test calls it
  Start(o);
  SmallJob job(inputs_.path());
  TempDir other_inputs;
  SmallJob other(other_inputs.path());
  Write(other.dir + "/cand.t.jsonl",  // a second job sharing all but one file with the first
        "{\"id\": \"a\", \"prediction\": \"pos\"}\n{\"id\": \"b\", \"prediction\": \"neg\"}\n"
        "{\"id\": \"c\", \"prediction\": \"pos\"}\n{\"id\": \"d\", \"prediction\": \"neg\"}\n");
  auto alice = Client(kAlice);
  StartWorker(kWorker);
  ASSERT_OK_AND_ASSIGN(auto first, alice->Submit(job.Load(), ""));
  ASSERT_OK_AND_ASSIGN(auto finished, alice->Watch(first.job_id(), nullptr));
  ASSERT_EQ(finished.state(), emar::v1::JOB_STATE_SUCCEEDED);
  worker_->Stop();
  worker_thread_.join();
  worker_.reset();
  ASSERT_OK_AND_ASSIGN(auto running, alice->Submit(other.Load(), ""));  // stays queued
  EXPECT_THAT(alice->DeleteJob(running.job_id()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cancel it first")));

  // An upload nobody reads, and two days later retention runs.
  const std::string stray = "stray upload";
  Write(inputs_.path() + "/stray", stray);
  ASSERT_OK(alice->Upload(inputs_.path() + "/stray", Sha256Hex(stray)));
  const std::string only_first = Sha256Hex(ReadFileToString(job.dir + "/cand.t.jsonl").value());
  const std::string shared = Sha256Hex(ReadFileToString(job.dir + "/t.jsonl").value());
  ASSERT_TRUE(coordinator_->blobs().Has(only_first));
  clock.shift = absl::Hours(48);
  ASSERT_OK_AND_ASSIGN(int deleted, coordinator_->RunRetention());
  EXPECT_EQ(deleted, 1);
  EXPECT_THAT(alice->GetJob(first.job_id()), StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_FALSE(coordinator_->blobs().Has(only_first));
  EXPECT_FALSE(coordinator_->blobs().Has(Sha256Hex(stray)));
  EXPECT_TRUE(coordinator_->blobs().Has(shared));  // the queued job reads it
  ASSERT_OK_AND_ASSIGN(auto still, alice->GetJob(running.job_id()));
  EXPECT_EQ(still.state(), emar::v1::JOB_STATE_QUEUED);

  // The queued job still runs to its report on its kept inputs; then DeleteJob frees them.
  clock.shift = absl::ZeroDuration();
  StartWorker(kWorker);
  ASSERT_OK_AND_ASSIGN(auto done, alice->Watch(running.job_id(), nullptr));
  ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
  ASSERT_OK_AND_ASSIGN(auto removed, alice->DeleteJob(running.job_id()));
  EXPECT_EQ(removed.blobs_removed(), 6);  // six distinct inputs, no other job left
  EXPECT_GT(removed.bytes_freed(), 0);
  EXPECT_FALSE(coordinator_->blobs().Has(shared));
  EXPECT_EQ(coordinator_->blobs().used_bytes(), 0);
}

}  // namespace
}  // namespace emar
