// The statistics of this branch against independent implementations run by /usr/bin/python3
// (tests/eval/stats/stats_reference.py): the normal quantile against scipy, Wilson intervals
// against statsmodels' proportion_confint (and Newcombe's paired interval built from them), MDEs
// and items against statsmodels' power functions, and the cluster bootstrap of several samples per
// item — through the real reader, grouping and resampler — against a numpy cluster bootstrap:
// exactly on numpy's own resample indices, and within Monte-Carlo tolerance on our own resamples.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_matchers.h"
#include "eval/input/sample_groups.h"
#include "eval/metrics/accuracy_scorer.h"
#include "eval/metrics/sample_mean_metric.h"
#include "eval/stats/bootstrap_resampler.h"
#include "eval/stats/deterministic_rng.h"
#include "eval/stats/normal_quantile.h"
#include "eval/stats/power.h"
#include "eval/stats/significance.h"
#include "eval/stats/wilson_interval.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using Case = std::map<std::string, double>;

const std::string& Script() {
  static const std::string path =
      std::string(EMAR_SOURCE_DIR) + "/tests/eval/stats/stats_reference.py";
  return path;
}

// Runs the script with `args`; its stdout, parsed as "kind key=value ..." lines.
std::vector<std::pair<std::string, Case>> RunReference(const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " + Script() + " " + args;
  FILE* pipe = popen(cmd.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << cmd;
  std::string out;
  char buf[4096];
  for (size_t got; pipe && (got = fread(buf, 1, sizeof buf, pipe)) > 0;) out.append(buf, got);
  const int status = pipe ? pclose(pipe) : -1;
  EXPECT_EQ(status, 0) << cmd << " failed (needs python3-statsmodels): " << out;
  std::vector<std::pair<std::string, Case>> cases;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    Case c;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(parts[i], '=');
      double v = 0;
      EXPECT_TRUE(absl::SimpleAtod(kv.second, &v)) << line;
      c[std::string(kv.first)] = v;
    }
    cases.emplace_back(std::string(parts[0]), std::move(c));
  }
  return cases;
}

PowerOptions Options(const Case& c) {
  PowerOptions o;
  o.alpha = c.at("alpha");
  o.power = c.at("power");
  o.sides = c.at("sides") == 2 ? Sidedness::kTwoSided : Sidedness::kOneSided;
  return o;
}

