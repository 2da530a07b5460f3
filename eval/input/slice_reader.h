// Reads a dataset's slices: the value of one field (a dotted path, e.g. "subject" or
// "meta.language") of every references line, row i being the i-th non-blank line, as
// ReferenceTable numbers its rows. Strings are taken as they are, numbers canonically ("1" for
// 1 and 1.0), booleans as "true"/"false".
//
//   ASSIGN_OR_RETURN(SliceColumn s, ReadSlices("data/mmlu.jsonl", bytes, "subject"));
//   const std::string& slice_of_row_7 = s.names[s.of_row[7]];
//
// A line without the field, or with a value that is not a string, number or boolean, is
// INVALID_ARGUMENT naming file, line and field.
#ifndef EMAR_EVAL_INPUT_SLICE_READER_H_
#define EMAR_EVAL_INPUT_SLICE_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace emar {

struct SliceColumn {
  std::vector<std::string> names;  // distinct values, in order of first appearance
  std::vector<uint32_t> of_row;    // per row, an index into names
};

absl::StatusOr<SliceColumn> ReadSlices(absl::string_view display_name, absl::string_view data,
                                       const std::string& field);

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_SLICE_READER_H_
