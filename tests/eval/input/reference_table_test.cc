#include "eval/input/reference_table.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/input/input_test_util.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ReferenceTableTest, RowsLinesAndLookup) {
  const std::string data =
      "{\"id\": \"r1\", \"reference\": \"positive\"}\n"
      "\n"
      "{\"id\": \"r2\", \"references\": [\"a\", \"b\"]}\n"
      "{\"id\": 3, \"reference\": 1.0}";
  ASSERT_OK_AND_ASSIGN(ReferenceTable t, ReferenceTable::Parse("data/t.jsonl", data, {}));
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.id(0), "r1");
  EXPECT_EQ(t.id(1), "r2");
  EXPECT_EQ(t.id(2), "3");
  EXPECT_THAT(t.reference(0).texts, ElementsAre("positive"));
  EXPECT_THAT(t.reference(1).texts, ElementsAre("a", "b"));
  EXPECT_THAT(t.reference(2).texts, ElementsAre("1"));
  EXPECT_EQ(t.line(0), 1u);
  EXPECT_EQ(t.line(1), 3u);
  EXPECT_EQ(t.line(2), 4u);
  EXPECT_EQ(t.Find("r2"), 1u);
  EXPECT_EQ(t.Find("3"), 2u);
  EXPECT_EQ(t.Find("r4"), std::nullopt);
}

TEST(ReferenceTableTest, ReusedBuffersDoNotLeakBetweenRows) {
  const std::string data =
      "{\"id\": \"a\", \"references\": [\"x\", \"y\", \"z\"]}\n"
      "{\"id\": \"b\", \"reference\": \"w\"}\n";
  ASSERT_OK_AND_ASSIGN(ReferenceTable t, ReferenceTable::Parse("d", data, {}));
  EXPECT_THAT(t.reference(0).texts, ElementsAre("x", "y", "z"));
  EXPECT_THAT(t.reference(1).texts, ElementsAre("w"));
}

TEST(ReferenceTableTest, DuplicateIdNamesBothLines) {
  const std::string data =
      "{\"id\": \"r1\", \"reference\": \"a\"}\n\n"
      "{\"id\": \"r17\", \"reference\": \"a\"}\n"
      "{\"id\": \"r2\", \"reference\": \"a\"}\n"
      "{\"id\": \"r17\", \"reference\": \"b\"}\n";
  EXPECT_THAT(ReferenceTable::Parse("data/target.jsonl", data, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "data/target.jsonl:5: duplicate id 'r17' (first at line 3)"));
}

TEST(ReferenceTableTest, IntegerAndStringIdsCollide) {
  // Ids are compared as rendered text: 7 and "7" are the same example.
  EXPECT_THAT(ReferenceTable::Parse("d.jsonl",
                                    "{\"id\": 7, \"reference\": \"a\"}\n"
                                    "{\"id\": \"7\", \"reference\": \"a\"}\n",
                                    {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "d.jsonl:2: duplicate id '7' (first at line 1)"));
}

TEST(ReferenceTableTest, ErrorsNameFileLineAndField) {
  EXPECT_THAT(
      ReferenceTable::Parse("data/t.jsonl",
                            "{\"id\": \"a\", \"reference\": \"x\"}\n{\"reference\": \"y\"}\n", {}),
      StatusIs(absl::StatusCode::kInvalidArgument, "data/t.jsonl:2: missing field 'id'"));
  EXPECT_THAT(ReferenceTable::Parse("data/t.jsonl", "\n{\"id\": \"a\"}\n", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "data/t.jsonl:2: missing field 'reference' (or 'references' for a list)"));
  EXPECT_THAT(ReferenceTable::Parse("data/t.jsonl", "{\"id\": \"a\", \"references\": []}", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "data/t.jsonl:1: field 'references': empty reference list"));
  EXPECT_THAT(ReferenceTable::Parse("data/t.jsonl", "{\"id\": [1], \"reference\": \"x\"}", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "data/t.jsonl:1: field 'id': expected a string or integer, got array"));
  EXPECT_THAT(
      ReferenceTable::Parse("data/t.jsonl", "{\"id\": \"a\", \"reference\": \"x\"\n", {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("data/t.jsonl:1: malformed JSON")));
  EXPECT_THAT(ReferenceTable::Parse("data/t.jsonl",
                                    "{\"id\": \"a\", \"reference\": \"x\"}\n"
                                    "{\"id\": \"b\", \"reference\": \"\xFF\"}\n",
                                    {}),
              StatusIs(absl::StatusCode::kInvalidArgument, "data/t.jsonl:2: invalid UTF-8"));
}

TEST(ReferenceTableTest, EmptyFile) {
  for (const std::string data : {"", "\n\n  \n", "\xEF\xBB\xBF", "\r\n"}) {
    EXPECT_THAT(
        ReferenceTable::Parse("data/t.jsonl", data, {}),
        StatusIs(absl::StatusCode::kInvalidArgument, "data/t.jsonl: empty file (no JSON lines)"))
        << "data: '" << data << "'";
  }
}

TEST(ReferenceTableTest, BomAndCrlf) {
  ASSERT_OK_AND_ASSIGN(ReferenceTable t,
                       ReferenceTable::Parse("d",
                                             "\xEF\xBB\xBF{\"id\": \"a\", \"reference\": \"x\"}\r\n"
                                             "\r\n"
                                             "{\"id\": \"b\", \"reference\": \"y\"}\r\n",
                                             {}));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.id(0), "a");
  EXPECT_EQ(t.line(1), 3u);
  EXPECT_THAT(t.reference(1).texts, ElementsAre("y"));
}

TEST(ReferenceTableTest, BadFieldConfigIsAnError) {
  FieldConfig config;
  config.reference_field = "x..y";
  EXPECT_THAT(ReferenceTable::Parse("d", "{}", config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad field path")));
}

TEST(ReferenceTableTest, LmEvalHarnessSamples) {
  const std::string data = input_test::ReadTestdata("input/lm_eval_samples.jsonl");
  FieldConfig config;
  config.id_field = "doc_id";
  config.prediction_field = "filtered_resps.0";
  config.reference_field = "target";
  ASSERT_OK_AND_ASSIGN(ReferenceTable t,
                       ReferenceTable::Parse("samples_sentiment.jsonl", data, config));
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t.id(0), "0");
  EXPECT_THAT(t.reference(0).texts, ElementsAre("negative"));
  EXPECT_THAT(t.reference(1).texts, ElementsAre("positive"));
  EXPECT_THAT(t.reference(2).texts, ElementsAre("neutral"));
  EXPECT_THAT(t.reference(3).texts, ElementsAre("3"));
  EXPECT_EQ(t.Find("3"), 3u);
}

}  // namespace
}  // namespace emar
