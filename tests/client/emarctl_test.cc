// emarctl's local commands, run as a process: `emar` (formula evaluation) and `score` (one pair
// of files), their JSON shapes, exit codes and one-line errors.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/system/process.h"
#include "tests/system/reference_scores.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kExampleDir = absl::StrCat(EMAR_SOURCE_DIR, "/examples/restaurant-sentiment");

CommandResult Emarctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {absl::StrCat(EMAR_BIN_DIR, "/emarctl")};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, absl::Seconds(60));
}

// Progress lines ("emarctl: [scoring] ...") may come before it; the error is one line.
void ExpectOneLineError(const CommandResult& r, int exit_code) {
  EXPECT_TRUE(r.exit.Exited(exit_code)) << r.exit.ToString() << ": " << r.err;
  EXPECT_EQ(r.out, "");
  const std::string err = WithoutProgressLines(r.err);
  ASSERT_FALSE(err.empty());
  EXPECT_THAT(err, StartsWith("emarctl: "));
  if (exit_code != 2) {  // usage errors may append the usage text
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line expected:\n" << r.err;
    EXPECT_TRUE(absl::EndsWith(r.err, err)) << "the error comes last:\n" << r.err;
  }
}

// The keys of a flat JSON object, in order.
std::vector<std::string> Keys(simdjson::dom::object obj) {
  std::vector<std::string> keys;
  for (auto field : obj) keys.emplace_back(field.key);
  return keys;
}

TEST(EmarCommandTest, RelativeGainAsJson) {
  CommandResult r = Emarctl({"emar", "--formula", "relative_gain", "--t0", ".7", "--t1", ".85",
                             "--b0", ".75", "--b1", ".75", "--format", "json"});
  ASSERT_TRUE(r.exit.Exited(0)) << r.exit.ToString() << ": " << r.err;
  EXPECT_EQ(r.err, "");
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  ASSERT_EQ(parser.parse(r.out).get_object().get(obj), simdjson::SUCCESS) << r.out;
  EXPECT_THAT(Keys(obj),
              ::testing::ElementsAre("formula", "expression", "value", "undefined_reason"));
  std::string_view formula, expression;
  ASSERT_EQ(obj["formula"].get_string().get(formula), simdjson::SUCCESS);
  EXPECT_EQ(formula, "relative_gain");
  ASSERT_EQ(obj["expression"].get_string().get(expression), simdjson::SUCCESS);
  EXPECT_EQ(expression, "(T1 - T0) / T0");
  double value = 0;
  ASSERT_EQ(obj["value"].get_double().get(value), simdjson::SUCCESS) << r.out;
  EXPECT_NEAR(value, (0.85 - 0.7) / 0.7, 1e-12);
  EXPECT_NEAR(value, 0.2142857142857143, 1e-12);
  EXPECT_TRUE(obj["undefined_reason"].is_null());
}

TEST(EmarCommandTest, ExpressionAndTextFormat) {
  CommandResult r = Emarctl({"emar", "--formula", "dT + min(0, dB)", "--t0", "0.5", "--t1", "0.6",
                             "--b0", "0.8", "--b1", "0.7", "--format", "json"});
  ASSERT_TRUE(r.exit.Exited(0)) << r.exit.ToString() << ": " << r.err;
  simdjson::dom::parser parser;
  double value = 0;
  ASSERT_EQ(parser.parse(r.out)["value"].get_double().get(value), simdjson::SUCCESS) << r.out;
  EXPECT_NEAR(value, (0.6 - 0.5) + (0.7 - 0.8), 1e-12);

  CommandResult text = Emarctl({"emar", "--t0", ".7", "--t1", ".85", "--b0", ".75", "--b1", ".75"});
  ASSERT_TRUE(text.exit.Exited(0)) << text.err;
  EXPECT_THAT(text.out, HasSubstr("relative_gain"));
  EXPECT_THAT(text.out, HasSubstr("0.214286"));
}

