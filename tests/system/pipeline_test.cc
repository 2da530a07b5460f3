// "An emarctl that pipelines can trust", with real processes: --timeout with no
// worker, submit --wait riding out a coordinator crash and restart, a request id reused for another
// spec, labels through submit/list/series, JSON that always carries booleans and counts, and the
// score cache seen from emarctl (a second job scores nothing); and progress on stderr, plain in a
// log and live on a terminal.
#include <signal.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/system/generated_job.h"
#include "tests/system/local_cluster.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kExampleJob =
    absl::StrCat(EMAR_SOURCE_DIR, "/examples/restaurant-sentiment/job.yaml");

std::string JobIdOf(const std::string& json) {
  auto job = ParseJobJson(json);
  return job.ok() ? job->job_id() : "";
}

TEST(PipelineTest, SubmitWaitWithATimeoutAndNoWorkerExitsOneSayingNothingScoredIt) {
  ClusterOptions options;
  options.workers = 0;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  CommandResult r =
      cluster->Emarctl({"submit", kExampleJob, "--wait", "--timeout", "3s"}, absl::Seconds(60));
  ASSERT_FALSE(r.timed_out) << "emarctl waited past its --timeout";
  EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString() << ": " << r.err;
  EXPECT_THAT(r.err, HasSubstr("did not finish within the timeout"));
  EXPECT_THAT(r.err, HasSubstr("nothing scored it in time"));
  EXPECT_EQ(r.out, "");
  // watch too; and a bad duration is a usage error.
  CommandResult list = cluster->Emarctl({"list", "--format", "json"});
  ASSERT_OK_AND_ASSIGN(emar::v1::ListJobsResponse jobs, ParseJobListJson(list.out));
  ASSERT_EQ(jobs.jobs_size(), 1);
  CommandResult w = cluster->Emarctl({"watch", jobs.jobs(0).job_id(), "--timeout", "1s"});
  EXPECT_TRUE(w.exit.Exited(1)) << w.err;
  EXPECT_THAT(w.err, HasSubstr("did not finish within the timeout"));
  CommandResult bad = cluster->Emarctl({"watch", jobs.jobs(0).job_id(), "--timeout", "soon"});
  EXPECT_TRUE(bad.exit.Exited(2)) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("--timeout"));
}

TEST(PipelineTest, SubmitWaitRidesOutACoordinatorCrashAndRestart) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pipeline-restart"));
  ASSERT_OK_AND_ASSIGN(GeneratedJob gen, WriteGeneratedJob(dir.path(), 60000, 30000));
  ClusterOptions options;
  options.workers = 1;
  options.rows_per_shard = 2500;
  options.lease_ttl_seconds = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<Process> waiting,
      Process::Start({BinPath("emarctl"), "submit", gen.job_file, "--wait", "--format", "json",
                      "--server", cluster->server(), "--timeout", "5m"},
                     dir.path()));
  // Once the job is under way, crash the coordinator and start another on the same address.
  emar::v1::JobProgress progress;
  ASSERT_TRUE(PollUntil(
      [&] {
        CommandResult r = cluster->Emarctl({"list", "--format", "json"});
        auto jobs = ParseJobListJson(r.out);
        if (!jobs.ok() || jobs->jobs_size() != 1) return false;
        progress = jobs->jobs(0).progress();
        return progress.shards_done() >= 1;
      },
      absl::Seconds(60), absl::Milliseconds(5)))
      << cluster->Logs();
  ASSERT_LT(progress.shards_done(), progress.shards_total()) << "make the job bigger";
  ASSERT_OK(cluster->coordinator().Signal(SIGKILL));
  ASSERT_OK(cluster->coordinator().Wait(absl::Seconds(10)).status());
  ASSERT_OK(cluster->RestartCoordinator(/*same_address=*/true));
  ASSERT_OK_AND_ASSIGN(ExitStatus exit, waiting->Wait(absl::Seconds(240)));
  EXPECT_TRUE(exit.Exited(0)) << exit.ToString() << ": " << waiting->ReadStderr()
                              << cluster->Logs();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, ParseReportJson(waiting->ReadStdout()));
  ASSERT_OK_AND_ASSIGN(emar::v1::Report undisturbed, EmbeddedRunReport(gen.job_file));
  EXPECT_EQ(DiffIgnoringJobId(report, undisturbed), "");
}

