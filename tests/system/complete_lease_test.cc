// Complete with lease_next (one call a shard: the result, then the next lease) against a real
// coordinator process: a result is durable before its answer, so a coordinator killed (SIGKILL)
// right after acknowledging results with next leases loses none of them. After the restart no
// acknowledged shard is leased again, the shard leased by the last answer (never completed) is,
// and the job succeeds with exactly the expected scores.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "emar/v1/service.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/system/local_cluster.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

// Every line has this width, so a shard's byte range gives its rows.
constexpr int kLineWidth = 40;
constexpr int kRows = 6;

// Whether row `i` of outputs file `f` (base/cand x target/benchmark) is right.
bool Correct(int f, int i) { return (i + f) % 3 != 0; }

std::string Line(const char* key, int i, const char* value) {
  std::string s = absl::StrFormat("{\"id\":\"r%04d\",\"%s\":\"%s\"}", i, key, value);
  s.resize(kLineWidth - 1, ' ');
  return s + "\n";
}

// A job of 4 x kRows 1-row shards (accuracy); returns the job file, fills `file_of_sha`.
absl::StatusOr<std::string> WriteJob(const std::string& dir,
                                     std::map<std::string, int>* file_of_sha) {
  std::string refs;
  for (int i = 0; i < kRows; ++i) refs += Line("reference", i, "a");
  if (absl::Status s = WriteFile(dir + "/refs.jsonl", refs); !s.ok()) return s;
  const char* names[4] = {"base.t", "cand.t", "base.b", "cand.b"};
  for (int f = 0; f < 4; ++f) {
    std::string out;
    for (int i = 0; i < kRows; ++i) out += Line("prediction", i, Correct(f, i) ? "a" : "b");
    if (absl::Status s = WriteFile(absl::StrCat(dir, "/", names[f], ".jsonl"), out); !s.ok()) {
      return s;
    }
    (*file_of_sha)[Sha256Hex(out)] = f;
  }
  const std::string job = dir + "/job.yaml";
  if (absl::Status s = WriteFile(
          job,
          "name: complete-lease\n"
          "target: {name: t, references: refs.jsonl, metric: accuracy}\n"
          "benchmark: {name: b, references: refs.jsonl, metric: accuracy}\n"
          "base: {name: base, target_outputs: base.t.jsonl, benchmark_outputs: base.b.jsonl}\n"
          "candidates:\n"
          "  - {name: cand, target_outputs: cand.t.jsonl, benchmark_outputs: cand.b.jsonl}\n"
          "bootstrap: {resamples: 50}\n");
      !s.ok()) {
    return s;
  }
  return job;
}

// A synthetic worker: the results a real worker would send for these fixed-width files.
class TestWorker {
 public:
  TestWorker(const std::string& server, std::map<std::string, int> file_of_sha)
      : stub_(emar::v1::WorkerService::NewStub(
            grpc::CreateChannel(server, grpc::InsecureChannelCredentials()))),
        file_of_sha_(std::move(file_of_sha)) {}

  grpc::Status Lease(std::optional<emar::v1::ShardTask>* task) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    emar::v1::LeaseRequest req;
    req.set_worker_id("test-worker/0");
    req.set_wait_ms(2000);
    emar::v1::LeaseResponse resp;
    grpc::Status st = stub_->Lease(&ctx, req, &resp);
    task->reset();
    if (st.ok() && resp.has_task()) *task = resp.task();
    return st;
  }
  // Completes `task` with lease_next; `next` gets the shard the answer carried.
  grpc::Status CompleteAndLease(const emar::v1::ShardTask& task,
                                std::optional<emar::v1::ShardTask>* next) {
    emar::v1::CompleteRequest req;
    req.set_lease_id(task.lease_id());
    req.set_worker_id("test-worker");
    req.set_job_id(task.job_id());
    req.set_shard_id(task.shard_id());
    req.set_lease_next(true);
    emar::v1::ShardResult* r = req.mutable_result();
    r->set_stats_width(1);
    const int f = file_of_sha_.at(task.outputs().sha256());
    const int64_t len = task.outputs().length() >= 0 ? task.outputs().length()
                                                     : kRows * kLineWidth - task.outputs().offset();
    const int64_t first_row = task.first_line() - 1;
    for (int64_t k = 0; k < len / kLineWidth; ++k) {
      r->add_reference_row(static_cast<uint32_t>(first_row + k));
      r->add_line(static_cast<uint64_t>(task.first_line() + k));
      r->add_stats(Correct(f, static_cast<int>(first_row + k)) ? 1.0 : 0.0);
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    emar::v1::CompleteResponse resp;
    grpc::Status st = stub_->Complete(&ctx, req, &resp);
    next->reset();
    if (st.ok() && resp.has_next_task()) *next = resp.next_task();
    return st;
  }

 private:
  std::unique_ptr<emar::v1::WorkerService::Stub> stub_;
  const std::map<std::string, int> file_of_sha_;
};

