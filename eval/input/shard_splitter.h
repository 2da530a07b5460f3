// Cuts a JSONL file into shards of about `rows_per_shard` non-blank lines, at line boundaries,
// so a PredictionReader can read each shard on its own.
//
//   for (const LineRange& r : SplitIntoShards(data, 10000)) {
//     PredictionReader reader(name, data.substr(r.offset, r.length), r.first_line, config);
//     ...
//   }
//
// Contract: the ranges are in file order and concatenate to exactly `data` (blank lines and a
// UTF-8 byte order mark included); each holds `rows_per_shard` non-blank lines except the last,
// which holds the rest (1..rows_per_shard). Each shard after the first starts at the line start
// of its first row, so blank lines stay with the shard of the row before them. A file with no
// non-blank line (empty, blank, or only a byte order mark) gives no ranges at all, so callers
// report it as an empty file. rows_per_shard 0 is treated as 1.
#ifndef EMAR_EVAL_INPUT_SHARD_SPLITTER_H_
#define EMAR_EVAL_INPUT_SHARD_SPLITTER_H_

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"

namespace emar {

struct LineRange {
  uint64_t offset = 0;      // byte offset in the file
  uint64_t length = 0;      // bytes
  uint64_t first_line = 1;  // 1-based line number of the range's first line
  uint64_t rows = 0;        // non-blank lines in the range
};

std::vector<LineRange> SplitIntoShards(absl::string_view data, uint64_t rows_per_shard);

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_SHARD_SPLITTER_H_