TEST(EmarCommandTest, UndefinedValueIsNullWithAReason) {
  CommandResult r = Emarctl({"emar", "--formula", "relative_gain", "--t0", "0", "--t1", ".85",
                             "--b0", ".75", "--b1", ".75", "--format", "json"});
  ASSERT_TRUE(r.exit.Exited(0)) << r.exit.ToString() << ": " << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  ASSERT_EQ(parser.parse(r.out).get_object().get(obj), simdjson::SUCCESS) << r.out;
  EXPECT_TRUE(obj["value"].is_null()) << r.out;
  std::string_view reason;
  ASSERT_EQ(obj["undefined_reason"].get_string().get(reason), simdjson::SUCCESS) << r.out;
  EXPECT_FALSE(reason.empty());
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("inf")));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("nan")));
}

TEST(EmarCommandTest, BadFormulaIsAOneLineError) {
  CommandResult r = Emarctl({"emar", "--formula", "(T1 - T0 / T0", "--t0", ".7", "--t1", ".85",
                             "--b0", ".75", "--b1", ".75", "--format", "json"});
  ExpectOneLineError(r, 1);
  CommandResult unknown = Emarctl({"emar", "--formula", "no_such_preset", "--t0", ".7", "--t1",
                                   ".85", "--b0", ".75", "--b1", ".75"});
  ExpectOneLineError(unknown, 1);
}

TEST(EmarCommandTest, MissingFlagsAreAUsageError) {
  ExpectOneLineError(
      Emarctl({"emar", "--formula", "relative_gain", "--t0", ".7", "--t1", ".85", "--b0", ".75"}),
      2);
  ExpectOneLineError(Emarctl({"emar"}), 2);
}

TEST(EmarctlTest, UsageErrors) {
  ExpectOneLineError(Emarctl({}), 2);
  ExpectOneLineError(Emarctl({"frobnicate"}), 2);
  ExpectOneLineError(
      Emarctl({"emar", "--t0", "1", "--t1", "1", "--b0", "1", "--b1", "1", "--format", "xml"}), 2);
  ExpectOneLineError(Emarctl({"status"}), 2);
  CommandResult help = Emarctl({"help"});
  EXPECT_TRUE(help.exit.Exited(0));
  EXPECT_THAT(help.out, HasSubstr("submit"));
}

// `emarctl job from-lm-eval` (client/lm_eval_import.h, tested in lm_eval_import_test.cc) is
// reached through emarctl: its usage errors exit 2, a missing directory is an error naming it.
// `run --input-root`: the embedded coordinator reads a file:// input under the root itself (the
// report equals the example's by upload), refuses it without the flag, and a root that does not
// exist is a usage error naming it.
TEST(EmarctlTest, RunReadsFileReferencesUnderInputRoot) {
  const std::string refs = absl::StrCat(kExampleDir, "/data/target.jsonl");
  auto bytes = ReadFileToString(refs);
  ASSERT_OK(bytes.status());
  const std::string dir = ::testing::TempDir() + "emarctl-input-root";
  std::filesystem::create_directories(dir);
  std::string job = *ReadFileToString(absl::StrCat(kExampleDir, "/job.yaml"));
  const std::string path = "references: data/target.jsonl,";
  ASSERT_NE(job.find(path), std::string::npos);
  job.replace(job.find(path), path.size(),
              absl::StrCat("references: {uri: \"file://", refs, "\", sha256: ", Sha256Hex(*bytes),
                           ", size: ", bytes->size(), "},"));
  for (const char* name :
       {"data/benchmark.jsonl", "out/base.target.jsonl", "out/base.benchmark.jsonl",
        "out/r16.target.jsonl", "out/r16.benchmark.jsonl"}) {
    absl::StrReplaceAll({{std::string(name), absl::StrCat(kExampleDir, "/", name)}}, &job);
  }
  const std::string job_path = dir + "/job.yaml";
  std::ofstream(job_path) << job;

  CommandResult by_upload = Emarctl(
      {"run", absl::StrCat(kExampleDir, "/job.yaml"), "--format", "json", "--progress", "off"});
  CommandResult by_ref = Emarctl({"run", job_path, "--input-root", kExampleDir + "/data",
                                  "--format", "json", "--progress", "off"});
  ASSERT_TRUE(by_ref.exit.Exited(0)) << by_ref.err;
  ASSERT_TRUE(by_upload.exit.Exited(0)) << by_upload.err;
  auto emar = [](const std::string& json) {
    const size_t at = json.find("\"emar\"");
    return at == std::string::npos ? std::string() : json.substr(at, 200);
  };
  EXPECT_FALSE(emar(by_ref.out).empty()) << by_ref.out;
  EXPECT_EQ(emar(by_ref.out), emar(by_upload.out));

  CommandResult refused = Emarctl({"run", job_path, "--progress", "off"});
  ExpectOneLineError(refused, 1);
  EXPECT_THAT(refused.err, HasSubstr("file:// inputs are off"));
  ExpectOneLineError(Emarctl({"run", job_path, "--input-root", dir + "/no-such-dir"}), 2);
  CommandResult no_ca = Emarctl({"run", job_path, "--url-ca-file", dir + "/no-such-ca.pem"});
  ExpectOneLineError(no_ca, 2);
  EXPECT_THAT(no_ca.err, HasSubstr("--url-ca-file"));
  std::filesystem::remove_all(dir);
}

