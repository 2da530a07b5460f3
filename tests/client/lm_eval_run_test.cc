// End to end: harness-shaped directories of a base and a candidate -> `emarctl job from-lm-eval`
// -> `emarctl run` (embedded) and `emarctl submit --wait` (a coordinator and a worker): every
// (task, metric) of the report equals what the harness itself computed for the same samples
// (tests/client/harness_dirs.h), for generation tasks (exact_match on the filtered response) and
// multiple-choice tasks (mc_acc and mc_acc_norm from the samples' log-likelihoods), and the two
// runs give the same report.
#include <map>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/client/harness_dirs.h"
#include "tests/system/local_cluster.h"
#include "tests/system/process.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using Scores = std::map<std::string, std::pair<double, double>>;  // task/metric -> base, candidate

Scores PerTaskScores(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element report = parser.parse(json);
  simdjson::dom::array datasets = report["candidates"].at(0)["datasets"];
  Scores got;
  for (simdjson::dom::element d : datasets) {
    const std::string key = absl::StrCat(std::string(std::string_view(d["dataset"])), "/",
                                         std::string(std::string_view(d["metric"])));
    got[key] = {double(d["base"]["value"]), double(d["candidate"]["value"])};
  }
  return got;
}

// The tasks of a typical forgetting check: MMLU's lettered choices (length 1, so acc_norm is
// acc), endings of several lengths with non-ASCII letters as HellaSwag's can have (code points
// and UTF-8 bytes differ, and so would acc_norm by bytes), ARC's short answers.
std::vector<HarnessTask> Tasks() {
  return {{"gsm8k", "generate_until"},
          {"triviaqa", "generate_until"},
          {"mmlu", "multiple_choice", {"A", "B", "C", "D"}},
          {"hellaswag", "multiple_choice", {"ça va", "tea", "été", "coffee"}},
          {"arc_easy", "multiple_choice", {"sunlight", "soil", "water vapor"}}};
}

TEST(LmEvalRunTest, AnImportedSuiteScoresAsTheHarnessDid) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("lm-eval-run"));
  std::map<std::string, double> base_bytes;
  ASSERT_OK_AND_ASSIGN(
      auto base, WriteHarnessDir(dir.Join("base"), Tasks(), 0, 60, kHarnessDate, &base_bytes));
  ASSERT_OK_AND_ASSIGN(auto lora, WriteHarnessDir(dir.Join("lora/org__lora"), Tasks(), 1, 60));
  // The samples make the length rule matter: normalizing by bytes would score HellaSwag
  // differently, so only the harness's code-point length can pass.
  ASSERT_NE(base_bytes.at("hellaswag"), base.at("hellaswag/mc_acc_norm"));
  ASSERT_NE(base.at("hellaswag/mc_acc"), base.at("hellaswag/mc_acc_norm"));
  const std::string emarctl = absl::StrCat(EMAR_BIN_DIR, "/emarctl");
  CommandResult imported =
      RunCommand({emarctl, "job", "from-lm-eval", "--base", dir.Join("base"), "--candidate",
                  "lora=" + dir.Join("lora"), "--target", "gsm8k", "--benchmarks",
                  "triviaqa,mmlu,hellaswag,arc_easy", "--out", dir.Join("job.yaml")},
                 absl::Seconds(60));
  ASSERT_TRUE(imported.exit.Exited(0)) << imported.exit.ToString() << ": " << imported.err;
  CommandResult run =
      RunCommand({emarctl, "run", dir.Join("job.yaml"), "--format", "json", "--progress", "off"},
                 absl::Seconds(300));
  ASSERT_TRUE(run.exit.Exited(0) || run.exit.Exited(3)) << run.exit.ToString() << ": " << run.err;
  Scores got = PerTaskScores(run.out);
  ASSERT_EQ(got.size(), base.size());
  for (const auto& [key, score] : base) {
    ASSERT_TRUE(got.count(key)) << key;
    EXPECT_DOUBLE_EQ(got[key].first, score) << key;
    EXPECT_DOUBLE_EQ(got[key].second, lora.at(key)) << key;
  }
  // The lora model is better everywhere here (two thirds right against half).
  EXPECT_GT(lora.at("triviaqa/exact_match"), base.at("triviaqa/exact_match"));
  EXPECT_GT(lora.at("mmlu/mc_acc"), base.at("mmlu/mc_acc"));

  // Distributed: the same job through a coordinator and a worker, several shards per file.
  ClusterOptions options;
  options.workers = 1;
  options.rows_per_shard = 25;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  CommandResult submitted = cluster->Emarctl(
      {"submit", dir.Join("job.yaml"), "--wait", "--format", "json", "--progress", "off"},
      absl::Seconds(300));
  ASSERT_TRUE(submitted.exit.Exited(0) || submitted.exit.Exited(3))
      << submitted.exit.ToString() << ": " << submitted.err << cluster->Logs();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report embedded, ParseReportJson(run.out));
  ASSERT_OK_AND_ASSIGN(emar::v1::Report distributed, ParseReportJson(submitted.out));
  EXPECT_EQ(DiffIgnoringJobId(embedded, distributed), "");
}

}  // namespace
}  // namespace emar::testing
