#include "eval/input/reference_table.h"

#include <string>

#include "absl/strings/str_cat.h"
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

TEST(ReferenceTableTest, OneReferenceReadsManyRows) {
  // A caller reading rows into one Reference gets each row's texts exactly, whatever the row
  // before held: more texts, fewer, longer, an embedded NUL, none.
  const std::string long_text(300, 'L');
  const std::string data =
      absl::StrCat("{\"id\": \"a\", \"references\": [\"x\", \"y\", \"z\"]}\n",
                   "{\"id\": \"b\", \"reference\": \"", long_text, "\"}\n",
                   "{\"id\": \"c\", \"references\": [\"nul\\u0000in\", \"\"]}\n",
                   "{\"id\": \"d\", \"reference\": \"w\"}\n");
  ASSERT_OK_AND_ASSIGN(ReferenceTable t, ReferenceTable::Parse("d", data, {}));
  Reference r;
  t.ReadReference(0, &r);
  EXPECT_THAT(r.texts, ElementsAre("x", "y", "z"));
  t.ReadReference(1, &r);
  EXPECT_THAT(r.texts, ElementsAre(long_text));
  t.ReadReference(2, &r);
  EXPECT_THAT(r.texts, ElementsAre(std::string("nul\0in", 6), ""));
  t.ReadReference(3, &r);
  EXPECT_THAT(r.texts, ElementsAre("w"));
  // Lookup finds the same row as Find, and reads the same texts from where it found it.
  for (const char* id : {"a", "b", "c", "d"}) {
    const std::optional<ReferenceTable::Match> m = t.Lookup(id, ReferenceTable::HashId(id));
    ASSERT_TRUE(m.has_value()) << id;
    EXPECT_EQ(m->row, t.Find(id));
    Reference found;
    t.ReadReference(*m, &found);
    EXPECT_EQ(found.texts, t.reference(m->row).texts) << id;
  }
  EXPECT_EQ(t.Lookup("e", ReferenceTable::HashId("e")), std::nullopt);
}

TEST(ReferenceTableTest, RowsLargerThanTheirLinesStillFit) {
  // Numbers rendered as labels, and short field names, make rows take more room than their
  // JSON: the table grows past what it reserved and keeps every row.
  std::string data;
  for (int i = 0; i < 2000; ++i) {
    absl::StrAppend(&data, "{\"i\":", i, ",\"r\":[1,2,3,4,5,6,7,8,9,1e3]}\n");
  }
  FieldConfig config;
  config.id_field = "i";
  config.reference_field = "r";
  for (int threads : {1, 2}) {
    ASSERT_OK_AND_ASSIGN(ReferenceTable t, ReferenceTable::Parse("d", data, config, threads));
    ASSERT_EQ(t.size(), 2000u);
    for (int i : {0, 999, 1999}) {
      EXPECT_EQ(t.Find(absl::StrCat(i)), static_cast<uint32_t>(i));
      EXPECT_EQ(t.reference(i).texts.size(), 10u);
      EXPECT_EQ(t.reference(i).texts[9], t.reference(0).texts[9]);
    }
  }
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

// A file of `rows` rows over more than 4 MB (the size from which two threads split it), with a
// blank line and a CRLF line here and there.
std::string LargeReferences(int rows) {
  std::string data;
  for (int i = 0; i < rows; ++i) {
    absl::StrAppend(&data, "{\"id\": \"q", i, "\", \"references\": [\"answer number ", i, "\", \"",
                    i % 97, "\"]}", i % 1000 == 7 ? "\r\n" : "\n");
    if (i % 5000 == 11) data += "\n";
  }
  return data;
}

TEST(ReferenceTableTest, TwoThreadsMakeTheSameTable) {
  const std::string data = LargeReferences(120000);
  ASSERT_GT(data.size(), 4u << 20);
  ASSERT_OK_AND_ASSIGN(ReferenceTable one, ReferenceTable::Parse("r.jsonl", data, {}, 1));
  ASSERT_OK_AND_ASSIGN(ReferenceTable two, ReferenceTable::Parse("r.jsonl", data, {}, 2));
  ASSERT_EQ(one.size(), 120000u);
  ASSERT_EQ(two.size(), one.size());
  for (size_t r = 0; r < one.size(); ++r) {
    ASSERT_EQ(two.id(r), one.id(r)) << r;
    ASSERT_EQ(two.line(r), one.line(r)) << r;
    ASSERT_EQ(two.reference(r).texts, one.reference(r).texts) << r;
    ASSERT_EQ(two.Find(one.id(r)), r);
  }
  EXPECT_EQ(two.line(119999), 120000u + 119999 / 5000 + 1);  // blank lines count
}

TEST(ReferenceTableTest, TwoThreadsReportTheSameErrors) {
  const std::string good = LargeReferences(120000);
  const size_t late = good.size() * 3 / 4;  // a line in the second half
  const size_t late_line_start = good.rfind('\n', late) + 1;
  std::string bad_json = good;
  bad_json.insert(late_line_start, "{\"id\": \"x\", \"references\": [}\n");
  // A duplicate of an id from the first half, in the second half.
  std::string duplicate = good;
  duplicate.insert(late_line_start, "{\"id\": \"q17\", \"reference\": \"a\"}\n");
  // A bad line in the first half and a duplicate after it: the bad line is reported.
  std::string both = duplicate;
  both.insert(good.find('\n', 1000) + 1, "not json\n");
  for (const std::string* data : {&bad_json, &duplicate, &both}) {
    const absl::Status one = ReferenceTable::Parse("r.jsonl", *data, {}, 1).status();
    const absl::Status two = ReferenceTable::Parse("r.jsonl", *data, {}, 2).status();
    ASSERT_FALSE(one.ok());
    EXPECT_EQ(two, one);
  }
  EXPECT_THAT(ReferenceTable::Parse("r.jsonl", duplicate, {}, 2).status().message(),
              HasSubstr("duplicate id 'q17' (first at line 19)"));
}

TEST(ReferenceTableTest, DroppedTextsKeepIdsLinesAndErrors) {
  const std::string good = LargeReferences(120000);
  ASSERT_OK_AND_ASSIGN(ReferenceTable kept, ReferenceTable::Parse("r.jsonl", good, {}, 2));
  for (int threads : {1, 2}) {
    ASSERT_OK_AND_ASSIGN(ReferenceTable ids, ReferenceTable::Parse("r.jsonl", good, {}, threads,
                                                                   ReferenceTable::Texts::kDrop));
    ASSERT_EQ(ids.size(), kept.size());
    for (size_t r = 0; r < kept.size(); r += 997) {
      ASSERT_EQ(ids.id(r), kept.id(r)) << r;
      ASSERT_EQ(ids.line(r), kept.line(r)) << r;
      ASSERT_TRUE(ids.reference(r).texts.empty()) << r;
      ASSERT_EQ(ids.Find(kept.id(r)), r);
    }
  }
  const size_t late_line_start = good.rfind('\n', good.size() * 3 / 4) + 1;
  for (const char* line : {"{\"id\": \"q17\", \"reference\": \"a\"}\n",
                           "{\"id\": \"x\", \"references\": []}\n", "{\"id\": \"y\"}\n"}) {
    std::string bad = good;
    bad.insert(late_line_start, line);
    const absl::Status kept_error = ReferenceTable::Parse("r.jsonl", bad, {}, 2).status();
    ASSERT_FALSE(kept_error.ok());
    EXPECT_EQ(ReferenceTable::Parse("r.jsonl", bad, {}, 2, ReferenceTable::Texts::kDrop).status(),
              kept_error);
  }
}

}  // namespace
}  // namespace emar
