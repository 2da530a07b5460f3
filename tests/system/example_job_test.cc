// The example job through a coordinator and two worker processes on loopback, checked against
// scores this test computes itself from the example's JSONL files, and against the embedded run.
#include <sys/stat.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/local_cluster.h"
#include "tests/system/reference_scores.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

const std::string kExampleDir = absl::StrCat(EMAR_SOURCE_DIR, "/examples/restaurant-sentiment");
const std::string kExampleJob = kExampleDir + "/job.yaml";

struct ExpectedScores {
  double t0, t1, b0, b1;
  size_t n_target, n_benchmark;
};

ExpectedScores ComputeExampleScores() {
  auto target = ReadReferences(kExampleDir + "/data/target.jsonl");
  auto bench = ReadReferences(kExampleDir + "/data/benchmark.jsonl");
  auto base_t = ReadPredictions(kExampleDir + "/out/base.target.jsonl");
  auto cand_t = ReadPredictions(kExampleDir + "/out/r16.target.jsonl");
  auto base_b = ReadPredictions(kExampleDir + "/out/base.benchmark.jsonl");
  auto cand_b = ReadPredictions(kExampleDir + "/out/r16.benchmark.jsonl");
  for (const absl::Status& s : {target.status(), bench.status(), base_t.status(), cand_t.status(),
                                base_b.status(), cand_b.status()}) {
    EXPECT_OK(s);
  }
  if (!target.ok() || !bench.ok() || !base_t.ok() || !cand_t.ok() || !base_b.ok() || !cand_b.ok())
    return {};
  return {AccuracyOf(*base_t, *target),
          AccuracyOf(*cand_t, *target),
          ExactMatchOf(*base_b, *bench),
          ExactMatchOf(*cand_b, *bench),
          target->size(),
          bench->size()};
}