TEST(EmarctlTest, JobFromLmEvalIsWired) {
  ExpectOneLineError(Emarctl({"job"}), 2);
  CommandResult help = Emarctl({"job", "--help"});
  EXPECT_TRUE(help.exit.Exited(0)) << help.exit.ToString();
  EXPECT_THAT(help.out, HasSubstr("emarctl job from-lm-eval --base DIR --candidate NAME=DIR"));
  ExpectOneLineError(Emarctl({"job", "from-lm-eval", "--base", "/nonexistent/base"}), 2);
  CommandResult missing =
      Emarctl({"job", "from-lm-eval", "--base", "/nonexistent/base", "--candidate", "c=/x",
               "--target", "gsm8k", "--benchmarks", "arc_easy"});
  ExpectOneLineError(missing, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/base: no such directory"));
}

TEST(EmarctlTest, DocumentedDashedFlagsAreAccepted) {
  // docs/emarctl.md documents `submit --request-id K`; Abseil flags only know request_id unless
  // emarctl translates the spelling. No server is needed to tell an unknown flag from a
  // connection error.
  CommandResult r = Emarctl(
      {"submit", kExampleDir + "/job.yaml", "--request-id", "k", "--server", "127.0.0.1:1"});
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("Unknown command line flag"))) << r.err;
  EXPECT_TRUE(r.exit.Exited(1)) << r.exit.ToString() << ": "
                                << r.err;  // unreachable server, not a usage error
}

struct ScoreCase {
  std::string metric, predictions, references;
};

class ScoreCommandTest : public ::testing::TestWithParam<ScoreCase> {};

