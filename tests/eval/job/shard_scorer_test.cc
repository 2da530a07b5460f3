#include "eval/job/shard_scorer.h"

#include "common/status_matchers.h"
#include "eval/job/field_names.h"
#include "eval/metrics/metric_registry.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kRefs[] = R"({"id": "a", "reference": "pos"}
{"id": "b", "reference": "neg"}
{"id": "c", "references": ["pos", "neutral"]}
)";

emar::v1::ShardTask Task(const std::string& metric, int64_t first_line = 1) {
  emar::v1::ShardTask t;
  t.set_metric(metric);
  t.set_first_line(first_line);
  t.mutable_outputs()->set_display_name("out/m.jsonl");
  t.mutable_references()->set_display_name("data/refs.jsonl");
  return t;
}

ReferenceTable Refs() { return *ReferenceTable::Parse("data/refs.jsonl", kRefs, FieldConfig()); }

TEST(ShardScorerTest, JoinsByIdInAnyOrderAndRecordsRowsAndLines) {
  const ReferenceTable refs = Refs();
  auto metric = *MakeMetric("accuracy");
  ASSERT_OK_AND_ASSIGN(auto r, ScoreShard(Task("accuracy", 41),
                                          "{\"id\": \"c\", \"prediction\": \"neutral\"}\n"
                                          "{\"id\": \"a\", \"prediction\": \"neg\"}\n",
                                          refs, *metric));
  EXPECT_EQ(r.stats_width(), 1);
  EXPECT_THAT(r.reference_row(), ElementsAre(2, 0));
  EXPECT_THAT(r.line(), ElementsAre(41, 42));     // the shard starts at line 41 of its file
  EXPECT_THAT(r.stats(), ElementsAre(1.0, 0.0));  // any reference counts for accuracy
  EXPECT_EQ(r.nrefs(), "var");                    // c has two references, a one
}

TEST(ShardScorerTest, TalliesReferencesPerExampleForSacrebleuSignatures) {
  const ReferenceTable refs = Refs();
  auto metric = *MakeMetric("bleu");
  ASSERT_OK_AND_ASSIGN(auto one, ScoreShard(Task("bleu"),
                                            "{\"id\": \"b\", \"prediction\": \"neg\"}\n"
                                            "{\"id\": \"a\", \"prediction\": \"pos\"}\n",
                                            refs, *metric));
  EXPECT_EQ(one.nrefs(), "1");
  ReferenceCounts counts;
  counts.MergeNrefs(one.nrefs());
  EXPECT_THAT(metric->signature_for(counts), HasSubstr("nrefs:1|"));
  ASSERT_OK_AND_ASSIGN(auto none, ScoreShard(Task("bleu"), "", refs, *metric));
  EXPECT_EQ(none.nrefs(), "");  // no examples: no tally
}

// lm-evaluation-harness multiple-choice samples as outputs: the metric reads the responses and
// the choices (from `arguments`), the references table the target.
TEST(ShardScorerTest, MultipleChoiceMetricsReadHarnessSamples) {
  FieldConfig fields;
  fields.id_field = "doc_id";
  fields.reference_field = "target";
  const std::string samples =
      R"({"doc_id": 0, "target": "1", "arguments": {"gen_args_0": {"arg_0": "q", "arg_1": " aé"}, )"
      R"("gen_args_1": {"arg_0": "q", "arg_1": " bbbbb"}}, "filtered_resps": [["-2.0", "True"], )"
      R"(["-3.0", "False"]]})"
      "\n";
  ASSERT_OK_AND_ASSIGN(ReferenceTable refs, ReferenceTable::Parse("base.jsonl", samples, fields));
  emar::v1::ShardTask task = Task("mc_acc");
  task.mutable_fields()->set_id_field("doc_id");
  task.mutable_fields()->set_reference_field("target");
  task.mutable_fields()->set_prediction_field("filtered_resps");
  auto acc = *MakeMetric("mc_acc");
  auto norm = *MakeMetric("mc_acc_norm");
  ASSERT_OK_AND_ASSIGN(auto r_acc, ScoreShard(task, samples, refs, *acc));
  ASSERT_OK_AND_ASSIGN(auto r_norm, ScoreShard(task, samples, refs, *norm));
  EXPECT_THAT(r_acc.stats(), ElementsAre(0.0));   // argmax -2.0 is choice 0; gold is 1
  EXPECT_THAT(r_norm.stats(), ElementsAre(1.0));  // -2/2 (two code points) < -3/5
  // A text metric on the same file reads `filtered_resps` as a text and says why it cannot.
  task.set_metric("accuracy");
  EXPECT_THAT(ScoreShard(task, samples, refs, **MakeMetric("accuracy")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out/m.jsonl:1: ")));
  // A bad response names file, line and field.
  const std::string bad = R"({"doc_id": 0, "arguments": [["q", " a"]], "filtered_resps": [["x"]]})";
  task.set_metric("mc_acc");
  task.set_first_line(5);
  EXPECT_THAT(
      ScoreShard(task, bad, refs, *acc),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("out/m.jsonl:5: field 'filtered_resps.0': \"x\" is not a number")));
}

TEST(ShardScorerTest, UnknownAndDuplicateIdsNameFileLineAndId) {
  const ReferenceTable refs = Refs();
  auto metric = *MakeMetric("accuracy");
  EXPECT_THAT(
      ScoreShard(Task("accuracy", 10), "{\"id\": \"zz\", \"prediction\": \"pos\"}\n", refs,
                 *metric),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("out/m.jsonl:10: field 'id': unknown id 'zz' (not in data/refs.jsonl)")));
  EXPECT_THAT(
      ScoreShard(
          Task("accuracy"),
          "{\"id\": \"a\", \"prediction\": \"pos\"}\n\n{\"id\": \"a\", \"prediction\": \"neg\"}\n",
          refs, *metric),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("out/m.jsonl:3: duplicate id 'a' (first at line 1)")));
}

TEST(ShardScorerTest, LabelMetricsShipTheirShardLocalLabels) {
  const ReferenceTable refs = Refs();
  auto metric = *MakeMetric("macro_f1");
  const std::string outputs =
      "{\"id\": \"b\", \"prediction\": \"neg\"}\n{\"id\": \"a\", \"prediction\": \"neg\"}\n";
  ASSERT_OK_AND_ASSIGN(auto r, ScoreShard(Task("macro_f1"), outputs, refs, *metric));
  ASSERT_EQ(r.stats_width(), 2);
  ASSERT_EQ(r.stats_size(), 4);
  // Every id in the rows indexes the shipped table.
  for (double id : r.stats()) ASSERT_LT(static_cast<int>(id), r.labels_size());
  std::vector<std::string> labels(r.labels().begin(), r.labels().end());
  EXPECT_THAT(labels, ::testing::UnorderedElementsAre("neg", "pos"));
}

TEST(ShardScorerTest, MetricErrorsGetFileAndLine) {
  const ReferenceTable refs = Refs();
  auto metric = *MakeMetric("perplexity");
  EXPECT_THAT(
      ScoreShard(Task("perplexity", 7), "{\"id\": \"a\", \"prediction\": \"x\"}\n", refs, *metric),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out/m.jsonl:7: ")));
}

}  // namespace
}  // namespace emar
