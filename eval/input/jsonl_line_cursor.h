// Walks the lines of a JSONL byte range and hands each non-blank line to simdjson with the
// SIMDJSON_PADDING readable bytes it needs, without copying lines that already have them.
//
//   JsonlLineCursor cursor(data, /*first_line=*/1);
//   absl::string_view line;
//   uint64_t number;
//   while (cursor.Next(&line, &number)) {
//     simdjson::padded_string_view json = cursor.Padded(line);
//     ... parser.iterate(json) ...
//   }
//
// Lines end at "\n"; a trailing "\r" is dropped (CRLF files), the last line may lack "\n", and
// lines holding only JSON whitespace are skipped but still counted. A UTF-8 byte order mark at
// the very start of a file (first_line == 1) is skipped.
//
// `data` is borrowed and must outlive the cursor. Padding: a line is parsed in place when at
// least SIMDJSON_PADDING bytes of `data` follow it (the newline and the next lines serve as
// padding); only the lines within SIMDJSON_PADDING bytes of the end of `data` are copied, into a
// buffer the cursor owns. Not thread-safe.
#ifndef EMAR_EVAL_INPUT_JSONL_LINE_CURSOR_H_
#define EMAR_EVAL_INPUT_JSONL_LINE_CURSOR_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "simdjson.h"

namespace emar {

// True for the bytes JSON treats as whitespace (space, tab, CR, LF).
inline bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class JsonlLineCursor {
 public:
  // `first_line` is the 1-based number of the first line of `data` within its file.
  JsonlLineCursor(absl::string_view data, uint64_t first_line);

  JsonlLineCursor(const JsonlLineCursor&) = delete;
  JsonlLineCursor& operator=(const JsonlLineCursor&) = delete;

  // The next non-blank line (without its line ending) and its 1-based number; false at the end.
  bool Next(absl::string_view* line, uint64_t* line_number);

  // `line` (from Next, borrowed from `data`) with SIMDJSON_PADDING readable bytes after it.
  // Valid until the next call of Padded.
  simdjson::padded_string_view Padded(absl::string_view line);

  // Bytes of `data` consumed so far (including line endings and skipped blank lines).
  size_t offset() const { return pos_; }

 private:
  absl::string_view data_;
  size_t pos_ = 0;
  uint64_t next_line_;
  std::string scratch_;  // padded copy of a line near the end of data_
};

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_JSONL_LINE_CURSOR_H_
