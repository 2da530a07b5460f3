#include "eval/input/prediction_reader.h"

#include <string>
#include <vector>

#include "eval/input/shard_splitter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/input/input_test_util.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Row {
  std::string id;
  std::string text;
  uint64_t line;
  bool operator==(const Row& o) const { return id == o.id && text == o.text && line == o.line; }
};

std::ostream& operator<<(std::ostream& os, const Row& r) {
  return os << "{" << r.id << ", " << r.text << ", line " << r.line << "}";
}

absl::StatusOr<std::vector<Row>> ReadAll(absl::string_view data, uint64_t first_line = 1,
                                         const FieldConfig& config = {}) {
  PredictionReader reader("out/x.jsonl", data, first_line, config);
  std::vector<Row> rows;
  PredictionRecord record;
  while (true) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&record));
    if (!more) break;
    rows.push_back({record.id, record.prediction.text, record.line});
  }
  EXPECT_EQ(reader.rows(), rows.size());
  return rows;
}

TEST(PredictionReaderTest, StreamsRecordsWithLineNumbers) {
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, ReadAll("{\"id\": \"a\", \"prediction\": \"x\"}\n\n"
                                                      "{\"id\": 2, \"prediction\": 2.0}\r\n"
                                                      "{\"id\": \"c\", \"prediction\": true}"));
  EXPECT_THAT(rows, ElementsAre(Row{"a", "x", 1}, Row{"2", "2", 3}, Row{"c", "true", 4}));
}

TEST(PredictionReaderTest, ShardLineNumbersStartAtFirstLine) {
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows,
                       ReadAll("{\"id\": \"a\", \"prediction\": \"x\"}\n", 101));
  EXPECT_THAT(rows, ElementsAre(Row{"a", "x", 101}));
  EXPECT_THAT(
      ReadAll("\n{\"id\": \"a\"}\n", 16),
      StatusIs(absl::StatusCode::kInvalidArgument, "out/x.jsonl:17: missing field 'prediction'"));
}

TEST(PredictionReaderTest, EmptyShardHasNoRecords) {
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, ReadAll(""));
  EXPECT_TRUE(rows.empty());
  ASSERT_OK_AND_ASSIGN(rows, ReadAll("\xEF\xBB\xBF\n \n"));
  EXPECT_TRUE(rows.empty());
}

