#include "eval/metrics/unicode_text.h"

#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utypes.h>

#include <cstring>
#include <vector>

namespace emar {
namespace unicode_internal {

// Strict decoder: overlong forms, surrogates and truncated sequences yield U+FFFD for one byte.
char32_t DecodeMultiByte(absl::string_view s, size_t* pos) {
  const size_t i = *pos;
  const unsigned char c = static_cast<unsigned char>(s[i]);
  int len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    ++*pos;
    return 0xFFFD;
  }
  if (i + len > s.size()) {
    ++*pos;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) {
      ++*pos;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*pos;
    return 0xFFFD;
  }
  *pos = i + len;
  return cp;
}

}  // namespace unicode_internal

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsPythonWordChar(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
           cp == '_';
  }
  const UChar32 c = static_cast<UChar32>(cp);
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return true;
    default:
      break;
  }
  return u_getIntPropertyValue(c, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
}

bool IsAscii(absl::string_view s) {
  // Eight bytes at a time: any byte >= 0x80 sets its top bit.
  const char* p = s.data();
  size_t n = s.size();
  uint64_t high = 0;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    high |= word;
  }
  for (; n > 0; ++p, --n) high |= static_cast<unsigned char>(*p);
  return (high & 0x8080808080808080ull) == 0;
}

absl::string_view PythonStrip(absl::string_view s) {
  size_t begin = 0;
  while (begin < s.size()) {
    size_t next = begin;
    if (!IsPythonSpace(NextCodePoint(s, &next))) break;
    begin = next;
  }
  return PythonRStrip(s.substr(begin));
}

absl::string_view PythonRStrip(absl::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    // The last code point starts at most 3 continuation bytes back; a sequence that does not
    // decode to exactly [start, end) is a malformed byte, which is not whitespace.
    size_t start = end - 1;
    while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    size_t pos = start;
    const char32_t cp = NextCodePoint(s, &pos);
    if (pos != end || !IsPythonSpace(cp)) break;
    end = start;
  }
  return s.substr(0, end);
}

void PythonSplit(absl::string_view s, std::vector<absl::string_view>* out) {
  out->clear();
  size_t pos = 0;
  size_t word_start = 0;
  bool in_word = false;
  while (pos < s.size()) {
    const size_t here = pos;
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    bool space;
    if (c < 0x80) {
      ++pos;
      space = IsPythonSpace(c);
    } else {
      space = IsPythonSpace(NextCodePoint(s, &pos));
    }
    if (space) {
      if (in_word) out->push_back(s.substr(word_start, here - word_start));
      in_word = false;
    } else if (!in_word) {
      in_word = true;
      word_start = here;
    }
  }
  if (in_word) out->push_back(s.substr(word_start));
}

void PythonLower(absl::string_view s, std::string* out) {
  out->clear();
  if (IsAscii(s)) {
    out->resize(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      const char c = s[i];
      (*out)[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
    }
    return;
  }
  // ICU works in UTF-16; the buffers are per thread so a hot loop does not allocate.
  thread_local std::vector<UChar> utf16;
  thread_local std::vector<UChar> lowered;
  UErrorCode status = U_ZERO_ERROR;
  int32_t len16 = 0;
  utf16.resize(s.size() + 1);
  u_strFromUTF8WithSub(utf16.data(), static_cast<int32_t>(utf16.size()), &len16, s.data(),
                       static_cast<int32_t>(s.size()), 0xFFFD, nullptr, &status);
  if (U_FAILURE(status)) {
    out->assign(s.data(), s.size());
    return;
  }
  // Full lower-casing can grow a string (U+0130 becomes two code points); retry once if short.
  lowered.resize(static_cast<size_t>(len16) * 2 + 8);
  status = U_ZERO_ERROR;
  int32_t len_lower = u_strToLower(lowered.data(), static_cast<int32_t>(lowered.size()),
                                   utf16.data(), len16, "", &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    lowered.resize(static_cast<size_t>(len_lower) + 1);
    status = U_ZERO_ERROR;
    len_lower = u_strToLower(lowered.data(), static_cast<int32_t>(lowered.size()), utf16.data(),
                             len16, "", &status);
  }
  if (U_FAILURE(status)) {
    out->assign(s.data(), s.size());
    return;
  }
  out->resize(static_cast<size_t>(len_lower) * 3 + 4);
  int32_t len8 = 0;
  status = U_ZERO_ERROR;
  u_strToUTF8(&(*out)[0], static_cast<int32_t>(out->size()), &len8, lowered.data(), len_lower,
              &status);
  out->resize(U_FAILURE(status) ? 0 : static_cast<size_t>(len8));
}

}  // namespace emar