TEST(PipelineTest, LabelsRequestIdsSeriesAndJsonThatAlwaysCarriesBooleansAndCounts) {
  ClusterOptions options;
  options.workers = 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  // Two "checkpoints" of one run; the second with a gate that fails.
  CommandResult a =
      cluster->Emarctl({"submit", kExampleJob, "--wait", "--format", "json", "--label",
                        "run=exp-42", "--label", "step=500", "--request-id", "exp-42/500"},
                       absl::Seconds(120));
  ASSERT_TRUE(a.exit.Exited(0)) << a.err;
  CommandResult b =
      cluster->Emarctl({"submit", kExampleJob, "--wait", "--format", "json", "--label",
                        "run=exp-42", "--label=step=1500", "--min-emar", "0.9"},
                       absl::Seconds(120));
  ASSERT_TRUE(b.exit.Exited(3)) << b.exit.ToString() << b.err;  // the gate failed
  // Booleans and counts are printed false and zero too.
  EXPECT_THAT(b.out, HasSubstr("\"gates_passed\": false"));
  EXPECT_THAT(b.out, HasSubstr("\"passed\": false"));
  ASSERT_OK_AND_ASSIGN(emar::v1::Report failed, ParseReportJson(b.out));

  // The second job scored nothing: every shard came from the score cache.
  CommandResult listed = cluster->Emarctl({"list", "--format", "json", "--label", "run=exp-42"});
  ASSERT_TRUE(listed.exit.Exited(0)) << listed.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::ListJobsResponse jobs, ParseJobListJson(listed.out));
  ASSERT_EQ(jobs.jobs_size(), 2);
  EXPECT_EQ(jobs.jobs(0).job_id(), failed.job_id());
  EXPECT_EQ(jobs.jobs(0).progress().shards_reused(), jobs.jobs(0).progress().shards_total());
  EXPECT_THAT(listed.out, HasSubstr("\"examples_scored\": \"0\""));
  EXPECT_EQ(jobs.jobs(1).progress().shards_reused(), 0);
  EXPECT_EQ(jobs.jobs(0).labels().at("step"), "1500");
  CommandResult none = cluster->Emarctl({"list", "--format", "json", "--label", "run=exp-7"});
  ASSERT_OK_AND_ASSIGN(jobs, ParseJobListJson(none.out));
  EXPECT_EQ(jobs.jobs_size(), 0);

  // The same request id for another spec: refused, naming the job it made.
  CommandResult again = cluster->Emarctl({"submit", kExampleJob, "--request-id", "exp-42/500",
                                          "--label", "run=exp-42", "--label", "step=600"});
  EXPECT_TRUE(again.exit.Exited(1)) << again.err;
  EXPECT_THAT(again.err, HasSubstr("already created job " + JobIdOf(a.out)));
  CommandResult same = cluster->Emarctl({"submit", kExampleJob, "--request-id", "exp-42/500",
                                         "--label", "run=exp-42", "--label", "step=500"});
  EXPECT_TRUE(same.exit.Exited(0)) << same.err;
  EXPECT_THAT(same.out, HasSubstr(JobIdOf(a.out)));

  // The series, in the JSON shape docs/pipeline.md documents.
  CommandResult series =
      cluster->Emarctl({"series", "--label", "run=exp-42", "--by", "step", "--format", "json"});
  ASSERT_TRUE(series.exit.Exited(0)) << series.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(series.out).get(doc), simdjson::SUCCESS) << series.out;
  EXPECT_EQ(std::string_view(doc["by"]), "step");
  simdjson::dom::array points = doc["points"];
  ASSERT_EQ(points.size(), 2u);
  std::vector<std::string> values;
  for (simdjson::dom::element p : points) {
    values.emplace_back(std::string_view(p["value"]));
    simdjson::dom::element c = p["candidates"].at(0);
    EXPECT_EQ(std::string_view(c["name"]), "lora-r16");
    for (const char* key : {"emar", "target_delta", "benchmark_delta"}) {
      double v;
      EXPECT_EQ(c[key]["value"].get(v), simdjson::SUCCESS) << key;
      EXPECT_EQ(c[key]["ci_low"].error(), simdjson::SUCCESS) << key;
    }
    bool passed;
    ASSERT_EQ(c["gates_passed"].get(passed), simdjson::SUCCESS) << "always present";
    EXPECT_EQ(passed, values.back() == "500");
  }
  EXPECT_EQ(values, (std::vector<std::string>{"500", "1500"}));  // numeric, not text, order
  CommandResult text = cluster->Emarctl({"series", "--label", "run=exp-42", "--by", "step"});
  ASSERT_TRUE(text.exit.Exited(0)) << text.err;
  EXPECT_THAT(text.out, HasSubstr("1500"));
  CommandResult usage = cluster->Emarctl({"series", "--by", "step"});
  EXPECT_TRUE(usage.exit.Exited(2)) << usage.err;
  CommandResult bad_label = cluster->Emarctl({"list", "--label", "novalue"});
  EXPECT_TRUE(bad_label.exit.Exited(2)) << bad_label.err;
  EXPECT_THAT(bad_label.err, HasSubstr("KEY=VALUE"));
}

