#include "server/job_planner.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "tests/common/gzip.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::Gzip;
using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// A job whose four output files and two references live in `blobs`.
emar::v1::CreateJobRequest Request(BlobStore& blobs, const std::string& target_metric, int rows) {
  std::string refs, outs;
  for (int i = 0; i < rows; ++i) {
    absl::StrAppend(&refs, "{\"id\":", i, ",\"reference\":\"a b\"}\n");
    absl::StrAppend(&outs, "{\"id\":", i, ",\"prediction\":\"a\"}\n");
  }
  emar::v1::CreateJobRequest req;
  emar::v1::JobSpec& s = *req.mutable_spec();
  s.set_name("plan");
  for (auto* d : {s.mutable_target(), s.mutable_benchmark()}) {
    d->set_name(d == s.mutable_target() ? "t" : "b");
    d->set_references("refs.jsonl");
    d->set_metric(d == s.mutable_target() ? target_metric : "accuracy");
  }
  s.mutable_base()->set_name("base");
  s.mutable_base()->set_target_outputs("out.jsonl");
  s.mutable_base()->set_benchmark_outputs("out.jsonl");
  *s.add_candidates() = s.base();
  s.mutable_candidates(0)->set_name("cand");
  (*req.mutable_input_digests())["refs.jsonl"] = *blobs.Put(refs);
  (*req.mutable_input_digests())["out.jsonl"] = *blobs.Put(outs);
  return req;
}

int ShardsOf(const JobPlan& plan, emar::v1::DatasetRole role, const std::string& model) {
  int n = 0;
  for (const StoredShard& s : plan.shards) n += s.task.role() == role && s.task.model() == model;
  return n;
}

TEST(JobPlannerTest, DefaultsAreFilledAndShardsCoverEveryRow) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanJob(Request(blobs, "accuracy", 10), blobs, 3));
  EXPECT_EQ(plan.request.spec().formula(), "relative_gain");
  EXPECT_EQ(plan.request.spec().bootstrap().resamples(), 1000);
  EXPECT_EQ(plan.request.spec().bootstrap().seed(), 12345u);
  EXPECT_EQ(plan.request.spec().target().fields().id_field(), "id");
  EXPECT_EQ(ShardsOf(plan, emar::v1::DATASET_ROLE_TARGET, "base"), 4);  // 3+3+3+1 rows
  int64_t rows = 0;
  for (const StoredShard& s : plan.shards) {
    EXPECT_EQ(s.task.reference_rows(), 10);
    rows += s.rows;
  }
  EXPECT_EQ(rows, 4 * 10);
}

TEST(JobPlannerTest, WideMetricsGetShardsWhoseResultFitsOneMessage) {
  // chrF rows are 18 statistics: at most 48 MiB / (9 * 18 + 16) = 282,758 rows a shard, whatever
  // --rows-per-shard asks; accuracy (1 column) on the same file stays in one shard.
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanJob(Request(blobs, "chrf", 300000), blobs, 10000000));
  EXPECT_EQ(ShardsOf(plan, emar::v1::DATASET_ROLE_TARGET, "base"), 2);
  EXPECT_EQ(ShardsOf(plan, emar::v1::DATASET_ROLE_BENCHMARK, "base"), 1);
}

TEST(JobPlannerTest, PresetWithLowerIsBetterMetricIsRefused) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  emar::v1::CreateJobRequest req = Request(blobs, "perplexity", 3);
  EXPECT_THAT(PlanJob(req, blobs, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("lower-is-better")));
  req.mutable_spec()->set_formula("(T0 - T1) / T0");  // an explicit expression is the user's call
  EXPECT_OK(PlanJob(req, blobs, 100).status());
}

TEST(JobPlannerTest, InputsMustBeUploaded) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  emar::v1::CreateJobRequest req = Request(blobs, "accuracy", 3);
  req.mutable_input_digests()->erase("out.jsonl");
  EXPECT_THAT(PlanJob(req, blobs, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("base.target_outputs")));
}

// Names are bounded (a 10 MB job name broke every client's ListJobs), and so
// is the statistics' work (100,000 resamples were accepted: ~50 min of a finalizer).
TEST(JobPlannerTest, LongNamesPathsAndExcessiveWorkAreRefusedNamingTheLimit) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  const emar::v1::CreateJobRequest ok = Request(blobs, "accuracy", 10);
  emar::v1::CreateJobRequest req = ok;
  req.mutable_spec()->set_name(std::string(10 << 20, 'n'));
  EXPECT_THAT(PlanJob(req, blobs, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'name'"), HasSubstr("10485760 bytes, limit 256"))));
  EXPECT_LT(PlanJob(req, blobs, 100).status().message().size(), 200u);
  req = ok;
  req.mutable_spec()->mutable_candidates(0)->set_name(std::string(257, 'c'));
  EXPECT_THAT(PlanJob(req, blobs, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'candidates[0].name'")));
  req = ok;
  req.mutable_spec()->mutable_target()->set_metric(std::string(1 << 20, 'm'));
  EXPECT_THAT(PlanJob(req, blobs, 100), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 HasSubstr("'target.metric': 1048576 bytes")));
  req = ok;
  req.mutable_spec()->mutable_base()->set_target_outputs(std::string(5000, 'p'));
  EXPECT_THAT(PlanJob(req, blobs, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'base.target_outputs'"), HasSubstr("limit 4096"))));
  // 10 + 10 examples x 2 models x 1,000 resamples = 40,000 units of work.
  req = ok;
  EXPECT_OK(PlanJob(req, blobs, 100, kDefaultMaxInputBytes, /*max_bootstrap_work=*/40000).status());
  EXPECT_THAT(PlanJob(req, blobs, 100, kDefaultMaxInputBytes, /*max_bootstrap_work=*/39999),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'bootstrap.resamples'"), HasSubstr("--max-bootstrap-work"),
                             HasSubstr("1000 resamples x 2 models x 20 examples"))));
  // Approximate randomization: each trial weighs 100 resamples.
  req.mutable_spec()->mutable_bootstrap()->set_test("approximate_randomization");
  req.mutable_spec()->mutable_bootstrap()->set_ar_trials(10);
  EXPECT_OK(PlanJob(req, blobs, 100, kDefaultMaxInputBytes, /*max_bootstrap_work=*/80000).status());
  EXPECT_THAT(PlanJob(req, blobs, 100, kDefaultMaxInputBytes, /*max_bootstrap_work=*/79999),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'bootstrap.ar_trials'"),
                             HasSubstr("1000 resamples + 100 x 10 trials"))));
}

