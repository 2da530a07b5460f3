#include "eval/input/shard_splitter.h"

#include <algorithm>

#include "eval/input/jsonl_line_cursor.h"

namespace emar {

std::vector<LineRange> SplitIntoShards(absl::string_view data, uint64_t rows_per_shard) {
  rows_per_shard = std::max<uint64_t>(rows_per_shard, 1);
  std::vector<LineRange> shards;
  // The cursor skips a byte order mark and blank lines exactly as the readers will, so the rows
  // counted here are the rows each reader returns.
  JsonlLineCursor cursor(data, /*first_line=*/1);
  LineRange current;
  absl::string_view line;
  uint64_t number;
  while (cursor.Next(&line, &number)) {
    if (current.rows == rows_per_shard) {
      // Cut at this row's line start; blank lines since the previous row stay behind.
      const uint64_t cut = static_cast<uint64_t>(line.data() - data.data());
      current.length = cut - current.offset;
      shards.push_back(current);
      current = LineRange{cut, 0, number, 0};
    }
    ++current.rows;
  }
  if (current.rows == 0) return shards;  // no rows anywhere: nothing to read
  current.length = data.size() - current.offset;
  shards.push_back(current);
  return shards;
}

}  // namespace emar
