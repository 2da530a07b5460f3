#include "eval/metrics/tokenizer_zh.h"

#include <utility>

#include "eval/metrics/unicode_text.h"

namespace emar {
namespace {

// tokenizer_zh.py's _UCODE_RANGES as Python evaluates them (see the header for the two rows
// whose bounds are two characters long).
constexpr std::pair<char32_t, char32_t> kChineseRanges[] = {
    {0x3400, 0x4DB5}, {0x4E00, 0x9FA5}, {0x9FA6, 0x9FBB}, {0xF900, 0xFA2D}, {0xFA30, 0xFA6A},
    {0xFA70, 0xFAD9}, {0x2001, 0x2A6D},  // '\u20000'..'\u2a6d6'
    {0x2F81, 0x2FA1},                    // '\u2f800'..'\u2fa1d'
    {0xFF00, 0xFFEF}, {0x2E80, 0x2EFF}, {0x3000, 0x303F}, {0x31C0, 0x31EF}, {0x2F00, 0x2FDF},
    {0x2FF0, 0x2FFF}, {0x3100, 0x312F}, {0x31A0, 0x31BF}, {0xFE10, 0xFE1F}, {0xFE30, 0xFE4F},
    {0x2600, 0x26FF}, {0x2700, 0x27BF}, {0x3200, 0x32FF}, {0x3300, 0x33FF},
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsPeriodOrComma(char c) { return c == '.' || c == ','; }

// tokenizer_re.py's first pattern: [{-~[-` -&(-+:-@/].
bool IsSplitPunct(char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

// The four re.sub passes of tokenizer_re.py, byte by byte (their patterns are ASCII; a
// multi-byte character matches [^0-9] through its last byte on the left of a pair and its first
// byte on the right, which gives the same output as matching it whole).
void RegexpPasses(std::string* s, std::string* tmp) {
  tmp->clear();
  for (char c : *s) {
    if (IsSplitPunct(c)) {
      tmp->push_back(' ');
      tmp->push_back(c);
      tmp->push_back(' ');
    } else {
      tmp->push_back(c);
    }
  }
  std::swap(*s, *tmp);
  // ([^0-9])([\.,]) -> "\1 \2 "
  tmp->clear();
  for (size_t i = 0; i < s->size();) {
    if (i + 1 < s->size() && !IsDigit((*s)[i]) && IsPeriodOrComma((*s)[i + 1])) {
      tmp->append({(*s)[i], ' ', (*s)[i + 1], ' '});
      i += 2;
    } else {
      tmp->push_back((*s)[i++]);
    }
  }
  std::swap(*s, *tmp);
  // ([\.,])([^0-9]) -> " \1 \2"
  tmp->clear();
  for (size_t i = 0; i < s->size();) {
    if (i + 1 < s->size() && IsPeriodOrComma((*s)[i]) && !IsDigit((*s)[i + 1])) {
      tmp->append({' ', (*s)[i], ' ', (*s)[i + 1]});
      i += 2;
    } else {
      tmp->push_back((*s)[i++]);
    }
  }
  std::swap(*s, *tmp);
  // ([0-9])(-) -> "\1 \2 "
  tmp->clear();
  for (size_t i = 0; i < s->size();) {
    if (i + 1 < s->size() && IsDigit((*s)[i]) && (*s)[i + 1] == '-') {
      tmp->append({(*s)[i], ' ', '-', ' '});
      i += 2;
    } else {
      tmp->push_back((*s)[i++]);
    }
  }
  std::swap(*s, *tmp);
}

}  // namespace

bool IsSacrebleuChineseChar(char32_t cp) {
  for (const auto& [lo, hi] : kChineseRanges) {
    if (cp >= lo && cp <= hi) return true;
  }
  return false;
}

void TokenizeZh(absl::string_view line, std::string* out, std::string* scratch) {
  line = PythonStrip(line);
  out->clear();
  size_t pos = 0;
  while (pos < line.size()) {
    const size_t start = pos;
    const char32_t cp = NextCodePoint(line, &pos);
    const absl::string_view ch = line.substr(start, pos - start);
    if (IsSacrebleuChineseChar(cp)) {
      out->push_back(' ');
      out->append(ch.data(), ch.size());
      out->push_back(' ');
    } else {
      out->append(ch.data(), ch.size());
    }
  }
  RegexpPasses(out, scratch);
}

}  // namespace emar
