#include "eval/input/jsonl_line_cursor.h"

#include <cstring>

#include "absl/strings/match.h"

namespace emar {
namespace {

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool IsBlank(absl::string_view line) {
  for (char c : line) {
    if (!IsJsonWhitespace(c)) return false;
  }
  return true;
}

}  // namespace

JsonlLineCursor::JsonlLineCursor(absl::string_view data, uint64_t first_line)
    : data_(data), next_line_(first_line) {
  if (first_line == 1 && absl::StartsWith(data_, kUtf8Bom)) pos_ = kUtf8Bom.size();
}

bool JsonlLineCursor::Next(absl::string_view* line, uint64_t* line_number) {
  while (pos_ < data_.size()) {
    const char* begin = data_.data() + pos_;
    const size_t remaining = data_.size() - pos_;
    const void* nl = std::memchr(begin, '\n', remaining);
    size_t length = nl ? static_cast<const char*>(nl) - begin : remaining;
    pos_ += nl ? length + 1 : length;
    const uint64_t number = next_line_++;
    if (length > 0 && begin[length - 1] == '\r') --length;
    absl::string_view text(begin, length);
    // Fast path: nearly every JSONL line starts with '{'.
    if (length > 0 && text[0] == '{') {
      *line = text;
      *line_number = number;
      return true;
    }
    if (IsBlank(text)) continue;
    *line = text;
    *line_number = number;
    return true;
  }
  return false;
}

simdjson::padded_string_view JsonlLineCursor::Padded(absl::string_view line) {
  const size_t offset = line.data() - data_.data();
  const size_t available = data_.size() - offset;  // readable bytes from line start
  if (available >= line.size() + simdjson::SIMDJSON_PADDING) {
    return simdjson::padded_string_view(line.data(), line.size(), available);
  }
  // Zero-filled padding: simdjson reads it but never treats it as content.
  scratch_.assign(line.data(), line.size());
  scratch_.resize(line.size() + simdjson::SIMDJSON_PADDING, '\0');
  return simdjson::padded_string_view(scratch_.data(), line.size(), scratch_.size());
}

}  // namespace emar
