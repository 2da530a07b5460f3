// Tests of ResultAssembler: row order, label remapping, join checks and malformed shard results.
#include "server/result_assembler.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr auto kTarget = emar::v1::DATASET_ROLE_TARGET;
constexpr auto kBenchmark = emar::v1::DATASET_ROLE_BENCHMARK;
constexpr size_t kTargetRows = 4;
constexpr size_t kBenchmarkRows = 3;

// Target: accuracy (one 0/1 column); benchmark: macro_f1 (gold and predicted label ids).
emar::v1::JobSpec Spec(const std::string& target_metric = "accuracy") {
  emar::v1::JobSpec s;
  s.set_name("assemble");
  s.mutable_target()->set_name("t");
  s.mutable_target()->set_references("t_refs.jsonl");
  s.mutable_target()->set_metric(target_metric);
  s.mutable_benchmark()->set_name("b");
  s.mutable_benchmark()->set_references("b_refs.jsonl");
  s.mutable_benchmark()->set_metric("macro_f1");
  s.mutable_base()->set_name("base");
  s.mutable_base()->set_target_outputs("base_t.jsonl");
  s.mutable_base()->set_benchmark_outputs("base_b.jsonl");
  emar::v1::ModelSpec* c = s.add_candidates();
  c->set_name("cand");
  c->set_target_outputs("cand_t.jsonl");
  c->set_benchmark_outputs("cand_b.jsonl");
  return s;
}

// Reference row r of the target is id "t<r>" on line r + 2 (the files start with a blank
// line), so a message naming the line is told apart from one naming the row.
absl::StatusOr<std::pair<std::string, uint64_t>> Lookup(int dataset, size_t row) {
  return std::make_pair(absl::StrCat(dataset == 0 ? "t" : "b", row), uint64_t{row + 2});
}

emar::v1::ShardTask Task(int32_t shard_id, emar::v1::DatasetRole role, const std::string& model) {
  emar::v1::ShardTask t;
  t.set_shard_id(shard_id);
  t.set_role(role);
  t.set_model(model);
  return t;
}

struct Row {
  uint32_t reference_row;
  uint64_t line;
  std::vector<double> stats;
};

emar::v1::ShardResult Result(int32_t width, const std::vector<Row>& rows,
                             const std::vector<std::string>& labels = {}) {
  emar::v1::ShardResult r;
  r.set_stats_width(width);
  for (const Row& row : rows) {
    r.add_reference_row(row.reference_row);
    r.add_line(row.line);
    for (double v : row.stats) r.add_stats(v);
  }
  for (const std::string& l : labels) *r.add_labels() = l;
  return r;
}

// Every benchmark row answered by `model` with gold = predicted = "yes".
emar::v1::ShardResult FullBenchmark() {
  return Result(2, {{0, 1, {0, 0}}, {1, 2, {0, 0}}, {2, 3, {0, 0}}}, {"yes"});
}

// Every target row answered, in references order, all correct.
emar::v1::ShardResult FullTarget() {
  return Result(1, {{0, 1, {1}}, {1, 2, {1}}, {2, 3, {1}}, {3, 4, {1}}});
}

TEST(ResultAssemblerTest, ShardsInAnyOrderLandInReferencesOrder) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  // The base's outputs file lists the ids out of references order, split over two shards; the
  // later shard arrives first.
  ASSERT_OK(a.Add(Task(1, kTarget, "base"), Result(1, {{3, 3, {0}}, {1, 4, {1}}})));
  ASSERT_OK(a.Add(Task(0, kTarget, "base"), Result(1, {{2, 1, {1}}, {0, 2, {0}}})));
  ASSERT_OK(a.Add(Task(2, kTarget, "cand"),
                  Result(1, {{1, 1, {0}}, {0, 2, {1}}, {3, 3, {1}}, {2, 4, {1}}})));
  ASSERT_OK(a.Add(Task(4, kBenchmark, "cand"), FullBenchmark()));
  ASSERT_OK(a.Add(Task(3, kBenchmark, "base"), FullBenchmark()));
  ASSERT_OK_AND_ASSIGN(AssembledResults r, std::move(a).Finish());

  EXPECT_EQ(r.results[0].spec, &spec.target());
  EXPECT_EQ(r.results[1].spec, &spec.benchmark());
  ASSERT_NE(r.results[0].metric, nullptr);
  EXPECT_EQ(r.results[0].metric->name(), "accuracy");
  EXPECT_EQ(r.results[1].metric->name(), "macro_f1");
  EXPECT_EQ(r.results[0].n, kTargetRows);
  EXPECT_EQ(r.results[1].n, kBenchmarkRows);
  ASSERT_EQ(r.results[0].systems.size(), 2u);
  EXPECT_THAT(r.results[0].systems[0], ElementsAre(0, 1, 1, 0));  // rows 0..3
  EXPECT_THAT(r.results[0].systems[1], ElementsAre(1, 0, 1, 1));
  ASSERT_EQ(r.results[1].systems.size(), 2u);
  EXPECT_THAT(r.results[1].systems[0], ElementsAre(0, 0, 0, 0, 0, 0));
  // Accuracy has no labels; the target's table stays empty.
  EXPECT_EQ(r.results[0].labels.size(), 0u);
}

