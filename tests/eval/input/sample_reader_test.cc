// Tests of eval/input/sample_reader.h.
#include "eval/input/sample_reader.h"

#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<std::vector<SampleRecord>> ReadAll(const std::string& data,
                                                  const FieldConfig& config = {},
                                                  absl::string_view sample_field = "sample") {
  SampleReader reader("out.jsonl", data, 1, config, sample_field);
  std::vector<SampleRecord> records;
  SampleRecord rec;
  for (;;) {
    ASSIGN_OR_RETURN(const bool more, reader.Next(&rec));
    if (!more) return records;
    records.push_back(rec);
  }
}

TEST(SampleReaderTest, ReadsIdPredictionAndSampleIndex) {
  ASSERT_OK_AND_ASSIGN(std::vector<SampleRecord> r,
                       ReadAll("{\"id\": \"q1\", \"sample\": 0, \"prediction\": \"a\"}\n"
                               "\n"
                               "{\"sample\": 1, \"prediction\": 7, \"id\": 5}\n"
                               "{\"id\": \"q1\", \"sample\": \"2\", \"prediction\": \"c\"}"));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id, "q1");
  EXPECT_EQ(r[0].sample, 0u);
  EXPECT_EQ(r[0].prediction.text, "a");
  EXPECT_EQ(r[0].line, 1u);
  EXPECT_EQ(r[1].id, "5");
  EXPECT_EQ(r[1].sample, 1u);
  EXPECT_EQ(r[1].prediction.text, "7");
  EXPECT_EQ(r[1].line, 3u);
  EXPECT_EQ(r[2].sample, 2u);
}

TEST(SampleReaderTest, ConfiguredFieldsAndDottedSamplePath) {
  FieldConfig config;
  config.id_field = "doc_id";
  config.prediction_field = "resps.0";
  ASSERT_OK_AND_ASSIGN(
      std::vector<SampleRecord> r,
      ReadAll(R"({"doc_id": 3, "meta": {"k": 4}, "resps": ["x", "y"]})", config, "meta.k"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, "3");
  EXPECT_EQ(r[0].sample, 4u);
  EXPECT_EQ(r[0].prediction.text, "x");
}

TEST(SampleReaderTest, BadSampleIndexNamesFileLineAndField) {
  EXPECT_THAT(ReadAll("{\"id\": 1, \"sample\": 0, \"prediction\": \"a\"}\n"
                      "{\"id\": 1, \"sample\": 1.5, \"prediction\": \"a\"}\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out.jsonl:2: field 'sample': expected a non-negative integer, "
                                 "got \"1.5\"")));
  EXPECT_THAT(ReadAll("{\"id\": 1, \"sample\": -1, \"prediction\": \"a\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got \"-1\"")));
  EXPECT_THAT(ReadAll("{\"id\": 1, \"prediction\": \"a\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out.jsonl:1: missing field 'sample'")));
  EXPECT_THAT(ReadAll("{\"id\": 1, \"sample\": 0}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("out.jsonl:1: missing field 'prediction'")));
  EXPECT_THAT(ReadAll("{\"id\": 1, \"sample\": 0, \"prediction\": \"a\"", {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out.jsonl:1: malformed")));
}

}  // namespace
}  // namespace emar
