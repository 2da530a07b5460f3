// Bad input end to end: emarctl against a running coordinator with two workers. Each case is a
// copy of the example with one file altered; emarctl must exit 1 with one line on stderr naming
// the file and line (or the job-spec field), and the coordinator must go on serving good jobs.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/local_cluster.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

const std::string kExampleDir = absl::StrCat(EMAR_SOURCE_DIR, "/examples/restaurant-sentiment");

// Line `n` (1-based) of `text` replaced by `line`, or deleted when `line` is null.
std::string EditLine(const std::string& text, size_t n, const char* line) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (n == 0 || n > lines.size()) return text;
  if (line == nullptr) {
    lines.erase(lines.begin() + static_cast<long>(n - 1));
  } else {
    lines[n - 1] = line;
  }
  return absl::StrJoin(lines, "\n");
}

std::string Line(const std::string& text, size_t n) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  return n >= 1 && n <= lines.size() ? lines[n - 1] : "";
}

struct BadInput {
  std::string name;
  std::string file;  // relative to the example directory
  std::function<std::string(const std::string&)> alter;
  std::vector<std::string> expected;  // substrings of the one-line error
};

std::vector<BadInput> BadInputs() {
  return {
      {"MalformedJsonLineInOutputs",
       "out/base.target.jsonl",
       [](const std::string& t) { return EditLine(t, 3, R"({"id": "r01701", "prediction": )"); },
       {"out/base.target.jsonl:3"}},
      {"MalformedJsonLineInReferences",
       "data/target.jsonl",
       [](const std::string& t) { return EditLine(t, 4, "this is not JSON"); },
       {"data/target.jsonl:4"}},
      {"MissingId",
       "out/base.target.jsonl",
       [](const std::string& t) { return EditLine(t, 5, R"({"prediction": "positive"})"); },
       {"out/base.target.jsonl:5", "'id'"}},
      {"DuplicateId",
       "out/base.target.jsonl",
       [](const std::string& t) { return EditLine(t, 7, Line(t, 2).c_str()); },
       {"out/base.target.jsonl:7", "duplicate id", "line 2"}},
      {"PredictionForUnknownId",
       "out/base.target.jsonl",
       [](const std::string& t) {
         return EditLine(t, 9, R"({"id": "r99999", "prediction": "positive"})");
       },
       {"out/base.target.jsonl:9", "unknown id", "r99999"}},
      {"MissingPrediction",
       "out/r16.benchmark.jsonl",
       [](const std::string& t) {
         return EditLine(t, 11, nullptr);
       },  // q00010, line 11 of the references
       {"out/r16.benchmark.jsonl", "missing prediction", "q00010", "data/benchmark.jsonl:11"}},
      {"EmptyOutputsFile",
       "out/r16.target.jsonl",
       [](const std::string&) { return std::string(); },
       {"out/r16.target.jsonl", "empty"}},
      {"EmptyReferencesFile",
       "data/benchmark.jsonl",
       [](const std::string&) { return std::string(); },
       {"data/benchmark.jsonl", "empty"}},
      {"UnknownMetric",
       "job.yaml",
       [](const std::string& t) {
         return absl::StrReplaceAll(t, {{"metric: exact_match", "metric: exact_matchh"}});
       },
       {"benchmark.metric", "exact_matchh"}},
      {"BadFormula",
       "job.yaml",
       [](const std::string& t) {
         return absl::StrReplaceAll(t, {{"formula: relative_gain", "formula: \"(T1 - T0 / T0\""}});
       },
       {"formula"}},
  };
}

// One coordinator and two workers for every case: each case also proves the previous ones left
// it healthy.
class InputErrorsTest : public ::testing::TestWithParam<BadInput> {
 protected:
  static void SetUpTestSuite() {
    ClusterOptions options;
    options.workers = 2;
    auto c = LocalCluster::Start(options);
    if (c.ok()) {
      cluster_ = std::move(*c).release();
    } else {
      setup_error_ = new std::string(c.status().ToString());
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    delete setup_error_;
    setup_error_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr) << (setup_error_ ? *setup_error_ : ""); }

  // Progress lines ("emarctl: [scoring] ...") may come first; the error is one line, the last.
  static void ExpectOneLineError(const CommandResult& r, const std::vector<std::string>& expected) {
    EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString() << ": " << r.err;
    EXPECT_EQ(r.out, "") << "nothing on stdout on error";
    const std::string err = WithoutProgressLines(r.err);
    ASSERT_FALSE(err.empty());
    EXPECT_EQ(err.back(), '\n');
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line expected:\n" << r.err;
    EXPECT_THAT(err, ::testing::StartsWith("emarctl: "));
    EXPECT_TRUE(absl::EndsWith(r.err, err)) << "the error comes last:\n" << r.err;
    for (const std::string& want : expected) EXPECT_THAT(err, HasSubstr(want));
  }

  static void ExpectStillServing() {
    CommandResult good = cluster_->Emarctl(
        {"submit", kExampleDir + "/job.yaml", "--wait", "--format", "json"}, absl::Seconds(90));
    EXPECT_TRUE(good.exit.Exited(0))
        << "the coordinator no longer serves a good job: " << good.exit.ToString() << ": "
        << good.err << cluster_->Logs();
    EXPECT_THAT(good.out, HasSubstr("\"lora-r16\""));
  }

  static LocalCluster* cluster_;
  static std::string* setup_error_;
};

LocalCluster* InputErrorsTest::cluster_ = nullptr;
std::string* InputErrorsTest::setup_error_ = nullptr;

TEST_P(InputErrorsTest, FailsWithOneLineNamingTheCulpritAndTheCoordinatorKeepsServing) {
  const BadInput& bad = GetParam();
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("bad-input"));
  const std::string job_dir = dir.Join("example");
  ASSERT_OK(CopyTree(kExampleDir, job_dir));
  ASSERT_OK_AND_ASSIGN(std::string original, ReadFile(job_dir + "/" + bad.file));
  const std::string altered = bad.alter(original);
  ASSERT_NE(altered, original) << "the alteration changed nothing";
  ASSERT_OK(WriteFile(job_dir + "/" + bad.file, altered));

  CommandResult r = cluster_->Emarctl(
      {"submit", job_dir + "/job.yaml", "--wait", "--format", "json"}, absl::Seconds(90));
  ExpectOneLineError(r, bad.expected);
  ExpectStillServing();
}

INSTANTIATE_TEST_SUITE_P(BadInputs, InputErrorsTest, ::testing::ValuesIn(BadInputs()),
                         [](const ::testing::TestParamInfo<BadInput>& info) {
                           return info.param.name;
                         });

class UnknownJobTest : public InputErrorsTest {};

TEST_F(UnknownJobTest, EveryJobCommandSaysNotFound) {
  for (const char* cmd : {"status", "report", "watch", "cancel"}) {
    CommandResult r = cluster_->Emarctl({cmd, "job-doesnotexist", "--format", "json"});
    SCOPED_TRACE(cmd);
    ExpectOneLineError(r, {"job-doesnotexist", "not found"});
  }
  ExpectStillServing();
}

}  // namespace
}  // namespace emar::testing
