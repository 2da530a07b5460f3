// Tests of eval/input/sample_groups.h: grouping by item through the real reader, reference table
// and metrics, the ragged / duplicate / missing errors, and item rows (mean and pass@k).
#include "eval/input/sample_groups.h"

#include <string>
#include <utility>
#include <vector>

#include "common/status_matchers.h"
#include "eval/metrics/accuracy_scorer.h"
#include "eval/metrics/classification_scorer.h"
#include "eval/metrics/pass_at_k.h"
#include "eval/metrics/score_metric.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kReferences[] =
    "{\"id\": \"a\", \"reference\": \"x\"}\n"
    "{\"id\": \"b\", \"reference\": \"y\"}\n"
    "{\"id\": \"c\", \"reference\": \"z\"}\n";

std::string Line(const std::string& id, int sample, const std::string& prediction) {
  return "{\"id\": \"" + id + "\", \"sample\": " + std::to_string(sample) + ", \"prediction\": \"" +
         prediction + "\"}\n";
}

class SampleGroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(ReferenceTable refs, ReferenceTable::Parse("refs.jsonl", kReferences, {}));
    refs_ = std::make_unique<ReferenceTable>(std::move(refs));
  }
  absl::StatusOr<SampleGroups> Group(const std::vector<std::string>& shards, const Metric& metric) {
    SampleGrouper grouper(*refs_, "out.jsonl", metric.stats_width());
    uint64_t first_line = 1;
    for (const std::string& shard : shards) {
      RETURN_IF_ERROR(grouper.AddShard(shard, first_line, {}, "sample", metric));
      first_line += std::count(shard.begin(), shard.end(), '\n');
    }
    return std::move(grouper).Finish();
  }
  std::unique_ptr<ReferenceTable> refs_;
  AccuracyMetric accuracy_;
};

TEST_F(SampleGroupsTest, GroupsSamplesByItemAcrossShardsInAnyOrder) {
  // a: 2 of 3 right, b: 0 of 3, c: 3 of 3; lines shuffled and split over two shards.
  const std::string shard1 =
      Line("c", 0, "z") + Line("a", 2, "x") + Line("b", 0, "n") + Line("a", 0, "x");
  const std::string shard2 = Line("b", 1, "n") + Line("c", 2, "z") + Line("a", 1, "q") +
                             Line("b", 2, "y ") + Line("c", 1, "z");
  ASSERT_OK_AND_ASSIGN(SampleGroups g, Group({shard1, shard2}, accuracy_));
  EXPECT_EQ(g.samples_per_item, 3);
  EXPECT_EQ(g.items(), 3u);
  EXPECT_THAT(g.sums, ElementsAre(2, 1, 3));  // "y " strips to y: b has one right
  ASSERT_OK_AND_ASSIGN(std::vector<double> means, ItemRows(g, accuracy_));
  EXPECT_THAT(means, ElementsAre(2.0 / 3, 1.0 / 3, 1.0));
  PassAtKMetric pass2(2);
  ASSERT_OK_AND_ASSIGN(std::vector<double> pass, ItemRows(g, pass2));
  // b: 1 − C(2,2)/C(3,2) = 2/3
  EXPECT_THAT(pass, ::testing::Pointwise(::testing::DoubleNear(1e-15),
                                         std::vector<double>{1.0, 2.0 / 3, 1.0}));
  PassAtKMetric pass5(5);
  EXPECT_THAT(ItemRows(g, pass5), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("out.jsonl: pass_at_k: k = 5")));
}

TEST_F(SampleGroupsTest, RaggedCountNamesTheIdFileAndLines) {
  const std::string data = Line("a", 0, "x") + Line("a", 1, "x") + Line("b", 0, "y") +
                           Line("c", 0, "z") + Line("c", 1, "z") + Line("c", 7, "z") +
                           Line("b", 1, "y");
  EXPECT_THAT(Group({data}, accuracy_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out.jsonl:4: id 'c' has 3 samples (lines 4, 5, 6) but the "
                                 "other items have 2")));
}

TEST_F(SampleGroupsTest, DuplicateSampleIndexNamesBothLines) {
  const std::string data = Line("a", 0, "x") + Line("b", 0, "y") + Line("a", 0, "q");
  EXPECT_THAT(Group({data}, accuracy_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out.jsonl:3: id 'a': sample 0 appears twice (first at line 1)")));
}

TEST_F(SampleGroupsTest, MissingItemAndUnknownIdAreErrors) {
  EXPECT_THAT(Group({Line("a", 0, "x") + Line("c", 0, "z")}, accuracy_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no sample for id 'b' (references line 2)")));
  EXPECT_THAT(Group({Line("a", 0, "x") + Line("zz", 0, "z")}, accuracy_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out.jsonl:2: field 'id': unknown id 'zz'")));
}

TEST_F(SampleGroupsTest, JudgeGradesPerSampleAverageByItem) {
  // A judge graded each of 2 samples per item 1-10 in field "grade"; out of range is an error
  // naming the file, line and field.
  ScoreMetric judge(ScoreOptions{"grade", std::make_pair(1.0, 10.0)});
  FieldConfig config;
  config.prediction_field = "grade";
  auto line = [](const std::string& id, int sample, const std::string& grade) {
    return "{\"id\": \"" + id + "\", \"sample\": " + std::to_string(sample) +
           ", \"grade\": " + grade + "}\n";
  };
  const std::string data = line("a", 0, "7") + line("a", 1, "9") + line("b", 0, "2") +
                           line("b", 1, "3") + line("c", 0, "10") + line("c", 1, "10");
  SampleGrouper grouper(*refs_, "judged.jsonl", 1);
  ASSERT_OK(grouper.AddShard(data, 1, config, "sample", judge));
  ASSERT_OK_AND_ASSIGN(SampleGroups g, std::move(grouper).Finish());
  ASSERT_OK_AND_ASSIGN(std::vector<double> means, ItemRows(g, judge));
  EXPECT_THAT(means, ElementsAre(8, 2.5, 10));
  SampleGrouper bad(*refs_, "judged.jsonl", 1);
  EXPECT_THAT(
      bad.AddShard(line("a", 0, "7") + line("a", 1, "11"), 1, config, "sample", judge),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("judged.jsonl:2: field 'grade': 11 is outside the range [1, 10]")));
}

TEST_F(SampleGroupsTest, LabelMetricsAreRefused) {
  MacroF1Metric f1;
  SampleGrouper grouper(*refs_, "out.jsonl", f1.stats_width());
  EXPECT_THAT(grouper.AddShard(Line("a", 0, "x"), 1, {}, "sample", f1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("macro_f1")));
}

}  // namespace
}  // namespace emar
