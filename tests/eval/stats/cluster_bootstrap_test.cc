// Several samples per item through the paired bootstrap: item rows from eval/input's grouping,
// scored by SampleMeanMetric, resampled as items, with base and candidate paired by item even
// when they drew different numbers of samples.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "eval/input/sample_groups.h"
#include "eval/metrics/accuracy_scorer.h"
#include "eval/metrics/sample_mean_metric.h"
#include "eval/stats/paired_bootstrap.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

// `right[i]` of item i's `k` samples are right (reference "y").
std::string Outputs(const std::vector<int>& right, int k) {
  std::string out;
  for (size_t i = 0; i < right.size(); ++i) {
    for (int s = 0; s < k; ++s) {
      absl::StrAppend(&out, "{\"id\": ", i, ", \"sample\": ", s, ", \"prediction\": \"",
                      s < right[i] ? "y" : "n", "\"}\n");
    }
  }
  return out;
}

absl::StatusOr<std::vector<double>> ItemMeans(const ReferenceTable& refs, const Metric& metric,
                                              const std::string& outputs) {
  SampleGrouper grouper(refs, "out.jsonl", metric.stats_width());
  RETURN_IF_ERROR(grouper.AddShard(outputs, 1, {}, "sample", metric));
  ASSIGN_OR_RETURN(SampleGroups groups, std::move(grouper).Finish());
  return ItemRows(groups, metric);
}

std::optional<double> Delta(double t0, double t1, double, double) { return t1 - t0; }

TEST(ClusterBootstrapTest, BaseAndCandidateArePairedByItemWhateverTheirSampleCounts) {
  constexpr int kItems = 40;
  std::string refs_text;
  std::vector<int> base_right, cand_right, cand_better;
  for (int i = 0; i < kItems; ++i) {
    absl::StrAppend(&refs_text, "{\"id\": ", i, ", \"reference\": \"y\"}\n");
    base_right.push_back(i % 2);             // 0 or 1 of 2 samples: item means 0, 0.5
    cand_right.push_back(2 * (i % 2));       // 0 or 2 of 4 samples: the same means
    cand_better.push_back(2 * (i % 2) + 1);  // 1 or 3 of 4: every item +0.25
  }
  ASSERT_OK_AND_ASSIGN(ReferenceTable refs, ReferenceTable::Parse("refs.jsonl", refs_text, {}));
  AccuracyMetric accuracy;
  ASSERT_OK_AND_ASSIGN(std::vector<double> base, ItemMeans(refs, accuracy, Outputs(base_right, 2)));
  ASSERT_OK_AND_ASSIGN(std::vector<double> same, ItemMeans(refs, accuracy, Outputs(cand_right, 4)));
  ASSERT_OK_AND_ASSIGN(std::vector<double> better,
                       ItemMeans(refs, accuracy, Outputs(cand_better, 4)));
  ASSERT_OK_AND_ASSIGN(auto metric, SampleMeanMetric::Create(accuracy));
  ASSERT_OK_AND_ASSIGN(ValidRows rows,
                       ValidRows::Validate({metric.get(), 0, kItems, {base, same, better}}, "t"));
  BootstrapOptions options;
  options.resamples = 500;
  ASSERT_OK_AND_ASSIGN(StudyStats study, RunPairedBootstrap(rows, rows, Delta, options));
  // Candidate 1 has the base's per-item means from twice the samples: every resample of items
  // gives it the base's score, so its delta is exactly 0 with a zero-width interval.
  const CandidateStats& same_stats = study.candidates[0];
  EXPECT_EQ(*same_stats.dt.value, 0);
  EXPECT_EQ(*same_stats.dt.ci.low, 0);
  EXPECT_EQ(*same_stats.dt.ci.high, 0);
  // Candidate 2 gains +0.25 on every item, so every resample of items has a delta of +0.25
  // (resampling single samples, or unpaired, would scatter it).
  const CandidateStats& better_stats = study.candidates[1];
  EXPECT_DOUBLE_EQ(*better_stats.dt.value, 0.25);
  EXPECT_NEAR(*better_stats.dt.ci.low, 0.25, 1e-12);
  EXPECT_NEAR(*better_stats.dt.ci.high, 0.25, 1e-12);
  // Not McNemar: item means are not 0/1.
  EXPECT_EQ(better_stats.dt_p.test, "paired_bootstrap");
}

}  // namespace
}  // namespace emar
