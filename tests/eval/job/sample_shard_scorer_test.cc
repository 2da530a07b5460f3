// Tests of scoring a shard of several samples per item (ScoreShard with fields.sample_field): a
// row per sample with its item, line and sample index; a metric's `field` option read as the
// value; bad sample indices, unknown ids and label metrics named; and the ids of a dataset
// without references read from outputs (eval/job/output_ids.h).
#include "common/status_matchers.h"
#include "eval/job/output_ids.h"
#include "eval/job/shard_scorer.h"
#include "eval/metrics/metric_factory.h"
#include "eval/metrics/metric_registry.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kRefs[] = R"({"id": "a", "reference": "pos"}
{"id": "b", "reference": "neg"}
)";

emar::v1::ShardTask Task(const emar::v1::MetricSpec& metric, int64_t first_line = 1) {
  emar::v1::ShardTask t;
  t.set_metric(metric.name());
  *t.add_metrics() = metric;
  t.set_dataset("d");
  t.set_first_line(first_line);
  t.mutable_fields()->set_sample_field("sample");
  t.mutable_outputs()->set_display_name("out/m.jsonl");
  t.mutable_references()->set_display_name("data/refs.jsonl");
  return t;
}

emar::v1::MetricSpec Spec(const std::string& name, const std::string& field = "") {
  emar::v1::MetricSpec m;
  m.set_name(name);
  m.set_field(field);
  return m;
}

ReferenceTable Refs() { return *ReferenceTable::Parse("data/refs.jsonl", kRefs, FieldConfig()); }

TEST(SampleShardScorerTest, OneRowPerSampleWithItsIndex) {
  const ReferenceTable refs = Refs();
  auto metric = *MakeMetric("accuracy");
  ASSERT_OK_AND_ASSIGN(auto r,
                       ScoreShard(Task(Spec("accuracy"), 7),
                                  "{\"id\": \"b\", \"sample\": 3, \"prediction\": \"neg\"}\n"
                                  "{\"id\": \"a\", \"sample\": 0, \"prediction\": \"neg\"}\n"
                                  "{\"id\": \"b\", \"sample\": \"4\", \"prediction\": \"x\"}\n",
                                  refs, *metric));
  EXPECT_THAT(r.reference_row(), ElementsAre(1, 0, 1));
  EXPECT_THAT(r.line(), ElementsAre(7, 8, 9));
  EXPECT_THAT(r.sample(), ElementsAre(3, 0, 4));
  EXPECT_THAT(r.stats(), ElementsAre(1.0, 0.0, 0.0));
}

TEST(SampleShardScorerTest, ScoreReadsItsFieldOption) {
  const ReferenceTable refs = Refs();
  const emar::v1::MetricSpec spec = [] {
    emar::v1::MetricSpec m = Spec("score", "grade");
    m.add_range(1);
    m.add_range(5);
    return m;
  }();
  auto metric = *MakeMetric(spec);
  ASSERT_OK_AND_ASSIGN(auto r, ScoreShard(Task(spec),
                                          "{\"id\": \"a\", \"sample\": 0, \"grade\": 4.5}\n"
                                          "{\"id\": \"a\", \"sample\": 1, \"grade\": 2}\n",
                                          refs, *metric));
  EXPECT_THAT(r.stats(), ElementsAre(4.5, 2.0));
  EXPECT_THAT(
      ScoreShard(Task(spec, 3), "{\"id\": \"b\", \"sample\": 0, \"grade\": 9}\n", refs, *metric),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("out/m.jsonl:3"), HasSubstr("grade"))));
}

TEST(SampleShardScorerTest, BadSampleIndexAndUnknownIdNameFileAndLine) {
  const ReferenceTable refs = Refs();
  auto metric = *MakeMetric("accuracy");
  EXPECT_THAT(
      ScoreShard(Task(Spec("accuracy"), 5),
                 "{\"id\": \"a\", \"sample\": 1.5, \"prediction\": \"pos\"}\n", refs, *metric),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("out/m.jsonl:5: field 'sample': expected a non-negative integer")));
  EXPECT_THAT(
      ScoreShard(Task(Spec("accuracy"), 5),
                 "{\"id\": \"zz\", \"sample\": 1, \"prediction\": \"pos\"}\n", refs, *metric),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("out/m.jsonl:5: field 'id': unknown id 'zz'")));
}

TEST(SampleShardScorerTest, LabelMetricsAreRefused) {
  const ReferenceTable refs = Refs();
  auto metric = *MakeMetric("macro_f1");
  EXPECT_THAT(
      ScoreShard(Task(Spec("macro_f1")),
                 "{\"id\": \"a\", \"sample\": 1, \"prediction\": \"pos\"}\n", refs, *metric),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("cannot average several samples per item")));
}

TEST(SampleShardScorerTest, WithoutSampleFieldADuplicateIdPointsAtIt) {
  const ReferenceTable refs = Refs();
  auto metric = *MakeMetric("accuracy");
  emar::v1::ShardTask task = Task(Spec("accuracy"));
  task.mutable_fields()->clear_sample_field();
  EXPECT_THAT(ScoreShard(task,
                         "{\"id\": \"a\", \"prediction\": \"pos\"}\n"
                         "{\"id\": \"a\", \"prediction\": \"pos\"}\n",
                         refs, *metric),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("duplicate id 'a'"), HasSubstr("fields.sample_field"))));
}

TEST(OutputIdsTest, DistinctIdsInOrderOfFirstLine) {
  emar::v1::FieldNames fields;
  fields.set_sample_field("sample");
  ASSERT_OK_AND_ASSIGN(ReferenceTable ids,
                       IdsOfOutputs("out/base.jsonl",
                                    "{\"id\": \"q2\", \"sample\": 0, \"grade\": 1}\n\n"
                                    "{\"id\": 7, \"sample\": 0, \"grade\": 1}\n"
                                    "{\"id\": \"q2\", \"sample\": 1, \"grade\": 3}\n",
                                    fields, Spec("score", "grade")));
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids.id(0), "q2");
  EXPECT_EQ(ids.line(0), 1u);
  EXPECT_EQ(ids.id(1), "7");
  EXPECT_EQ(ids.line(1), 3u);
  EXPECT_TRUE(ids.reference(0).texts.empty());
  EXPECT_THAT(IdsOfOutputs("out/base.jsonl", "{\"id\": \"q2\", \"sample\": 0}\n", fields,
                           Spec("score", "grade")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out/base.jsonl:1")));
  EXPECT_THAT(IdsOfOutputs("out/base.jsonl", "\n", fields, Spec("score", "grade")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty file")));
}

}  // namespace
}  // namespace emar