TEST(ResultAssemblerTest, ShardLocalLabelsAreRemappedToOneTablePerDataset) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  ASSERT_OK(a.Add(Task(0, kTarget, "base"), FullTarget()));
  ASSERT_OK(a.Add(Task(1, kTarget, "cand"), FullTarget()));
  // Three shards, three different local tables; rows are {gold id, predicted id}.
  // cand: row0 (pos, neu), row1 (neu, neu), row2 (neg, neg)
  ASSERT_OK(
      a.Add(Task(4, kBenchmark, "cand"),
            Result(2, {{0, 1, {0, 1}}, {1, 2, {1, 1}}, {2, 3, {2, 2}}}, {"pos", "neu", "neg"})));
  // base: row1 (neu, neg)
  ASSERT_OK(a.Add(Task(3, kBenchmark, "base"), Result(2, {{1, 3, {0, 1}}}, {"neu", "neg"})));
  // base: row0 (pos, pos), row2 (neg, pos)
  ASSERT_OK(a.Add(Task(2, kBenchmark, "base"),
                  Result(2, {{0, 1, {1, 1}}, {2, 2, {0, 1}}}, {"neg", "pos"})));
  ASSERT_OK_AND_ASSIGN(AssembledResults r, std::move(a).Finish());

  const LabelTable& labels = r.results[1].labels;
  EXPECT_THAT(labels.labels(), UnorderedElementsAre("pos", "neu", "neg"));
  auto names = [&](const std::vector<double>& rows) {
    std::vector<std::string> out;
    for (double id : rows) {
      EXPECT_GE(id, 0);
      EXPECT_LT(id, static_cast<double>(labels.size()));
      out.push_back(labels.label(static_cast<uint32_t>(id)));
    }
    return out;
  };
  EXPECT_THAT(names(r.results[1].systems[0]),
              ElementsAre("pos", "pos", "neu", "neg", "neg", "pos"));
  EXPECT_THAT(names(r.results[1].systems[1]),
              ElementsAre("pos", "neu", "neu", "neu", "neg", "neg"));
}

TEST(ResultAssemblerTest, IdAnsweredTwiceAcrossShardsNamesBothLines) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  ASSERT_OK(a.Add(Task(0, kTarget, "base"), Result(1, {{0, 1, {1}}, {1, 2, {1}}})));
  // The candidate answering the same row is no duplicate.
  ASSERT_OK(a.Add(Task(1, kTarget, "cand"), Result(1, {{1, 2, {1}}})));
  EXPECT_THAT(a.Add(Task(2, kTarget, "base"), Result(1, {{2, 6, {1}}, {1, 7, {0}}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("base_t.jsonl:7"), HasSubstr("duplicate id 't1'"),
                             HasSubstr("first at line 2"))));
}

TEST(ResultAssemblerTest, IdAnsweredTwiceWithinOneShardIsRejected) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  EXPECT_THAT(a.Add(Task(5, kBenchmark, "cand"),
                    Result(2, {{2, 4, {0, 0}}, {0, 5, {0, 0}}, {2, 9, {0, 0}}}, {"yes"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("cand_b.jsonl:9"), HasSubstr("duplicate id 'b2'"),
                             HasSubstr("first at line 4"))));
}