// Files under DIR/blobs (published blobs) and DIR/tmp (partial writes).
std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().lexically_relative(dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Sanitizers reserve terabytes of shadow address space at start-up and map more as they go, so
// under one an address-space cap fails their own mmap ("AddressSanitizer failed to allocate"),
// not the code under test: the cap below applies to the plain build (scripts/test.sh) only.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#elif defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// A 21-byte zstd frame that declares 2 GiB of content, named as references.
// Planned in a child process limited to 1 GiB of address space: the declared size must not be
// allocated, and nothing may throw past the planner (the coordinator died with exit 134).
TEST(JobPlannerTest, ZstdFrameDeclaringTwoGibIsRefusedWithoutAllocatingIt) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  emar::v1::CreateJobRequest req = Request(blobs, "accuracy", 3);
  const std::string frame = absl::HexStringToBytes(
      "28b52ffde0000000e000000000290000"
      "68656c6c6f");
  ASSERT_EQ(frame.size(), 21u);
  (*req.mutable_input_digests())["refs.jsonl"] = *blobs.Put(frame);
  const std::vector<std::string> before = FilesUnder(dir.path());
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    struct rlimit limit = {uint64_t{1} << 30, uint64_t{1} << 30};
    if (!kSanitized) ::setrlimit(RLIMIT_AS, &limit);
    absl::StatusOr<JobPlan> plan = PlanJob(req, blobs, 100);
    const bool precise = absl::IsInvalidArgument(plan.status()) &&
                         absl::StrContains(plan.status().message(), "refs.jsonl") &&
                         absl::StrContains(plan.status().message(), "zstd");
    ::_exit(precise ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "the planner crashed (signal " << WTERMSIG(status) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "not an INVALID_ARGUMENT naming the file and zstd";
  // In this process too: the error, and no file left behind.
  EXPECT_THAT(PlanJob(req, blobs, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("refs.jsonl"), HasSubstr("zstd"))));
  EXPECT_EQ(FilesUnder(dir.path()), before);
}

// A gzip bomb (64 MiB of zeros in ~64 KiB) past the input limit is refused
// naming the file and the limit, and its expansion is not kept.
TEST(JobPlannerTest, GzipBombStopsAtTheInputLimitAndLeavesNothing) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  emar::v1::CreateJobRequest req = Request(blobs, "accuracy", 3);
  const std::string bomb = Gzip(std::string(64 << 20, '\0'));
  EXPECT_LT(bomb.size(), 100u << 10);
  (*req.mutable_input_digests())["out.jsonl"] = *blobs.Put(bomb);
  const std::vector<std::string> before = FilesUnder(dir.path());
  EXPECT_THAT(PlanJob(req, blobs, 100, /*max_input_bytes=*/16 << 20),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr("out.jsonl"), HasSubstr("16777216 bytes"),
                             HasSubstr("--max-input-mb"))));
  EXPECT_EQ(FilesUnder(dir.path()), before);
}

// A compressed input that is refused for its content leaves no decompressed copy; an accepted
// one publishes it, and the shards point at it.
TEST(JobPlannerTest, DecompressedCopyIsKeptOnlyForAnAcceptedJob) {
  TempDir dir;
  BlobStore blobs(dir.path());
  ASSERT_OK(blobs.Init());
  emar::v1::CreateJobRequest req = Request(blobs, "accuracy", 3);
  (*req.mutable_input_digests())["refs.jsonl"] =
      *blobs.Put(Gzip("{\"id\": 0, \"reference\": \"a b\"}\nnot json\n"));
  const std::vector<std::string> before = FilesUnder(dir.path());
  EXPECT_THAT(PlanJob(req, blobs, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("refs.jsonl:2")));
  EXPECT_EQ(FilesUnder(dir.path()), before);

  std::string refs;
  for (int i = 0; i < 3; ++i) absl::StrAppend(&refs, "{\"id\":", i, ",\"reference\":\"a b\"}\n");
  (*req.mutable_input_digests())["refs.jsonl"] = *blobs.Put(Gzip(refs));
  ASSERT_OK_AND_ASSIGN(JobPlan plan, PlanJob(req, blobs, 100));
  EXPECT_TRUE(blobs.Has(Sha256Hex(refs)));
  EXPECT_EQ(plan.shards[0].task.references().sha256(), Sha256Hex(refs));
  EXPECT_TRUE(FilesUnder(dir.path() + "/tmp").empty());
}

}  // namespace
}  // namespace emar