void ExpectEstimate(const emar::v1::Estimate& e, double want, const std::string& what) {
  ASSERT_TRUE(e.has_value()) << what << " is undefined: " << e.undefined_reason();
  EXPECT_NEAR(e.value(), want, 1e-12) << what;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

class ExampleJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.workers = 2;  // two worker processes share the shards
    auto cluster = LocalCluster::Start(options);
    ASSERT_OK(cluster.status());
    cluster_ = std::move(*cluster);
  }

  // Submits the example and returns its job id (submit without --wait prints {"job_id": ...}).
  std::string SubmitExample() {
    CommandResult r = cluster_->Emarctl({"submit", kExampleJob, "--format", "json"});
    EXPECT_TRUE(r.exit.Exited(0)) << r.exit.ToString() << ": " << r.err;
    auto objects = SplitJsonObjects(r.out);
    EXPECT_OK(objects.status());
    if (!objects.ok() || objects->size() != 1) return "";
    // {"job_id": "job-..."} is not a proto message: pick the string out by hand.
    const std::string& o = (*objects)[0];
    const std::string key = "\"job_id\": \"";
    const size_t at = o.find(key);
    EXPECT_NE(at, std::string::npos) << o;
    if (at == std::string::npos) return "";
    const size_t end = o.find('"', at + key.size());
    EXPECT_EQ(o.substr(end + 1).find_first_not_of(" \n}"), std::string::npos)
        << "only job_id expected: " << o;
    return o.substr(at + key.size(), end - at - key.size());
  }

  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(ExampleJobTest, DistributedReportMatchesIndependentScoresAndEmbeddedRun) {
  const ExpectedScores want = ComputeExampleScores();
  // The example is built to land on the article's numbers; a failure here is a broken example.
  EXPECT_NEAR(want.t0, 0.70, 1e-12);
  EXPECT_NEAR(want.t1, 0.85, 1e-12);
  EXPECT_NEAR(want.b0, 0.75, 1e-12);
  EXPECT_NEAR(want.b1, 0.75, 1e-12);

  CommandResult submitted =
      cluster_->Emarctl({"submit", kExampleJob, "--wait", "--format", "json"}, absl::Seconds(90));
  ASSERT_TRUE(submitted.exit.Exited(0))
      << submitted.exit.ToString() << ": " << submitted.err << cluster_->Logs();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(submitted.out));

  EXPECT_THAT(report.job_id(), ::testing::StartsWith("job-"));
  EXPECT_EQ(report.name(), "restaurant-sentiment-lora");
  EXPECT_EQ(report.formula().name(), "relative_gain");
  EXPECT_EQ(report.formula().expression(), "(T1 - T0) / T0");
  ASSERT_EQ(report.candidates_size(), 1);
  const emar::v1::CandidateReport& c = report.candidates(0);
  EXPECT_EQ(c.name(), "lora-r16");
  EXPECT_EQ(c.rank(), 1);
  EXPECT_EQ(c.target().dataset(), "restaurant-reviews");
  EXPECT_EQ(c.target().metric(), "accuracy");
  EXPECT_EQ(c.target().direction(), "higher_is_better");
  EXPECT_EQ(c.target().n(), static_cast<int64_t>(want.n_target));
  EXPECT_EQ(c.benchmark().dataset(), "general-qa");
  EXPECT_EQ(c.benchmark().metric(), "exact_match");
  EXPECT_EQ(c.benchmark().n(), static_cast<int64_t>(want.n_benchmark));
  ExpectEstimate(c.target().base(), want.t0, "T0");
  ExpectEstimate(c.target().candidate(), want.t1, "T1");
  ExpectEstimate(c.target().delta(), want.t1 - want.t0, "dT");
  ExpectEstimate(c.benchmark().base(), want.b0, "B0");
  ExpectEstimate(c.benchmark().candidate(), want.b1, "B1");
  ExpectEstimate(c.benchmark().delta(), want.b1 - want.b0, "dB");
  ExpectEstimate(c.emar(), (want.t1 - want.t0) / want.t0, "EMAR");
  EXPECT_TRUE(c.emar().undefined_reason().empty());
  EXPECT_TRUE(report.gates_passed());

  // Provenance: every input once, as written in the job file, with its digest.
  ASSERT_EQ(report.provenance().inputs_size(), 6);
  for (const emar::v1::InputFile& in : report.provenance().inputs()) {
    EXPECT_FALSE(absl::StartsWith(in.path_or_name(), "/")) << in.path_or_name();
    ASSERT_OK_AND_ASSIGN(std::string digest, Sha256OfFile(kExampleDir + "/" + in.path_or_name()));
    EXPECT_EQ(in.sha256(), digest) << in.path_or_name();
  }
  EXPECT_EQ(report.provenance().inputs(0).path_or_name(), "data/target.jsonl");
  EXPECT_FALSE(report.provenance().version().empty());

  // The embedded default runs the same code in one process and must print the same report.
  ASSERT_OK_AND_ASSIGN(emar::v1::Report local, EmbeddedRunReport(kExampleJob, absl::Seconds(90)));
  EXPECT_NE(local.job_id(), report.job_id());
  EXPECT_EQ(DiffIgnoringJobId(report, local), "");
}

TEST_F(ExampleJobTest, ProvenanceRecordsInputSizes) {
  CommandResult r =
      cluster_->Emarctl({"submit", kExampleJob, "--wait", "--format", "json"}, absl::Seconds(90));
  ASSERT_TRUE(r.exit.Exited(0)) << r.exit.ToString() << ": " << r.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(r.out));
  for (const emar::v1::InputFile& in : report.provenance().inputs()) {
    const std::string local = kExampleDir + "/" + in.path_or_name();
    EXPECT_EQ(in.size_bytes(), FileSize(local)) << in.role() << " " << in.path_or_name();
  }
}