// Live progress: in a pipeline's log (stderr not a terminal) plain lines at each phase
// change and every --progress-every, never on stdout; JSON on stdout stays a clean report.
TEST(ProgressTest, PlainProgressGoesToStderrAtPhaseChangesAndEveryFewSeconds) {
  CommandResult run = RunEmarctl({"run", kExampleJob, "--format", "json"}, absl::Seconds(120));
  ASSERT_TRUE(run.exit.Exited(0)) << run.err;
  ASSERT_OK(ParseReportJson(run.out).status()) << "stdout must be the report alone";
  // run reads its inputs into the embedded store (no hashing, no upload).
  for (const char* phase : {"[reading]", "[planning]", "[scoring]", "[bootstrap]", "[done]"}) {
    EXPECT_THAT(run.err, HasSubstr(absl::StrCat("emarctl: ", phase))) << run.err;
  }
  EXPECT_THAT(run.err, Not(HasSubstr("\r")));
  CommandResult quiet = RunEmarctl({"run", kExampleJob, "--progress", "off"}, absl::Seconds(120));
  ASSERT_TRUE(quiet.exit.Exited(0)) << quiet.err;
  EXPECT_EQ(quiet.err, "");

  // Nothing scores the job: a line every --progress-every while it waits.
  ClusterOptions options;
  options.workers = 0;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  CommandResult waited = cluster->Emarctl({"submit", kExampleJob, "--wait", "--timeout", "3s",
                                           "--progress-every", "0.5", "--format", "json"},
                                          absl::Seconds(60));
  EXPECT_TRUE(waited.exit.Exited(1)) << waited.err;
  EXPECT_EQ(waited.out, "");
  int queued_lines = 0;
  for (absl::string_view line : absl::StrSplit(waited.err, '\n')) {
    queued_lines += absl::StrContains(line, "emarctl: [queued] 0/4 shards");
  }
  EXPECT_GE(queued_lines, 3) << waited.err;  // ~6 in 3 s; at least 3 on a slow machine
  EXPECT_THAT(waited.err, HasSubstr("waiting for a worker"));
}

// On a terminal (a pseudo-terminal made by script(1)), one line redrawn in place with
// carriage returns, ended by a newline; stdout redirected to a file is the report alone.
TEST(ProgressTest, OnATerminalOneLiveLineIsRedrawnInPlace) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("pty"));
  const std::string report = dir.path() + "/report.json";
  CommandResult r = RunCommand(
      {"/usr/bin/script", "-qec",
       absl::StrCat(BinPath("emarctl"), " run ", kExampleJob, " --format json > ", report),
       "/dev/null"},
      absl::Seconds(120));
  ASSERT_TRUE(r.exit.Exited(0)) << r.exit.ToString() << r.err << r.out;
  // What the terminal received: the live line's redraws.
  EXPECT_THAT(r.out, HasSubstr("\r[reading]"));
  EXPECT_THAT(r.out, HasSubstr("\r[done] 4/4 shards  7,000 examples"));
  EXPECT_THAT(r.out, Not(HasSubstr("emarctl: [")));  // not the plain form
  EXPECT_THAT(r.out, Not(HasSubstr("\"job_id\"")));  // the report went to the file
  ASSERT_OK_AND_ASSIGN(std::string json, ReadFile(report));
  ASSERT_OK_AND_ASSIGN(emar::v1::Report parsed, ParseReportJson(json));
  EXPECT_EQ(parsed.name(), "restaurant-sentiment-lora");
}

}  // namespace
}  // namespace emar::testing
