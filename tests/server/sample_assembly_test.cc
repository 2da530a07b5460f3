// Tests of ResultAssembler on datasets with several samples per item: sample rows from several
// shards become one row per item (the mean of its samples, or its pass@k), k may differ between
// models, and ragged counts, repeated sample indices and malformed results name what is wrong.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "server/result_assembler.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kTarget = emar::v1::DATASET_ROLE_TARGET;
constexpr auto kBenchmark = emar::v1::DATASET_ROLE_BENCHMARK;

// Target "t" (3 items) with several samples per item scored by `metric`; benchmark "b" (1 item)
// with one accuracy output per item.
emar::v1::JobSpec Spec(const emar::v1::MetricSpec& metric) {
  emar::v1::JobSpec s;
  s.set_name("samples");
  emar::v1::DatasetSpec* t = s.add_targets();
  t->set_name("t");
  t->set_references("t.jsonl");
  t->mutable_fields()->set_sample_field("sample");
  *t->add_metrics() = metric;
  emar::v1::DatasetSpec* b = s.add_benchmarks();
  b->set_name("b");
  b->set_references("b.jsonl");
  b->add_metrics()->set_name("accuracy");
  s.mutable_base()->set_name("base");
  (*s.mutable_base()->mutable_outputs())["t"] = "base_t.jsonl";
  (*s.mutable_base()->mutable_outputs())["b"] = "base_b.jsonl";
  emar::v1::ModelSpec* c = s.add_candidates();
  c->set_name("cand");
  (*c->mutable_outputs())["t"] = "cand_t.jsonl";
  (*c->mutable_outputs())["b"] = "cand_b.jsonl";
  return s;
}

emar::v1::MetricSpec Metric(const std::string& name, int k = 0) {
  emar::v1::MetricSpec m;
  m.set_name(name);
  if (k > 0) m.set_k(k);
  return m;
}

absl::StatusOr<std::pair<std::string, uint64_t>> Lookup(int dataset, size_t row) {
  return std::make_pair(absl::StrCat(dataset == 0 ? "t" : "b", row), uint64_t{row + 1});
}

emar::v1::ShardTask Task(int32_t shard_id, emar::v1::DatasetRole role, const std::string& model,
                         const emar::v1::MetricSpec& metric) {
  emar::v1::ShardTask t;
  t.set_shard_id(shard_id);
  t.set_role(role);
  t.set_model(model);
  t.set_dataset(role == kTarget ? "t" : "b");
  *t.add_metrics() = role == kTarget ? metric : Metric("accuracy");
  t.set_metric(t.metrics(0).name());
  return t;
}

struct Sample {
  uint32_t item;
  uint64_t sample, line;
  double value;
};

emar::v1::ShardResult Samples(const std::vector<Sample>& rows) {
  emar::v1::ShardResult r;
  r.set_stats_width(1);
  for (const Sample& s : rows) {
    r.add_reference_row(s.item);
    r.add_line(s.line);
    r.add_sample(s.sample);
    r.add_stats(s.value);
  }
  return r;
}

emar::v1::ShardResult OneBenchmarkRow() {
  emar::v1::ShardResult r;
  r.set_stats_width(1);
  r.add_reference_row(0);
  r.add_line(1);
  r.add_stats(1);
  return r;
}

void AddBenchmark(ResultAssembler& a, const emar::v1::MetricSpec& m) {
  ASSERT_OK(a.Add(Task(90, kBenchmark, "base", m), OneBenchmarkRow()));
  ASSERT_OK(a.Add(Task(91, kBenchmark, "cand", m), OneBenchmarkRow()));
}

TEST(SampleAssemblyTest, SamplesFromSeveralShardsBecomeItemMeans) {
  const emar::v1::MetricSpec m = Metric("accuracy");
  const emar::v1::JobSpec spec = Spec(m);
  ResultAssembler a(spec, {3, 1}, Lookup);
  // Base: k = 2, an item's samples split over two shards. Candidate: k = 3.
  ASSERT_OK(
      a.Add(Task(0, kTarget, "base", m), Samples({{2, 0, 1, 1}, {0, 0, 2, 1}, {1, 7, 3, 0}})));
  ASSERT_OK(
      a.Add(Task(1, kTarget, "base", m), Samples({{0, 1, 4, 0}, {1, 3, 5, 0}, {2, 1, 6, 1}})));
  ASSERT_OK(a.Add(Task(2, kTarget, "cand", m), Samples({{0, 0, 1, 1},
                                                        {0, 1, 2, 1},
                                                        {0, 2, 3, 0},
                                                        {1, 0, 4, 1},
                                                        {1, 1, 5, 0},
                                                        {1, 2, 6, 0},
                                                        {2, 0, 7, 1},
                                                        {2, 1, 8, 1},
                                                        {2, 2, 9, 1}})));
  AddBenchmark(a, m);
  ASSERT_OK_AND_ASSIGN(AssembledResults r, std::move(a).Finish());
  const DatasetResults& t = r.at(0);
  EXPECT_THAT(t.samples_per_item, ElementsAre(2, 3));
  EXPECT_THAT(t.systems[0], ElementsAre(0.5, 0.0, 1.0));
  EXPECT_THAT(t.systems[1],
              ElementsAre(DoubleNear(2.0 / 3, 1e-15), DoubleNear(1.0 / 3, 1e-15), 1.0));
  // Item means are fractions: the wrapper scores them (no McNemar), keeping the sample metric.
  ASSERT_NE(t.sample_metric, nullptr);
  EXPECT_EQ(t.sample_metric->name(), "accuracy");
  EXPECT_FALSE(t.metric->is_binary());
  EXPECT_TRUE(r.at(1).samples_per_item.empty());
}

