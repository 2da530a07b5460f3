#include "eval/input/shard_splitter.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

uint64_t CountRows(const std::string& data) {
  uint64_t rows = 0;
  size_t start = 0;
  while (start < data.size()) {
    size_t end = data.find('\n', start);
    if (end == std::string::npos) end = data.size();
    if (data.find_first_not_of(" \t\r\n", start) < end) ++rows;
    start = end + 1;
  }
  return rows;
}

// Checks the contract of SplitIntoShards on `data` and returns the ranges.
std::vector<LineRange> CheckedSplit(const std::string& data, uint64_t per_shard) {
  std::vector<LineRange> shards = SplitIntoShards(data, per_shard);
  uint64_t offset = 0, rows = 0, line = 1;
  for (size_t i = 0; i < shards.size(); ++i) {
    const LineRange& r = shards[i];
    EXPECT_EQ(r.offset, offset) << "shard " << i;
    // Each shard after the first starts at a line start, with the right line number.
    if (i > 0) {
      EXPECT_EQ(data[r.offset - 1], '\n') << "shard " << i;
      line = 1;
      for (uint64_t k = 0; k < r.offset; ++k) line += data[k] == '\n';
      EXPECT_EQ(r.first_line, line) << "shard " << i;
    } else {
      EXPECT_EQ(r.first_line, 1u);
    }
    if (i + 1 < shards.size()) EXPECT_EQ(r.rows, std::max<uint64_t>(per_shard, 1));
    EXPECT_GE(r.rows, 1u);
    offset += r.length;
    rows += r.rows;
  }
  if (CountRows(data) == 0) {
    EXPECT_TRUE(shards.empty());
  } else {
    EXPECT_EQ(offset, data.size()) << "shards must concatenate to the whole file";
  }
  return shards;
}

TEST(ShardSplitterTest, EvenSplit) {
  const std::string data = "{}\n{}\n{}\n{}\n";
  std::vector<LineRange> s = CheckedSplit(data, 2);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].offset, 0u);
  EXPECT_EQ(s[0].length, 6u);
  EXPECT_EQ(s[0].rows, 2u);
  EXPECT_EQ(s[1].offset, 6u);
  EXPECT_EQ(s[1].first_line, 3u);
  EXPECT_EQ(s[1].rows, 2u);
}

TEST(ShardSplitterTest, RemainderGoesToTheLastShard) {
  std::vector<LineRange> s = CheckedSplit("{}\n{}\n{}\n{}\n{}", 2);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2].rows, 1u);
  EXPECT_EQ(s[2].length, 2u);  // no final newline
  EXPECT_EQ(s[2].first_line, 5u);
}

TEST(ShardSplitterTest, BlankLinesStayWithThePreviousRow) {
  const std::string data = "\n{\"a\":1}\n\n\n{\"b\":2}\n \n";
  std::vector<LineRange> s = CheckedSplit(data, 1);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(data.substr(s[0].offset, s[0].length), "\n{\"a\":1}\n\n\n");
  EXPECT_EQ(s[1].first_line, 5u);
  EXPECT_EQ(data.substr(s[1].offset, s[1].length), "{\"b\":2}\n \n");
}

TEST(ShardSplitterTest, OneShardWhenRowsFit) {
  std::vector<LineRange> s = CheckedSplit("{}\r\n{}\r\n", 100);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].rows, 2u);
  EXPECT_EQ(s[0].length, 8u);
}

TEST(ShardSplitterTest, FilesWithoutRowsGiveNoShards) {
  EXPECT_TRUE(SplitIntoShards("", 10).empty());
  EXPECT_TRUE(SplitIntoShards("\n \r\n\t", 10).empty());
  EXPECT_TRUE(SplitIntoShards("\xEF\xBB\xBF\n", 1).empty());
}

TEST(ShardSplitterTest, ByteOrderMarkStaysInTheFirstShard) {
  std::vector<LineRange> s = CheckedSplit("\xEF\xBB\xBF{}\n{}\n", 1);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].offset, 0u);
  EXPECT_EQ(s[0].length, 6u);
  EXPECT_EQ(s[0].rows, 1u);
}

TEST(ShardSplitterTest, ZeroRowsPerShardMeansOne) {
  std::vector<LineRange> s = SplitIntoShards("{}\n{}\n", 0);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].rows, 1u);
}

TEST(ShardSplitterTest, RandomFilesKeepTheContract) {
  std::mt19937 rng(20240607);
  const char* pieces[] = {"{\"id\": 1}", "", "  ", "\r", "{}\r", "\t"};
  for (int trial = 0; trial < 200; ++trial) {
    std::string data;
    const int lines = rng() % 40;
    for (int i = 0; i < lines; ++i) {
      data += pieces[rng() % 6];
      if (i + 1 < lines || rng() % 2) data += '\n';
    }
    const uint64_t per_shard = 1 + rng() % 7;
    std::vector<LineRange> s = CheckedSplit(data, per_shard);
    uint64_t rows = 0;
    for (const LineRange& r : s) {
      rows += r.rows;
      EXPECT_EQ(r.rows, CountRows(data.substr(r.offset, r.length)));
    }
    EXPECT_EQ(rows, CountRows(data)) << "trial " << trial;
  }
}

}  // namespace
}  // namespace emar
