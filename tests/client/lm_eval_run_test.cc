// End to end: harness-shaped directories of a base and a candidate -> `emarctl job from-lm-eval`
// -> `emarctl run`: every (task, metric) of the report equals what the harness itself computed
// for the same samples (tests/client/harness_dirs.h). Generation tasks only: multiple-choice
// samples are read by the mc_acc metrics' own reader (eval/input/harness_samples.h), which the
// job's scoring path does not call yet.
#include <map>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/client/harness_dirs.h"
#include "tests/system/process.h"

namespace emar::testing {
namespace {

TEST(LmEvalRunTest, AnImportedSuiteScoresAsTheHarnessDid) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("lm-eval-run"));
  const std::vector<HarnessTask> tasks = {
      {"gsm8k", "generate_until"}, {"triviaqa", "generate_until"}, {"nq_open", "generate_until"}};
  ASSERT_OK_AND_ASSIGN(auto base, WriteHarnessDir(dir.Join("base"), tasks, 0, 60));
  ASSERT_OK_AND_ASSIGN(auto lora, WriteHarnessDir(dir.Join("lora/org__lora"), tasks, 1, 60));
  const std::string emarctl = absl::StrCat(EMAR_BIN_DIR, "/emarctl");
  CommandResult imported =
      RunCommand({emarctl, "job", "from-lm-eval", "--base", dir.Join("base"), "--candidate",
                  "lora=" + dir.Join("lora"), "--target", "gsm8k", "--benchmarks",
                  "triviaqa,nq_open", "--out", dir.Join("job.yaml")},
                 absl::Seconds(60));
  ASSERT_TRUE(imported.exit.Exited(0)) << imported.exit.ToString() << ": " << imported.err;
  CommandResult run =
      RunCommand({emarctl, "run", dir.Join("job.yaml"), "--format", "json", "--progress", "off"},
                 absl::Seconds(300));
  ASSERT_TRUE(run.exit.Exited(0)) << run.exit.ToString() << ": " << run.err;
  simdjson::dom::parser parser;
  simdjson::dom::element report = parser.parse(run.out);
  simdjson::dom::array datasets = report["candidates"].at(0)["datasets"];
  std::map<std::string, std::pair<double, double>> got;  // task/metric -> base, candidate
  for (simdjson::dom::element d : datasets) {
    const std::string key = absl::StrCat(std::string(std::string_view(d["dataset"])), "/",
                                         std::string(std::string_view(d["metric"])));
    got[key] = {double(d["base"]["value"]), double(d["candidate"]["value"])};
  }
  ASSERT_EQ(got.size(), base.size());
  for (const auto& [key, score] : base) {
    ASSERT_TRUE(got.count(key)) << key;
    EXPECT_DOUBLE_EQ(got[key].first, score) << key;
    EXPECT_DOUBLE_EQ(got[key].second, lora.at(key)) << key;
  }
  // The lora model is better everywhere here (two thirds right against half).
  EXPECT_GT(lora.at("triviaqa/exact_match"), base.at("triviaqa/exact_match"));
}

}  // namespace
}  // namespace emar::testing