TEST(PredictionReaderTest, ErrorsNameFileLineAndField) {
  EXPECT_THAT(ReadAll("{\"id\": \"a\", \"prediction\": \"x\"}\n"
                      "{\"id\": \"b\", \"prediction\": {\"t\": 1}}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "out/x.jsonl:2: field 'prediction': expected a string, number or "
                       "boolean, got object"));
  EXPECT_THAT(
      ReadAll("{\"id\": \"a\", \"prediction\": \"x\"}\n\n\n{\"id\": \"b\", \"pre"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out/x.jsonl:4: malformed JSON")));
  EXPECT_THAT(ReadAll("\n\n\n\n{\"id\": \"b\", \"prediction\": \"\xC0\xAF\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument, "out/x.jsonl:5: invalid UTF-8"));
  EXPECT_THAT(ReadAll("{\"prediction\": \"x\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument, "out/x.jsonl:1: missing field 'id'"));
}

// Trailing content and bad log-probs name the file, the line and the column or field.
TEST(PredictionReaderTest, TrailingContentAndBadLogprobsNameFileLineAndField) {
  EXPECT_THAT(
      ReadAll("{\"id\": \"a\", \"prediction\": \"x\"}\n"
              "{\"id\": \"b\", \"prediction\": \"x\"} garbage\n"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "out/x.jsonl:2: malformed JSON at column 32: content after the JSON object"));
  EXPECT_THAT(ReadAll(std::string("{\"id\": \"a\", \"prediction\": \"x\"}") + '\0' + "\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "out/x.jsonl:1: malformed JSON at column 31: a NUL byte after the JSON "
                       "object"));
  EXPECT_THAT(ReadAll("\n{\"id\": \"a\", \"prediction\": \"x\", \"token_logprobs\": [+5]}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out/x.jsonl:2: field 'token_logprobs': element 0: +5 is not a "
                                 "JSON number")));
}

TEST(PredictionReaderTest, ErrorIsSticky) {
  PredictionReader reader("o.jsonl", "{\"id\": 1}\n{\"id\": 2, \"prediction\": \"ok\"}\n", 1, {});
  PredictionRecord record;
  EXPECT_THAT(reader.Next(&record), StatusIs(absl::StatusCode::kInvalidArgument,
                                             "o.jsonl:1: missing field 'prediction'"));
  EXPECT_THAT(reader.Next(&record), StatusIs(absl::StatusCode::kInvalidArgument,
                                             "o.jsonl:1: missing field 'prediction'"));
}

TEST(PredictionReaderTest, BadConfigFailsEveryNext) {
  FieldConfig config;
  config.prediction_field = ".x";
  PredictionReader reader("o.jsonl", "{}", 1, config);
  PredictionRecord record;
  EXPECT_THAT(reader.Next(&record),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad field path '.x'")));
}

TEST(PredictionReaderTest, LogprobsPerRecord) {
  PredictionReader reader("o.jsonl",
                          "{\"id\": 1, \"prediction\": \"\", \"token_logprobs\": [-1.5, -0.5]}\n"
                          "{\"id\": 2, \"prediction\": \"\"}\n",
                          1, {});
  PredictionRecord record;
  ASSERT_OK_AND_ASSIGN(bool more, reader.Next(&record));
  ASSERT_TRUE(more);
  EXPECT_TRUE(record.prediction.has_logprobs);
  EXPECT_THAT(record.prediction.token_logprobs, ElementsAre(-1.5, -0.5));
  ASSERT_OK_AND_ASSIGN(more, reader.Next(&record));
  ASSERT_TRUE(more);
  EXPECT_FALSE(record.prediction.has_logprobs);
  EXPECT_TRUE(record.prediction.token_logprobs.empty());
  ASSERT_OK_AND_ASSIGN(more, reader.Next(&record));
  EXPECT_FALSE(more);
}

TEST(PredictionReaderTest, LmEvalHarnessSamples) {
  const std::string data = input_test::ReadTestdata("input/lm_eval_samples.jsonl");
  FieldConfig config;
  config.id_field = "doc_id";
  config.prediction_field = "filtered_resps.0";
  config.reference_field = "target";
  ASSERT_OK_AND_ASSIGN(std::vector<Row> rows, ReadAll(data, 1, config));
  EXPECT_THAT(rows, ElementsAre(Row{"0", "negative", 1}, Row{"1", "positive", 2},
                                Row{"2", " positive", 3}, Row{"3", "3.0", 4}));
}

TEST(PredictionReaderTest, ShardsReadTheSameRecordsAsTheWholeFile) {
  std::string data = "\xEF\xBB\xBF";
  for (int i = 0; i < 500; ++i) {
    data += "{\"id\": \"r" + std::to_string(i) + "\", \"prediction\": \"" +
            std::string(i % 17, 'x') + "\"}" + (i % 3 == 0 ? "\r\n" : "\n");
    if (i % 7 == 0) data += "\n  \n";
  }
  data.pop_back();  // no final newline
  ASSERT_OK_AND_ASSIGN(std::vector<Row> whole, ReadAll(data));
  ASSERT_EQ(whole.size(), 500u);
  for (uint64_t per_shard : {1, 3, 64, 499, 500, 1000}) {
    std::vector<Row> joined;
    for (const LineRange& r : SplitIntoShards(data, per_shard)) {
      ASSERT_OK_AND_ASSIGN(
          std::vector<Row> part,
          ReadAll(absl::string_view(data).substr(r.offset, r.length), r.first_line));
      EXPECT_EQ(part.size(), r.rows);
      joined.insert(joined.end(), part.begin(), part.end());
    }
    EXPECT_EQ(joined, whole) << "rows_per_shard " << per_shard;
  }
}

}  // namespace
}  // namespace emar
