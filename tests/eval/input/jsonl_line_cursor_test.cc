#include "eval/input/jsonl_line_cursor.h"

#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::vector<std::pair<uint64_t, std::string>> AllLines(absl::string_view data,
                                                       uint64_t first_line = 1) {
  JsonlLineCursor cursor(data, first_line);
  std::vector<std::pair<uint64_t, std::string>> out;
  absl::string_view line;
  uint64_t number;
  while (cursor.Next(&line, &number)) out.emplace_back(number, std::string(line));
  return out;
}

TEST(JsonlLineCursorTest, SkipsBlankLinesButCountsThem) {
  EXPECT_THAT(AllLines("{\"a\":1}\n\n  \t \n{\"b\":2}\n\n"),
              ElementsAre(Pair(1, "{\"a\":1}"), Pair(4, "{\"b\":2}")));
}

// Newlines are found a 64-byte block at a time: lines of every length around and across block
// edges, blank and CRLF ones among them, and a last line with or without its newline, come out
// as a plain split on "\n" gives them.
TEST(JsonlLineCursorTest, LinesOfEveryLengthAcrossBlocks) {
  for (bool final_newline : {true, false}) {
    std::string data;
    std::vector<std::pair<uint64_t, std::string>> expected;
    uint64_t number = 0;
    for (int len = 0; len < 200; ++len) {
      ++number;
      std::string line = len == 0 ? "" : "{" + std::string(static_cast<size_t>(len - 1), 'x');
      if (len % 7 == 3) line = std::string(static_cast<size_t>(len), ' ');  // blank
      const bool crlf = len % 5 == 1;
      if (!line.empty() && line[0] == '{') expected.emplace_back(number, line);
      data += line;
      if (crlf) data += "\r";
      if (len < 199 || final_newline) data += "\n";
    }
    EXPECT_EQ(AllLines(data), expected) << final_newline;
  }
}

TEST(JsonlLineCursorTest, CrlfAndMissingFinalNewline) {
  EXPECT_THAT(AllLines("{\"a\":1}\r\n\r\n{\"b\":2}"),
              ElementsAre(Pair(1, "{\"a\":1}"), Pair(3, "{\"b\":2}")));
}

TEST(JsonlLineCursorTest, LinesNeedNotStartWithABrace) {
  EXPECT_THAT(AllLines("  {\"a\":1}\n[1]\n"), ElementsAre(Pair(1, "  {\"a\":1}"), Pair(2, "[1]")));
}

TEST(JsonlLineCursorTest, ByteOrderMarkSkippedOnlyAtFileStart) {
  EXPECT_THAT(AllLines("\xEF\xBB\xBF{\"a\":1}\n"), ElementsAre(Pair(1, "{\"a\":1}")));
  // A shard from the middle of a file keeps its bytes: a BOM there is content, not a marker.
  EXPECT_THAT(AllLines("\xEF\xBB\xBF{\"a\":1}\n", 7),
              ElementsAre(Pair(7, "\xEF\xBB\xBF{\"a\":1}")));
  EXPECT_THAT(AllLines("\xEF\xBB\xBF"), ElementsAre());
}

TEST(JsonlLineCursorTest, EmptyAndBlankData) {
  EXPECT_THAT(AllLines(""), ElementsAre());
  EXPECT_THAT(AllLines("\n\n \r\n"), ElementsAre());
}

TEST(JsonlLineCursorTest, NumbersStartAtFirstLine) {
  EXPECT_THAT(AllLines("{}\n\n{}\n", 41), ElementsAre(Pair(41, "{}"), Pair(43, "{}")));
}

TEST(JsonlLineCursorTest, OffsetCountsConsumedBytes) {
  const std::string data = "{}\n\n{}";
  JsonlLineCursor cursor(data, 1);
  absl::string_view line;
  uint64_t number;
  ASSERT_TRUE(cursor.Next(&line, &number));
  EXPECT_EQ(cursor.offset(), 3u);
  ASSERT_TRUE(cursor.Next(&line, &number));
  EXPECT_EQ(cursor.offset(), data.size());
  EXPECT_FALSE(cursor.Next(&line, &number));
}

TEST(JsonlLineCursorTest, PaddedParsesInPlaceExceptNearTheEnd) {
  std::string data;
  for (int i = 0; i < 20; ++i) data += "{\"id\": \"" + std::to_string(i) + "\"}\n";
  JsonlLineCursor cursor(data, 1);
  absl::string_view line;
  uint64_t number;
  int in_place = 0, copied = 0;
  while (cursor.Next(&line, &number)) {
    simdjson::padded_string_view padded = cursor.Padded(line);
    EXPECT_EQ(std::string_view(padded), std::string_view(line.data(), line.size()));
    EXPECT_GE(padded.capacity(), padded.size() + simdjson::SIMDJSON_PADDING);
    if (padded.data() == line.data()) {
      ++in_place;
      // In place only when the padding lies inside `data`.
      EXPECT_LE(
          static_cast<size_t>(line.data() - data.data()) + line.size() + simdjson::SIMDJSON_PADDING,
          data.size());
    } else {
      ++copied;
    }
  }
  // Lines are 12-13 bytes: only the lines within the last 64 bytes get copied.
  EXPECT_EQ(in_place + copied, 20);
  EXPECT_GE(in_place, 14);
  EXPECT_LE(copied, 6);
  EXPECT_GE(copied, 1);
}

TEST(JsonlLineCursorTest, PaddedLinesParseWithSimdjson) {
  // The last line has no newline and sits at the very end of the buffer.
  const std::string data = "{\"v\": 1}\n{\"v\": 22}";
  JsonlLineCursor cursor(data, 1);
  simdjson::ondemand::parser parser;
  absl::string_view line;
  uint64_t number;
  std::vector<int64_t> values;
  while (cursor.Next(&line, &number)) {
    simdjson::ondemand::document doc;
    ASSERT_EQ(parser.iterate(cursor.Padded(line)).get(doc), simdjson::SUCCESS);
    int64_t v;
    ASSERT_EQ(doc["v"].get_int64().get(v), simdjson::SUCCESS);
    values.push_back(v);
  }
  EXPECT_THAT(values, ElementsAre(1, 22));
}

}  // namespace
}  // namespace emar