TEST(StatsReferenceTest, QuantilesWilsonAndPowerMatchScipyAndStatsmodels) {
  const auto cases = RunReference("power");
  std::map<std::string, int> seen;
  for (const auto& [kind, c] : cases) {
    ++seen[kind];
    const std::string what = absl::StrCat(kind, " case ", seen[kind]);
    if (kind == "quantile") {
      EXPECT_NEAR(NormalQuantile(c.at("p")), c.at("z"), 2e-15 * std::max(1.0, std::fabs(c.at("z"))))
          << what;
    } else if (kind == "wilson") {
      ASSERT_OK_AND_ASSIGN(ProportionInterval w,
                           WilsonInterval(static_cast<int64_t>(c.at("s")),
                                          static_cast<int64_t>(c.at("n")), c.at("conf")));
      EXPECT_NEAR(w.low, c.at("low"), 1e-12) << what;
      EXPECT_NEAR(w.high, c.at("high"), 1e-12) << what;
    } else if (kind == "mde_se") {
      // statsmodels solves numerically and, two-sided, counts the far tail too (~1e-6 relative).
      ASSERT_OK_AND_ASSIGN(double mde, MinimumDetectableEffect(c.at("se"), Options(c)));
      EXPECT_NEAR(mde, c.at("mde"), 1e-5 * c.at("mde")) << what;
    } else if (kind == "mcnemar_items") {
      ASSERT_OK_AND_ASSIGN(double items, McNemarItems(c.at("psi"), c.at("delta"), Options(c)));
      EXPECT_NEAR(items, c.at("items"), 1e-9 * c.at("items")) << what;
    } else if (kind == "mcnemar_mde") {
      ASSERT_OK_AND_ASSIGN(
          double mde,
          McNemarMinimumDetectableEffect(c.at("psi"), static_cast<int64_t>(c.at("n")), Options(c)));
      EXPECT_NEAR(mde, c.at("mde"), 1e-9 * c.at("mde")) << what;
    } else if (kind == "newcombe") {
      PairedCounts counts;
      counts.both = static_cast<int64_t>(c.at("a"));
      counts.only_base = static_cast<int64_t>(c.at("b"));
      counts.only_candidate = static_cast<int64_t>(c.at("c"));
      counts.neither = static_cast<int64_t>(c.at("d"));
      ASSERT_OK_AND_ASSIGN(ProportionInterval w, PairedDifferenceInterval(counts, c.at("conf")));
      EXPECT_NEAR(w.low, c.at("low"), 1e-12) << what;
      EXPECT_NEAR(w.high, c.at("high"), 1e-12) << what;
    } else if (kind == "plan") {
      ASSERT_OK_AND_ASSIGN(BinaryPlan plan,
                           PlanBinary(c.at("baseline"), c.at("margin"), std::nullopt, Options(c)));
      EXPECT_EQ(plan.items, static_cast<int64_t>(c.at("items"))) << what;
    } else if (kind == "holm") {
      std::vector<std::optional<double>> p;
      while (c.count(absl::StrCat("p", p.size())) > 0)
        p.push_back(c.at(absl::StrCat("p", p.size())));
      const std::vector<std::optional<double>> adjusted = HolmBonferroni(p);
      ASSERT_EQ(adjusted.size(), p.size()) << what;
      for (size_t i = 0; i < p.size(); ++i) {
        ASSERT_TRUE(adjusted[i].has_value()) << what;
        EXPECT_NEAR(*adjusted[i], c.at(absl::StrCat("a", i)), 1e-15) << what << ", p" << i;
      }
    } else {
      ADD_FAILURE() << "unknown case kind " << kind;
    }
  }
  for (const char* kind : {"quantile", "wilson", "mde_se", "mcnemar_items", "mcnemar_mde", "plan",
                           "newcombe", "holm"}) {
    EXPECT_GE(seen[kind], 3) << kind;  // the script ran its whole grid
  }
}

// Items with correlated samples: item i's samples are right with probability p_i, the p_i
// spread widely (the clustering that a per-sample bootstrap ignores).
struct SampledDataset {
  std::string references, outputs;
};
SampledDataset MakeDataset(int items, int k, uint64_t seed) {
  DeterministicRng rng(seed);
  SampledDataset d;
  for (int i = 0; i < items; ++i) {
    absl::StrAppend(&d.references, "{\"id\": \"q", i, "\", \"reference\": \"yes\"}\n");
    const double p = rng.UniformOpen01() * rng.UniformOpen01() * 1.6;  // mean 0.4, spread
    for (int s = k - 1; s >= 0; --s) {  // samples out of order on purpose
      const bool right = rng.UniformOpen01() < p;
      absl::StrAppend(&d.outputs, "{\"id\": \"q", i, "\", \"sample\": ", s, ", \"prediction\": \"",
                      right ? "yes" : "no", "\"}\n");
    }
  }
  return d;
}

std::string WriteTemp(const std::string& name, const std::string& contents) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << contents;
  return path;
}

