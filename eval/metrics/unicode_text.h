// Python `str` semantics on UTF-8 bytes, for the reference metrics that are defined by what
// Python does (SQuAD, sacrebleu, rouge-score): `isspace()`, `split()`, `strip()`, `lower()` and
// the `re` module's Unicode `\w`. Everything has an ASCII fast path; non-ASCII code points are
// looked up in tables pinned to Unicode unicode_tables::kUnicodeVersion (Python 3.11's), never in
// the system's ICU or libc, so results do not change with the machine.
//
//   std::string lowered;
//   PythonLower("CAFÉ ΟΔΟΣ", &lowered);            // "café οδος" (final sigma handled)
//   std::vector<absl::string_view> words;
//   PythonSplit(lowered, &words);                 // {"café", "οδος"}
//   absl::string_view t = PythonStrip("\u00a0 yes \t");  // "yes"
//
// Invalid UTF-8 (which the input layer rejects before scoring) never crashes: each bad byte
// decodes as U+FFFD. All functions are thread-safe.
#ifndef EMAR_EVAL_METRICS_UNICODE_TEXT_H_
#define EMAR_EVAL_METRICS_UNICODE_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace emar {

namespace unicode_internal {
char32_t DecodeMultiByte(absl::string_view s, size_t* pos);
}  // namespace unicode_internal

// Decodes the code point starting at s[*pos] and advances *pos past it.
// Precondition: *pos < s.size().
inline char32_t NextCodePoint(absl::string_view s, size_t* pos) {
  const unsigned char c = static_cast<unsigned char>(s[*pos]);
  if (c < 0x80) {
    ++*pos;
    return c;
  }
  return unicode_internal::DecodeMultiByte(s, pos);
}

// Appends the UTF-8 encoding of `cp` to `out`.
void AppendUtf8(char32_t cp, std::string* out);

// Python `str.isspace()`: \t\n\v\f\r, U+001C-001F, space, U+0085, U+00A0, U+1680,
// U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000. (Unchanged since Unicode 6.3; the test
// checks it against unicode_tables::SpaceRanges() over all code points.)
inline bool IsPythonSpace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Python `re` Unicode `\w`: str.isalnum() (letters Lu Ll Lt Lm Lo, or any Numeric_Type) or '_',
// in Unicode kUnicodeVersion: code points assigned later (e.g. U+1E4D0) are not word characters.
bool IsPythonWordChar(char32_t cp);

// Python `s.strip()` / `s.rstrip()` with no argument (Python whitespace). Returns a view into s.
absl::string_view PythonStrip(absl::string_view s);
absl::string_view PythonRStrip(absl::string_view s);

// Python `s.split()`: the pieces between runs of Python whitespace, no empty pieces. Replaces
// the contents of *out with views into s.
void PythonSplit(absl::string_view s, std::vector<absl::string_view>* out);

// Python `s.lower()`: full Unicode lower-casing (SpecialCasing, e.g. U+0130 -> "i\u0307", and the
// contextual final sigma: U+03A3 becomes U+03C2 after a cased letter, skipping case-ignorable
// characters, unless a cased letter follows, again skipping case-ignorable ones). Invalid bytes
// come out as U+FFFD. Replaces the contents of *out.
void PythonLower(absl::string_view s, std::string* out);

// True when every byte of s is ASCII.
bool IsAscii(absl::string_view s);

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_UNICODE_TEXT_H_