TEST(SampleAssemblyTest, PassAtKScoresEachItemFromItsSamples) {
  const emar::v1::MetricSpec m = Metric("pass_at_k", 2);
  const emar::v1::JobSpec spec = Spec(m);
  ResultAssembler a(spec, {3, 1}, Lookup);
  // 4 samples per item, c right: 1, 0, 3.
  std::vector<Sample> base, cand;
  const int right[3] = {1, 0, 3};
  for (uint32_t i = 0; i < 3; ++i) {
    for (uint64_t s = 0; s < 4; ++s) {
      base.push_back({i, s, 1 + 4 * i + s, s < static_cast<uint64_t>(right[i]) ? 1.0 : 0.0});
      cand.push_back({i, s, 1 + 4 * i + s, 1.0});
    }
  }
  ASSERT_OK(a.Add(Task(0, kTarget, "base", m), Samples(base)));
  ASSERT_OK(a.Add(Task(1, kTarget, "cand", m), Samples(cand)));
  AddBenchmark(a, m);
  ASSERT_OK_AND_ASSIGN(AssembledResults r, std::move(a).Finish());
  // pass@2 of (n = 4, c): 1 - C(4 - c, 2) / C(4, 2) = 1 - {3, 6, 0} / 6.
  EXPECT_THAT(r.at(0).systems[0],
              ElementsAre(DoubleNear(0.5, 1e-15), DoubleNear(0.0, 1e-15), DoubleNear(1.0, 1e-15)));
  EXPECT_THAT(r.at(0).systems[1], ElementsAre(1.0, 1.0, 1.0));
  EXPECT_EQ(r.at(0).metric->name(), "pass_at_k");
}

TEST(SampleAssemblyTest, RaggedCountNamesTheIdAndItsLines) {
  const emar::v1::MetricSpec m = Metric("accuracy");
  const emar::v1::JobSpec spec = Spec(m);
  ResultAssembler a(spec, {3, 1}, Lookup);
  ASSERT_OK(a.Add(Task(0, kTarget, "base", m),
                  Samples({{0, 0, 1, 1}, {0, 1, 2, 1}, {1, 0, 3, 1}, {1, 1, 4, 1}, {2, 0, 5, 1}})));
  ASSERT_OK(
      a.Add(Task(1, kTarget, "cand", m), Samples({{0, 0, 1, 1}, {1, 0, 2, 1}, {2, 0, 3, 1}})));
  AddBenchmark(a, m);
  EXPECT_THAT(std::move(a).Finish(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("base_t.jsonl:5: id 't2' has 1 samples (lines 5)"),
                             HasSubstr("the other items have 2"))));
}

TEST(SampleAssemblyTest, ASampleIndexRepeatedAcrossShardsNamesBothLines) {
  const emar::v1::MetricSpec m = Metric("accuracy");
  const emar::v1::JobSpec spec = Spec(m);
  ResultAssembler a(spec, {3, 1}, Lookup);
  ASSERT_OK(a.Add(Task(0, kTarget, "base", m), Samples({{1, 4, 10, 1}})));
  EXPECT_THAT(a.Add(Task(1, kTarget, "base", m), Samples({{1, 4, 20, 0}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("base_t.jsonl:20: id 't1': sample 4 appears twice (first at "
                                 "line 10)")));
}

TEST(SampleAssemblyTest, AnItemWithoutSamplesIsNamed) {
  const emar::v1::MetricSpec m = Metric("accuracy");
  const emar::v1::JobSpec spec = Spec(m);
  ResultAssembler a(spec, {3, 1}, Lookup);
  ASSERT_OK(a.Add(Task(0, kTarget, "base", m), Samples({{0, 0, 1, 1}, {2, 0, 2, 1}})));
  ASSERT_OK(
      a.Add(Task(1, kTarget, "cand", m), Samples({{0, 0, 1, 1}, {1, 0, 2, 1}, {2, 0, 3, 1}})));
  AddBenchmark(a, m);
  EXPECT_THAT(std::move(a).Finish(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("base_t.jsonl: no sample for id 't1' (references line 2)")));
}

TEST(SampleAssemblyTest, OneSamplePerItemKeepsTheBinaryMetric) {
  const emar::v1::MetricSpec m = Metric("accuracy");
  const emar::v1::JobSpec spec = Spec(m);
  ResultAssembler a(spec, {3, 1}, Lookup);
  ASSERT_OK(
      a.Add(Task(0, kTarget, "base", m), Samples({{0, 0, 1, 1}, {1, 0, 2, 0}, {2, 0, 3, 1}})));
  ASSERT_OK(
      a.Add(Task(1, kTarget, "cand", m), Samples({{0, 5, 1, 0}, {1, 5, 2, 1}, {2, 5, 3, 1}})));
  AddBenchmark(a, m);
  ASSERT_OK_AND_ASSIGN(AssembledResults r, std::move(a).Finish());
  EXPECT_TRUE(r.at(0).metric->is_binary());  // McNemar's test still applies
  EXPECT_EQ(r.at(0).sample_metric, nullptr);
  EXPECT_THAT(r.at(0).systems[1], ElementsAre(0, 1, 1));
}

TEST(SampleAssemblyTest, ResultWithoutSampleIndicesIsRejected) {
  const emar::v1::MetricSpec m = Metric("accuracy");
  const emar::v1::JobSpec spec = Spec(m);
  ResultAssembler a(spec, {3, 1}, Lookup);
  emar::v1::ShardResult r = Samples({{0, 0, 1, 1}});
  r.clear_sample();
  EXPECT_THAT(a.Add(Task(0, kTarget, "base", m), r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 rows but 0 sample")));
}

}  // namespace
}  // namespace emar