TEST_F(ExampleJobTest, SubmitStatusWatchListReport) {
  const std::string job_id = SubmitExample();
  ASSERT_THAT(job_id, ::testing::StartsWith("job-"));

  // watch: a snapshot first, then progress, ending with the terminal state.
  CommandResult watched =
      cluster_->Emarctl({"watch", job_id, "--format", "json"}, absl::Seconds(90));
  ASSERT_TRUE(watched.exit.Exited(0))
      << watched.exit.ToString() << ": " << watched.err << cluster_->Logs();
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> events, SplitJsonObjects(watched.out));
  ASSERT_FALSE(events.empty());
  int last_done = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(emar::v1::Job event, ParseJobJson(events[i]));
    EXPECT_EQ(event.job_id(), job_id);
    EXPECT_GE(event.progress().shards_done(), last_done)
        << "progress went backwards at event " << i;
    last_done = event.progress().shards_done();
    if (i + 1 == events.size()) {
      EXPECT_EQ(event.state(), emar::v1::JOB_STATE_SUCCEEDED);
      EXPECT_EQ(event.progress().shards_done(), event.progress().shards_total());
    } else {
      EXPECT_NE(event.state(), emar::v1::JOB_STATE_SUCCEEDED) << "events after the terminal state";
    }
  }

  CommandResult status = cluster_->Emarctl({"status", job_id, "--format", "json"});
  ASSERT_TRUE(status.exit.Exited(0)) << status.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Job job, ParseJobJson(status.out));
  EXPECT_EQ(job.job_id(), job_id);
  EXPECT_EQ(job.name(), "restaurant-sentiment-lora");
  EXPECT_EQ(job.state(), emar::v1::JOB_STATE_SUCCEEDED);
  EXPECT_GT(job.progress().shards_total(), 0);
  EXPECT_EQ(job.progress().shards_done(), job.progress().shards_total());
  EXPECT_TRUE(job.error().empty()) << job.error();

  CommandResult list = cluster_->Emarctl({"list", "--format", "json"});
  ASSERT_TRUE(list.exit.Exited(0)) << list.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::ListJobsResponse jobs, ParseJobListJson(list.out));
  bool listed = false;
  for (const emar::v1::Job& j : jobs.jobs()) {
    if (j.job_id() == job_id) {
      listed = true;
      EXPECT_EQ(j.state(), emar::v1::JOB_STATE_SUCCEEDED);
    }
  }
  EXPECT_TRUE(listed) << list.out;

  CommandResult report = cluster_->Emarctl({"report", job_id, "--format", "json"});
  ASSERT_TRUE(report.exit.Exited(0)) << report.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Report parsed, ParseReportJson(report.out));
  EXPECT_EQ(parsed.job_id(), job_id);
  ASSERT_EQ(parsed.candidates_size(), 1);
  EXPECT_TRUE(parsed.candidates(0).emar().has_value());

  // The same commands in text form succeed and print nothing on stderr.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"status", job_id}, {"list"}, {"report", job_id}, {"watch", job_id}}) {
    CommandResult text = cluster_->Emarctl(args);
    EXPECT_TRUE(text.exit.Exited(0)) << args[0] << ": " << text.exit.ToString() << ": " << text.err;
    EXPECT_THAT(text.out, HasSubstr(args[0] == "report" ? "EMAR" : job_id)) << args[0];
    EXPECT_EQ(text.err, "") << args[0];
  }
}

TEST_F(ExampleJobTest, ResubmittingWithTheSameRequestIdGivesTheSameJob) {
  CommandResult a =
      cluster_->Emarctl({"submit", kExampleJob, "--request_id", "same-key", "--format", "json"});
  CommandResult b =
      cluster_->Emarctl({"submit", kExampleJob, "--request_id", "same-key", "--format", "json"});
  ASSERT_TRUE(a.exit.Exited(0)) << a.err;
  ASSERT_TRUE(b.exit.Exited(0)) << b.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_THAT(a.out, HasSubstr("\"job_id\""));
}

}  // namespace
}  // namespace emar::testing
