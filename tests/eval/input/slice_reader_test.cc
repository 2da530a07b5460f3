// Tests of eval/input/slice_reader.h.
#include "eval/input/slice_reader.h"

#include <string>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SliceReaderTest, ReadsOneSliceNamePerRowInOrderOfFirstAppearance) {
  const std::string data =
      "{\"id\": 1, \"reference\": \"a\", \"subject\": \"law\"}\n"
      "\n"  // blank lines are not rows
      "{\"id\": 2, \"reference\": \"b\", \"subject\": \"math\"}\n"
      "{\"subject\": \"law\", \"id\": 3, \"reference\": \"c\"}\n";
  ASSERT_OK_AND_ASSIGN(SliceColumn s, ReadSlices("refs.jsonl", data, "subject"));
  EXPECT_THAT(s.names, ElementsAre("law", "math"));
  EXPECT_THAT(s.of_row, ElementsAre(0, 1, 0));
}

TEST(SliceReaderTest, FollowsDottedPathsAndRendersNumbersAndBooleansCanonically) {
  const std::string data =
      "{\"id\": 1, \"meta\": {\"level\": 1}}\n"
      "{\"id\": 2, \"meta\": {\"level\": 1.0}}\n"
      "{\"id\": 3, \"meta\": {\"level\": true}}\n";
  ASSERT_OK_AND_ASSIGN(SliceColumn s, ReadSlices("r.jsonl", data, "meta.level"));
  EXPECT_THAT(s.names, ElementsAre("1", "true"));
  EXPECT_THAT(s.of_row, ElementsAre(0, 0, 1));
  ASSERT_OK_AND_ASSIGN(SliceColumn t,
                       ReadSlices("r.jsonl", "{\"tags\": [\"de\", \"en\"]}\n", "tags.1"));
  EXPECT_THAT(t.names, ElementsAre("en"));
}

TEST(SliceReaderTest, AMissingOrUnusableValueNamesFileLineAndField) {
  const std::string missing = "{\"id\": 1, \"subject\": \"law\"}\n\n{\"id\": 2}\n";
  EXPECT_THAT(ReadSlices("data/mmlu.jsonl", missing, "subject"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("data/mmlu.jsonl:3: field 'subject' (slice_field): missing")));
  const std::string object = "{\"id\": 1, \"subject\": {\"a\": 1}}\n";
  EXPECT_THAT(ReadSlices("r.jsonl", object, "subject"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("r.jsonl:1: field 'subject' (slice_field): expected a string, "
                                 "number or boolean")));
}

}  // namespace
}  // namespace emar
