// Several samples per item end to end with real processes: a judge-scored target (k = 4 samples
// per item for the base, 5 for the candidate, `score` on a grade field and `pass_at_k` on a pass
// field) and a small 0/1 benchmark give the same report embedded (`emarctl run`) and distributed
// (coordinator + two workers, shards that split items' samples). The numbers are checked
// against tests/system/samples_reference.py, which computes them with numpy and math.comb from
// the data it wrote: item means and pass@k exactly, the cluster bootstrap interval of the delta
// within Monte-Carlo tolerance (and far from the interval of a bootstrap that loses the pairing
// by drawing single samples), Wilson and Newcombe intervals of the small benchmark by their
// closed forms. A score dataset without references takes its ids from the base outputs. A ragged
// sample count fails the job naming the id.
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/local_cluster.h"
#include "tests/system/report_json.h"

namespace emar::testing {
namespace {

using ::testing::HasSubstr;

// Runs the reference script: writes the job into `dir`, returns its "key value" expectations.
absl::StatusOr<std::map<std::string, double>> Generate(const std::string& dir) {
  CommandResult r =
      RunCommand({"/usr/bin/python3",
                  std::string(EMAR_SOURCE_DIR) + "/tests/system/samples_reference.py", dir},
                 absl::Seconds(120));
  if (!r.exit.Exited(0)) {
    return absl::InternalError(absl::StrCat("samples_reference.py: ", r.exit.ToString(), r.err));
  }
  std::map<std::string, double> out;
  for (absl::string_view line : absl::StrSplit(r.out, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, ' ');
    double v = 0;
    if (!absl::SimpleAtod(kv.second, &v)) return absl::InternalError(std::string(line));
    out[std::string(kv.first)] = v;
  }
  return out;
}

const emar::v1::DatasetComparison* Entry(const emar::v1::CandidateReport& c,
                                         const std::string& dataset, const std::string& metric) {
  for (const auto& d : c.datasets()) {
    if (d.dataset() == dataset && d.metric() == metric) return &d;
  }
  return nullptr;
}

TEST(SamplesTest, JudgeScoresWithSamplesMatchNumpyEmbeddedAndDistributed) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("samples"));
  ASSERT_OK_AND_ASSIGN(auto want, Generate(dir.path()));
  const std::string job = dir.path() + "/job.yaml";
  CommandResult run = RunEmarctl({"run", job, "--format", "json"}, absl::Seconds(180));
  // The 60-item benchmark cannot pass a 0.02 regression gate: exit 3, report printed.
  ASSERT_TRUE(run.exit.Exited(0) || run.exit.Exited(3)) << run.exit.ToString() << run.err;
  ASSERT_OK_AND_ASSIGN(emar::v1::Report embedded, ParseReportJson(run.out));