TEST_P(ScoreCommandTest, MatchesAnIndependentComputation) {
  const ScoreCase& c = GetParam();
  const std::string preds = kExampleDir + "/" + c.predictions;
  const std::string refs = kExampleDir + "/" + c.references;
  ASSERT_OK_AND_ASSIGN(PredictionMap p, ReadPredictions(preds));
  ASSERT_OK_AND_ASSIGN(ReferenceMap r, ReadReferences(refs));
  const double want = c.metric == "accuracy" ? AccuracyOf(p, r) : ExactMatchOf(p, r);

  CommandResult out = Emarctl({"score", "--metric", c.metric, "--predictions", preds,
                               "--references", refs, "--format", "json"});
  ASSERT_TRUE(out.exit.Exited(0)) << out.exit.ToString() << ": " << out.err;
  EXPECT_EQ(out.err, "");
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  ASSERT_EQ(parser.parse(out.out).get_object().get(obj), simdjson::SUCCESS) << out.out;
  for (const char* key : {"metric", "value", "n", "direction", "signature"}) {
    EXPECT_THAT(Keys(obj), ::testing::Contains(key)) << out.out;
  }
  std::string_view metric, direction, signature;
  ASSERT_EQ(obj["metric"].get_string().get(metric), simdjson::SUCCESS);
  EXPECT_EQ(metric, c.metric);
  double value = -1;
  ASSERT_EQ(obj["value"].get_double().get(value), simdjson::SUCCESS) << out.out;
  EXPECT_NEAR(value, want, 1e-12);
  int64_t n = 0;
  ASSERT_EQ(obj["n"].get_int64().get(n), simdjson::SUCCESS) << out.out;
  EXPECT_EQ(n, static_cast<int64_t>(r.size()));
  ASSERT_EQ(obj["direction"].get_string().get(direction), simdjson::SUCCESS);
  EXPECT_EQ(direction, "higher_is_better");
  ASSERT_EQ(obj["signature"].get_string().get(signature), simdjson::SUCCESS);
  EXPECT_THAT(std::string(signature), StartsWith(c.metric));
}

INSTANTIATE_TEST_SUITE_P(
    Example, ScoreCommandTest,
    ::testing::Values(ScoreCase{"accuracy", "out/base.target.jsonl", "data/target.jsonl"},
                      ScoreCase{"accuracy", "out/r16.target.jsonl", "data/target.jsonl"},
                      ScoreCase{"exact_match", "out/base.benchmark.jsonl", "data/benchmark.jsonl"},
                      ScoreCase{"exact_match", "out/r16.benchmark.jsonl", "data/benchmark.jsonl"}),
    [](const ::testing::TestParamInfo<ScoreCase>& info) {
      return absl::StrCat(info.param.metric, "_", info.index);
    });

TEST(ScoreCommandErrorsTest, UnknownMetricNamesTheMetric) {
  CommandResult r = Emarctl({"score", "--metric", "accuracyy", "--predictions",
                             kExampleDir + "/out/base.target.jsonl", "--references",
                             kExampleDir + "/data/target.jsonl", "--format", "json"});
  ExpectOneLineError(r, 1);
  EXPECT_THAT(r.err, HasSubstr("accuracyy"));
}

TEST(ScoreCommandErrorsTest, MissingFlagsAreAUsageError) {
  ExpectOneLineError(Emarctl({"score", "--metric", "accuracy", "--predictions",
                              kExampleDir + "/out/base.target.jsonl"}),
                     2);
}

TEST(ScoreCommandErrorsTest, BadLineNamesFileAndLine) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("score"));
  const std::string preds = dir.Join("preds.jsonl");
  ASSERT_OK(WriteFile(preds, "{\"id\": \"r00000\", \"prediction\": \"negative\"}\n{\"id\": \n"));
  CommandResult r = Emarctl({"score", "--metric", "accuracy", "--predictions", preds,
                             "--references", kExampleDir + "/data/target.jsonl"});
  ExpectOneLineError(r, 1);
  EXPECT_THAT(r.err, HasSubstr(preds + ":2"));
}

}  // namespace
}  // namespace emar::testing