double Expected(int f) {
  int right = 0;
  for (int i = 0; i < kRows; ++i) right += Correct(f, i);
  return static_cast<double>(right) / kRows;
}

TEST(CompleteLeaseTest, AcknowledgedResultsSurviveAKillRightAfterTheAnswer) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("complete-lease"));
  std::map<std::string, int> file_of_sha;
  ASSERT_OK_AND_ASSIGN(const std::string job_file, WriteJob(dir.path(), &file_of_sha));
  ClusterOptions options;
  options.workers = 0;  // the test is the worker
  options.rows_per_shard = 1;
  options.lease_ttl_seconds = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  CommandResult submitted = cluster->Emarctl({"submit", job_file}, absl::Seconds(60));
  ASSERT_TRUE(submitted.exit.Exited(0)) << submitted.err << cluster->Logs();
  const std::string job_id(absl::StripAsciiWhitespace(submitted.out));

  // Three results acknowledged, each answer carrying the next lease; then a crash at once.
  std::set<int> acknowledged;
  std::optional<emar::v1::ShardTask> task;
  {
    TestWorker worker(cluster->server(), file_of_sha);
    ASSERT_TRUE(worker.Lease(&task).ok());
    ASSERT_TRUE(task.has_value()) << cluster->Logs();
    for (int i = 0; i < 3; ++i) {
      std::optional<emar::v1::ShardTask> next;
      grpc::Status st = worker.CompleteAndLease(*task, &next);
      ASSERT_TRUE(st.ok()) << st.error_message();
      acknowledged.insert(task->shard_id());
      ASSERT_TRUE(next.has_value()) << "shards were pending: the answer must carry one";
      EXPECT_EQ(acknowledged.count(next->shard_id()), 0u);
      task = std::move(next);
    }
  }
  ASSERT_OK(cluster->coordinator().Signal(SIGKILL));
  ASSERT_OK_AND_ASSIGN(ExitStatus killed, cluster->coordinator().Wait(absl::Seconds(10)));
  EXPECT_EQ(killed.signal, SIGKILL);
  const int held = task->shard_id();  // leased by the last answer, never completed
  ASSERT_OK(cluster->RestartCoordinator(/*same_address=*/true));

  // Work the job to its end; no acknowledged shard may come back.
  TestWorker worker(cluster->server(), file_of_sha);
  std::set<int> leased_after;
  std::optional<emar::v1::ShardTask> next;
  for (int calls = 0; calls < 200 && leased_after.size() + acknowledged.size() < 4 * kRows;
       ++calls) {
    if (!next) {
      ASSERT_TRUE(worker.Lease(&next).ok()) << cluster->Logs();
      if (!next) continue;
    }
    EXPECT_EQ(acknowledged.count(next->shard_id()), 0u)
        << "shard " << next->shard_id() << " was acknowledged before the kill but leased again";
    leased_after.insert(next->shard_id());
    const emar::v1::ShardTask current = *next;
    ASSERT_TRUE(worker.CompleteAndLease(current, &next).ok());
  }
  EXPECT_EQ(leased_after.count(held), 1u) << "the unfinished shard was not leased again";
  EXPECT_EQ(leased_after.size() + acknowledged.size(), static_cast<size_t>(4 * kRows));

  CommandResult watched =
      cluster->Emarctl({"watch", job_id, "--format", "json"}, absl::Seconds(120));
  ASSERT_TRUE(watched.exit.Exited(0)) << watched.err << cluster->Logs();
  CommandResult report_out = cluster->Emarctl({"report", job_id, "--format", "json"});
  ASSERT_TRUE(report_out.exit.Exited(0)) << report_out.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(report_out.out));
  ASSERT_EQ(report.candidates_size(), 1);
  const auto& c = report.candidates(0);
  EXPECT_EQ(c.target().base().value(), Expected(0));
  EXPECT_EQ(c.target().candidate().value(), Expected(1));
  EXPECT_EQ(c.benchmark().base().value(), Expected(2));
  EXPECT_EQ(c.benchmark().candidate().value(), Expected(3));
}

}  // namespace
}  // namespace emar::testing