TEST(ResultAssemblerTest, UnansweredReferenceRowIsNamedByIdFileAndLine) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  ASSERT_OK(a.Add(Task(0, kTarget, "base"), FullTarget()));
  ASSERT_OK(a.Add(Task(1, kTarget, "cand"), Result(1, {{0, 1, {1}}, {1, 2, {1}}, {3, 3, {1}}})));
  ASSERT_OK(a.Add(Task(2, kBenchmark, "base"), FullBenchmark()));
  ASSERT_OK(a.Add(Task(3, kBenchmark, "cand"), FullBenchmark()));
  EXPECT_THAT(std::move(a).Finish(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("cand_t.jsonl: missing prediction for id 't2' "
                                       "(t_refs.jsonl:4)"),
                             Not(HasSubstr("more")))));
}

TEST(ResultAssemblerTest, SeveralUnansweredRowsNameTheFirstAndCountTheRest) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  ASSERT_OK(a.Add(Task(0, kTarget, "base"), FullTarget()));
  ASSERT_OK(a.Add(Task(1, kTarget, "cand"), FullTarget()));
  ASSERT_OK(a.Add(Task(2, kBenchmark, "base"), Result(2, {{1, 1, {0, 0}}}, {"yes"})));
  ASSERT_OK(a.Add(Task(3, kBenchmark, "cand"), FullBenchmark()));
  EXPECT_THAT(std::move(a).Finish(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("base_b.jsonl: missing prediction for id 'b0' (b_refs.jsonl:2) "
                                 "and 1 more ids")));
}

TEST(ResultAssemblerTest, UnansweredRowFallsBackToRowNumberWhenLookupFails) {
  const emar::v1::JobSpec spec = Spec();
  ReferenceLookup failing = [](int, size_t) {
    return absl::StatusOr<std::pair<std::string, uint64_t>>(absl::NotFoundError("no blob"));
  };
  for (const ReferenceLookup& lookup : {failing, ReferenceLookup()}) {
    ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, lookup);
    ASSERT_OK(a.Add(Task(0, kTarget, "base"), Result(1, {{0, 1, {1}}, {1, 2, {1}}, {3, 3, {1}}})));
    ASSERT_OK(a.Add(Task(1, kTarget, "cand"), FullTarget()));
    ASSERT_OK(a.Add(Task(2, kBenchmark, "base"), FullBenchmark()));
    ASSERT_OK(a.Add(Task(3, kBenchmark, "cand"), FullBenchmark()));
    // Row index 2 is the third reference row.
    EXPECT_THAT(std::move(a).Finish(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("base_t.jsonl: missing prediction for reference row 3")));
  }
}

TEST(ResultAssemblerTest, DuplicateFallsBackToRowNumberWhenLookupFails) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, ReferenceLookup());
  EXPECT_THAT(a.Add(Task(0, kTarget, "cand"), Result(1, {{0, 3, {1}}, {0, 8, {1}}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cand_t.jsonl:8: duplicate reference row 1 (first at line 3)")));
}

TEST(ResultAssemblerTest, ResultWithWrongStatsWidthIsRejected) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  // Two columns for accuracy, which has one.
  EXPECT_THAT(
      a.Add(Task(7, kTarget, "base"), Result(2, {{0, 1, {1, 0}}})),
      StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("shard 7 result is malformed"),
                                                         HasSubstr("metric 'accuracy' needs 1"))));
}

TEST(ResultAssemblerTest, ResultWithMismatchedCountsIsRejected) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  emar::v1::ShardResult missing_line = Result(1, {{0, 1, {1}}, {1, 2, {1}}});
  missing_line.mutable_line()->RemoveLast();
  EXPECT_THAT(a.Add(Task(1, kTarget, "base"), missing_line),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed")));
  emar::v1::ShardResult extra_value = Result(1, {{0, 1, {1}}, {1, 2, {1}}});
  extra_value.add_stats(1);
  EXPECT_THAT(a.Add(Task(2, kTarget, "base"), extra_value),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("shard 2 result is malformed"), HasSubstr("3 values"))));
  // Neither rejected result left rows behind: the same rows can still be added once.
  ASSERT_OK(a.Add(Task(3, kTarget, "base"), FullTarget()));
}