TEST(StatsReferenceTest, ClusterBootstrapMatchesNumpy) {
  constexpr int kItems = 80, kSamples = 6, kResamples = 4000;
  const SampledDataset data = MakeDataset(kItems, kSamples, 2024);
  const std::string refs_path = WriteTemp("cluster_refs.jsonl", data.references);
  const std::string outs_path = WriteTemp("cluster_outputs.jsonl", data.outputs);
  const std::string idx_path = ::testing::TempDir() + "/cluster_indices.txt";
  const auto numpy = RunReference(
      absl::StrCat("cluster ", refs_path, " ", outs_path, " ", kResamples, " 7 0.95 ", idx_path));
  ASSERT_EQ(numpy.size(), 2u);
  const Case& np_cluster = numpy[0].second;
  const Case& np_naive = numpy[1].second;

  // Ours: the real reader, grouping and item rows, then the resampler on item rows.
  ASSERT_OK_AND_ASSIGN(ReferenceTable refs, ReferenceTable::Parse("refs", data.references, {}));
  AccuracyMetric accuracy;
  SampleGrouper grouper(refs, "outputs", 1);
  ASSERT_OK(grouper.AddShard(data.outputs, 1, {}, "sample", accuracy));
  ASSERT_OK_AND_ASSIGN(SampleGroups groups, std::move(grouper).Finish());
  ASSERT_EQ(groups.samples_per_item, kSamples);
  ASSERT_OK_AND_ASSIGN(std::vector<double> item_rows, ItemRows(groups, accuracy));
  ASSERT_OK_AND_ASSIGN(auto item_metric, SampleMeanMetric::Create(accuracy));
  ASSERT_OK_AND_ASSIGN(ValidRows rows,
                       ValidRows::Validate({item_metric.get(), 0, kItems, {item_rows}}, "items"));

  // 1. numpy's own resamples of items, scored by us: the same interval to rounding.
  std::ifstream idx_in(idx_path);
  std::vector<std::vector<uint32_t>> indices;
  for (std::string line; std::getline(idx_in, line);) {
    std::vector<uint32_t> r;
    for (absl::string_view t : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
      uint32_t v = 0;
      ASSERT_TRUE(absl::SimpleAtoi(t, &v));
      r.push_back(v);
    }
    indices.push_back(std::move(r));
  }
  ASSERT_EQ(indices.size(), static_cast<size_t>(kResamples));
  ASSERT_OK_AND_ASSIGN(ResampledScores shared, ScoresFromIndices(rows, indices));
  std::vector<double> values;
  for (int64_t r = 0; r < shared.resamples; ++r) values.push_back(*shared.value(r, 0));
  const PercentileBounds same = PercentileInterval(values, 0.95);
  EXPECT_NEAR(same.low, np_cluster.at("low"), 1e-12);
  EXPECT_NEAR(same.high, np_cluster.at("high"), 1e-12);

  // 2. Our own resamples: the same interval within Monte-Carlo error (about 0.002 here).
  ASSERT_OK_AND_ASSIGN(BootstrapResampler resampler, BootstrapResampler::Create(rows));
  ASSERT_OK_AND_ASSIGN(ResampledScores ours, resampler.Run(kResamples, 12345, 0, 1));
  values.clear();
  for (int64_t r = 0; r < ours.resamples; ++r) values.push_back(*ours.value(r, 0));
  const PercentileBounds cluster = PercentileInterval(values, 0.95);
  EXPECT_NEAR(cluster.low, np_cluster.at("low"), 0.012);
  EXPECT_NEAR(cluster.high, np_cluster.at("high"), 0.012);

  // 3. Resampling single samples ignores the clustering: a much narrower interval, in numpy
  // and in ours (the accuracy rows of every sample, resampled one by one).
  std::vector<double> sample_rows;
  for (absl::string_view line : absl::StrSplit(data.outputs, '\n', absl::SkipEmpty())) {
    sample_rows.push_back(absl::StrContains(line, "\"yes\"") ? 1 : 0);
  }
  ASSERT_OK_AND_ASSIGN(
      ValidRows naive_rows,
      ValidRows::Validate({&accuracy, 0, sample_rows.size(), {sample_rows}}, "samples"));
  ASSERT_OK_AND_ASSIGN(BootstrapResampler naive_resampler, BootstrapResampler::Create(naive_rows));
  ASSERT_OK_AND_ASSIGN(ResampledScores naive, naive_resampler.Run(kResamples, 12345, 0, 1));
  values.clear();
  for (int64_t r = 0; r < naive.resamples; ++r) values.push_back(*naive.value(r, 0));
  const PercentileBounds naive_ci = PercentileInterval(values, 0.95);
  const double cluster_width = cluster.high - cluster.low;
  EXPECT_LT(naive_ci.high - naive_ci.low, 0.75 * cluster_width);
  EXPECT_LT(np_naive.at("high") - np_naive.at("low"), 0.75 * cluster_width);
  EXPECT_NEAR(naive_ci.high - naive_ci.low, np_naive.at("high") - np_naive.at("low"), 0.012);
}

}  // namespace
}  // namespace emar