  ClusterOptions options;
  options.workers = 2;
  options.rows_per_shard = 97;  // an item's samples land in several shards
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<LocalCluster> cluster, LocalCluster::Start(options));
  CommandResult r =
      cluster->Emarctl({"submit", job, "--wait", "--format", "json"}, absl::Seconds(180));
  ASSERT_TRUE(r.exit.Exited(0) || r.exit.Exited(3))
      << r.exit.ToString() << r.err << cluster->Logs();
  ASSERT_OK_AND_ASSIGN(emar::v1::Report distributed, ParseReportJson(r.out));
  EXPECT_EQ(DiffIgnoringJobId(embedded, distributed), "");

  ASSERT_EQ(embedded.candidates_size(), 1);
  const emar::v1::CandidateReport& c = embedded.candidates(0);
  const emar::v1::DatasetComparison* judge = Entry(c, "judge", "score");
  const emar::v1::DatasetComparison* pass = Entry(c, "judge", "pass_at_k");
  const emar::v1::DatasetComparison* bench = Entry(c, "bench", "accuracy");
  ASSERT_NE(judge, nullptr);
  ASSERT_NE(pass, nullptr);
  ASSERT_NE(bench, nullptr);

  EXPECT_EQ(judge->n(), want["items"]);
  EXPECT_EQ(judge->base_samples_per_item(), want["k_base"]);
  EXPECT_EQ(judge->candidate_samples_per_item(), want["k_candidate"]);
  EXPECT_NEAR(judge->base().value(), want["judge_base"], 1e-12);
  EXPECT_NEAR(judge->candidate().value(), want["judge_candidate"], 1e-12);
  EXPECT_NEAR(pass->base().value(), want["pass_base"], 1e-12);
  EXPECT_NEAR(pass->candidate().value(), want["pass_candidate"], 1e-12);
  EXPECT_EQ(judge->delta().test(), "paired_bootstrap");
  // The same grades without a references file: the same scores, ids from the base outputs.
  const emar::v1::DatasetComparison* noref = Entry(c, "judge-noref", "score");
  ASSERT_NE(noref, nullptr);
  EXPECT_EQ(noref->n(), want["items"]);
  EXPECT_NEAR(noref->base().value(), judge->base().value(), 1e-12);
  EXPECT_NEAR(noref->candidate().value(), judge->candidate().value(), 1e-12);

  // The cluster interval: within a quarter of the delta's standard error of numpy's (Monte-Carlo
  // error of both is below a tenth), and clearly narrower than the pairing-blind per-sample one.
  const double se = want["cluster_se"];
  EXPECT_NEAR(judge->delta().ci_low(), want["cluster_low"], 0.25 * se);
  EXPECT_NEAR(judge->delta().ci_high(), want["cluster_high"], 0.25 * se);
  const double width = judge->delta().ci_high() - judge->delta().ci_low();
  EXPECT_LT(width, 0.75 * (want["naive_high"] - want["naive_low"]));
  // MDE from the bootstrap standard error: (z_0.975 + z_0.8) * se.
  ASSERT_TRUE(judge->has_mde());
  EXPECT_EQ(judge->mde_method(), "bootstrap_se");
  EXPECT_NEAR(judge->mde(), (1.959963984540054 + 0.8416212335729143) * se, 0.15 * judge->mde());

  // The small benchmark: Wilson and Newcombe by their closed forms, a McNemar MDE, and the
  // regression gate below it marked underpowered.
  EXPECT_EQ(bench->base_samples_per_item(), 0);
  EXPECT_NEAR(bench->base().value(), want["bench_base"], 1e-12);
  ASSERT_TRUE(bench->small_sample().applies());
  EXPECT_NEAR(bench->small_sample().base_low(), want["wilson_base_low"], 1e-9);
  EXPECT_NEAR(bench->small_sample().base_high(), want["wilson_base_high"], 1e-9);
  EXPECT_NEAR(bench->small_sample().candidate_low(), want["wilson_candidate_low"], 1e-9);
  EXPECT_NEAR(bench->small_sample().delta_low(), want["newcombe_low"], 1e-9);
  EXPECT_NEAR(bench->small_sample().delta_high(), want["newcombe_high"], 1e-9);
  EXPECT_EQ(bench->mde_method(), "mcnemar");
  ASSERT_EQ(c.gates_size(), 1);
  const emar::v1::GateResult& gate = c.gates(0);
  EXPECT_EQ(gate.gate(), "max_benchmark_regression");
  EXPECT_TRUE(gate.underpowered());
  EXPECT_GT(gate.mde(), 0.02);
  const double conservative = std::min(bench->delta().ci_low(), want["newcombe_low"]);
  EXPECT_NEAR(gate.bound_value(), conservative, 1e-9);

  // The text report states items and samples and says what an underpowered gate means.
  CommandResult text = RunEmarctl({"run", job}, absl::Seconds(180));
  EXPECT_THAT(text.out, HasSubstr("150×4/5"));
  EXPECT_THAT(text.out, HasSubstr("150 items, 4 samples per item from the base model and 5"));
  EXPECT_THAT(text.out, HasSubstr("UNDERPOWERED"));
  EXPECT_THAT(text.out, HasSubstr("is underpowered: its margin 0.02 is smaller than the minimum "
                                  "detectable effect"));
  EXPECT_THAT(text.out, HasSubstr("percentile bootstrap intervals are unreliable"));
}

TEST(SamplesTest, RaggedSampleCountFailsTheJobNamingTheId) {
  ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("samples-ragged"));
  ASSERT_OK(Generate(dir.path()).status());
  const std::string outputs = dir.path() + "/data/cand.judge.jsonl";
  ASSERT_OK_AND_ASSIGN(std::string text, ReadFile(outputs));
  // Drop the first line: its item has 4 samples where every other has 5.
  const size_t eol = text.find('\n');
  const std::string first = text.substr(0, eol);
  const size_t at = first.find("\"id\": \"") + 7;
  const std::string id = first.substr(at, first.find('"', at) - at);
  ASSERT_OK(WriteFile(outputs, text.substr(eol + 1)));
  CommandResult r = RunEmarctl({"run", dir.path() + "/job.yaml"}, absl::Seconds(180));
  EXPECT_FALSE(r.exit.Exited(0));
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("id '", id, "' has 4 samples")));
  EXPECT_THAT(r.err, HasSubstr("data/cand.judge.jsonl"));
}

}  // namespace
}  // namespace emar::testing