namespace emar::testing {
namespace {

// `run` with gates: the full report is printed either way; a failed gate exits 3, distinct from
// errors (1) and usage (2). Gates compare interval bounds: the example's EMAR interval is about
// [0.18, 0.25] around 0.214 and its benchmark delta's about [-0.014, 0.014].
TEST(RunGatesTest, PassingGatesExitZeroAndAreReported) {
  CommandResult r = Emarctl({"run", kExampleDir + "/job.yaml", "--format", "json", "--min-emar",
                             "0.1", "--max-benchmark-regression", "0.02"});
  ASSERT_TRUE(r.exit.Exited(0)) << r.exit.ToString() << ": " << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element report = parser.parse(r.out);
  EXPECT_TRUE(bool(report["gates_passed"]));
  simdjson::dom::array gates = report["candidates"].at(0)["gates"];
  ASSERT_EQ(gates.size(), 2u);
  EXPECT_EQ(std::string_view(gates.at(0)["gate"]), "min_emar");
  EXPECT_EQ(std::string_view(gates.at(0)["bound"]), "emar.ci_low");
  EXPECT_TRUE(bool(gates.at(0)["passed"]));
  EXPECT_EQ(std::string_view(gates.at(1)["bound"]), "benchmark.delta.ci_low");
}

TEST(RunGatesTest, FailingGateExitsThreeAfterPrintingTheReport) {
  // 0.21 lies above the interval's lower bound (~0.18) but below the point value (~0.214): a gate
  // on the point estimate would pass; the gate on the bound fails.
  CommandResult r = Emarctl({"run", kExampleDir + "/job.yaml", "--min-emar", "0.21"});
  EXPECT_TRUE(r.exit.Exited(3)) << r.exit.ToString() << ": " << r.err;
  EXPECT_THAT(r.out, HasSubstr("EMAR      0.2143"));
  EXPECT_THAT(r.out, HasSubstr("gate min_emar"));
  EXPECT_THAT(r.out, HasSubstr("FAIL"));
  EXPECT_THAT(r.err, HasSubstr("gate failed: lora-r16:min_emar"));
}

}  // namespace
}  // namespace emar::testing

namespace emar::testing {
namespace {

// A job that fails on its inputs while other shards are in flight: emarctl run must report the
// worker's error and exit 1, every time. (Shutting the in-process server down before its worker
// threads once crashed here with SIGSEGV, about one run in three.)
TEST(RunFailureTest, BadOutputsExitOneWithTheErrorEveryTime) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("run-bad"));
  ASSERT_OK(CopyTree(kExampleDir, dir.path()));
  ASSERT_OK(WriteFile(dir.Join("out/base.target.jsonl"),
                      "{\"id\": \"r00000\", \"prediction\": \"positive\"}\n{\"id\": \"r00001\", "
                      "\"prediction\": \n"));
  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE(i);
    CommandResult r = Emarctl({"run", dir.Join("job.yaml"), "--rows-per-shard", "300"});
    ExpectOneLineError(r, 1);
    EXPECT_THAT(r.err, HasSubstr("out/base.target.jsonl:2: malformed JSON"));
  }
}

}  // namespace
}  // namespace emar::testing

namespace emar::testing {
namespace {

TEST(ScoreLabelLimitTest, FreeTextUnderAClassificationMetricIsAClearError) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("labels"));
  std::string refs, preds;
  for (int i = 0; i < 2100; ++i) {  // every prediction a label of its own: free text, not classes
    absl::StrAppend(&refs, "{\"id\": ", i, ", \"reference\": \"yes\"}\n");
    absl::StrAppend(&preds, "{\"id\": ", i, ", \"prediction\": \"answer number ", i, "\"}\n");
  }
  ASSERT_OK(WriteFile(dir.Join("refs.jsonl"), refs));
  ASSERT_OK(WriteFile(dir.Join("preds.jsonl"), preds));
  CommandResult r = Emarctl({"score", "--metric", "macro_f1", "--predictions",
                             dir.Join("preds.jsonl"), "--references", dir.Join("refs.jsonl")});
  ExpectOneLineError(r, 1);
  EXPECT_THAT(r.err, HasSubstr("2101 distinct labels, more than the 2048"));
  EXPECT_THAT(r.err, HasSubstr("exact_match or token_f1"));
  CommandResult ok = Emarctl({"score", "--metric", "exact_match", "--predictions",
                              dir.Join("preds.jsonl"), "--references", dir.Join("refs.jsonl")});
  EXPECT_TRUE(ok.exit.Exited(0)) << ok.err;
}

}  // namespace
}  // namespace emar::testing
