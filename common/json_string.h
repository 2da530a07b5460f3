// A string as a JSON string literal: quotes and backslashes escaped, control characters as
// \u00XX, everything else (UTF-8 included) as it is. Used where output is JSON written by hand
// (emarctl's small answers, the JSON event log) rather than through a proto's JSON mapping.
#ifndef EMAR_COMMON_JSON_STRING_H_
#define EMAR_COMMON_JSON_STRING_H_

#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace emar {

inline void AppendJsonString(std::string& out, absl::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

inline std::string JsonString(absl::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

}  // namespace emar

#endif  // EMAR_COMMON_JSON_STRING_H_