TEST(ResultAssemblerTest, ReferenceRowOutOfRangeIsRejected) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  EXPECT_THAT(a.Add(Task(4, kTarget, "cand"), Result(1, {{0, 1, {1}}, {4, 2, {1}}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("shard 4 result names reference row 4 of 4")));
  EXPECT_THAT(a.Add(Task(5, kBenchmark, "cand"), Result(2, {{3, 1, {0, 0}}}, {"yes"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reference row 3 of 3")));
}

TEST(ResultAssemblerTest, UnknownModelOrRoleIsRejected) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  EXPECT_THAT(a.Add(Task(9, kTarget, "ghost"), FullTarget()),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("shard 9 names unknown model")));
  EXPECT_THAT(a.Add(Task(10, emar::v1::DATASET_ROLE_UNSPECIFIED, "base"), FullTarget()),
              StatusIs(absl::StatusCode::kInternal,
                       AllOf(HasSubstr("shard 10 names unknown role 0"), Not(HasSubstr("model")))));
}

TEST(ResultAssemblerTest, LabelIdOutsideTheShardTableIsRejected) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  EXPECT_THAT(a.Add(Task(3, kBenchmark, "base"), Result(2, {{0, 1, {0, 2}}}, {"yes", "no"})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("shard 3"),
                             HasSubstr("label id 2, not an index into its label table of 2"))));
  EXPECT_THAT(a.Add(Task(4, kBenchmark, "cand"), Result(2, {{0, 1, {-1, 0}}}, {"yes"})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("label id -1, not an index")));
  // No label table at all.
  EXPECT_THAT(a.Add(Task(5, kBenchmark, "cand"), Result(2, {{1, 1, {0, 0}}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("label id 0, not an index")));
  // A fractional id would have been truncated to a valid one; huge, infinite and NaN ids would
  // have been cast with undefined behaviour.
  for (double bad : {0.5, -0.5, 1e300, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_THAT(a.Add(Task(6, kBenchmark, "cand"), Result(2, {{1, 1, {0, bad}}}, {"yes", "no"})),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an index")))
        << bad;
  }
  // None of the refused results left a row behind.
  ASSERT_OK(a.Add(Task(7, kBenchmark, "cand"), FullBenchmark()));
}

TEST(ResultAssemblerTest, LineZeroIsRejectedSoItCannotHideADuplicate) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  // Line 0 once marked "not seen yet": the second answer for row 1 slipped past the check.
  EXPECT_THAT(
      a.Add(Task(2, kTarget, "base"), Result(1, {{1, 0, {1}}, {1, 5, {0}}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("shard 2 result names line 0"), HasSubstr("lines count from 1"))));
}

TEST(ResultAssemblerTest, LinesBeyondThirtyTwoBitsAreRejected) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  // Lines are kept in 32 bits: one beyond is an error, not a line number cut short.
  EXPECT_THAT(
      a.Add(Task(2, kTarget, "base"), Result(1, {{0, 3, {1}}, {1, uint64_t{1} << 32, {0}}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr(":4294967296: outputs files of more than 4294967295 lines")));
  // The refused result left no row behind.
  ASSERT_OK(a.Add(Task(3, kTarget, "base"), Result(1, {{0, 3, {1}}, {1, 4294967295u, {0}}})));
}

TEST(ResultAssemblerTest, MoreDistinctLabelsThanTheMetricSupportsAreRejected) {
  const emar::v1::JobSpec spec = Spec();
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  std::vector<std::string> first, second;
  for (size_t i = 0; i < kMaxLabels; ++i) first.push_back(absl::StrCat("l", i));
  second = {"l0", absl::StrCat("l", kMaxLabels)};  // one new label: kMaxLabels + 1 in all
  ASSERT_OK(a.Add(Task(0, kBenchmark, "base"), Result(2, {{0, 1, {0, 1}}}, first)));
  EXPECT_THAT(a.Add(Task(1, kBenchmark, "base"), Result(2, {{1, 2, {0, 1}}}, second)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("dataset 'b'"), HasSubstr("more than 2048 distinct labels"),
                             HasSubstr("macro_f1"))));
}

TEST(ResultAssemblerTest, UnknownMetricFailsAddAndFinish) {
  const emar::v1::JobSpec spec = Spec("no_such_metric");
  ResultAssembler a(spec, {kTargetRows, kBenchmarkRows}, Lookup);
  EXPECT_THAT(a.Add(Task(0, kTarget, "base"), FullTarget()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no_such_metric")));
  EXPECT_THAT(std::move(a).Finish(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no_such_metric")));
}

}  // namespace
}  // namespace emar
