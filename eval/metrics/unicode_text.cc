#include "eval/metrics/unicode_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "eval/metrics/unicode_tables.h"

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

namespace {

// Writes the UTF-8 encoding of cp (1 to 4 bytes) at w; returns the end.
char* PutUtf8(char32_t cp, char* w) {
  if (cp < 0x80) {
    *w++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *w++ = static_cast<char>(0xC0 | (cp >> 6));
    *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *w++ = static_cast<char>(0xE0 | (cp >> 12));
    *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *w++ = static_cast<char>(0xF0 | (cp >> 18));
    *w++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return w;
}

constexpr char32_t kCapitalSigma = 0x03A3;
constexpr char32_t kSmallSigma = 0x03C3;
constexpr char32_t kFinalSigma = 0x03C2;

// A two-stage lookup table over code points, built once from the generated range tables: each
// block of 128 code points points at one of the distinct 128-entry blocks. One load per lookup
// where a binary search over hundreds of ranges costs ~8 unpredictable branches. Building one
// takes well under a millisecond.
template <typename T>
class CodePointMap {
 public:
  static constexpr int kShift = 7;
  static constexpr size_t kBlockSize = size_t{1} << kShift;
  using Block = std::array<T, kBlockSize>;

  // fill(first, &block) sets the values of code points [first, first + 128) in a block of T()s;
  // it is called for blocks 0 .. num_blocks - 1 in order. Later code points map to T().
  template <typename Fill>
  CodePointMap(size_t num_blocks, Fill fill) {
    absl::flat_hash_map<Block, uint16_t> seen;
    Block block, previous;
    for (size_t b = 0; b < num_blocks; ++b) {
      block.fill(T());
      fill(static_cast<char32_t>(b << kShift), &block);
      if (b > 0 && block == previous) {  // common: unassigned planes, CJK
        index_.push_back(index_.back());
        continue;
      }
      auto [it, inserted] = seen.try_emplace(block, static_cast<uint16_t>(seen.size()));
      if (inserted) blocks_.insert(blocks_.end(), block.begin(), block.end());
      index_.push_back(it->second);
      previous = block;
    }
  }

  T operator[](char32_t cp) const {
    const size_t b = cp >> kShift;
    if (b >= index_.size()) return T();
    return blocks_[(size_t{index_[b]} << kShift) | (cp & (kBlockSize - 1))];
  }

 private:
  std::vector<uint16_t> index_;  // per block of 128 code points, which of blocks_
  std::vector<T> blocks_;        // the distinct blocks, 128 values each
};

// The blocks needed to cover code points up to `last`.
constexpr size_t BlocksUpTo(char32_t last) { return (last >> 7) + 1; }

// A cursor over sorted spans for filling blocks in ascending order: calls set(cp, span) for each
// code point of [first, first + 128) that lies in a span (every stride-th from its first).
template <typename Span>
class SpanCursor {
 public:
  explicit SpanCursor(absl::Span<const Span> spans) : spans_(spans) {}

  template <typename Set>
  void ForBlock(char32_t first, Set set) {
    const char32_t last = first + 127;
    while (k_ < spans_.size() && spans_[k_].last < first) ++k_;
    for (size_t i = k_; i < spans_.size() && spans_[i].first <= last; ++i) {
      const Span& span = spans_[i];
      const char32_t stride = Stride(span);
      char32_t cp = span.first;
      if (cp < first) cp += (first - cp + stride - 1) / stride * stride;
      for (; cp <= std::min(last, span.last); cp += stride) set(cp, span);
    }
  }

 private:
  static char32_t Stride(const unicode_tables::CodePointRange&) { return 1; }
  static char32_t Stride(const unicode_tables::LowerRun& run) { return run.stride; }

  absl::Span<const Span> spans_;
  size_t k_ = 0;  // first span that may reach the current block
};

// Per code point: membership in the generated range tables, as bits.
enum : uint8_t { kWordBit = 1, kCasedBit = 2, kCaseIgnorableBit = 4 };

const CodePointMap<uint8_t>& Properties() {
  static const CodePointMap<uint8_t> map = [] {
    using unicode_tables::CodePointRange;
    const std::pair<absl::Span<const CodePointRange>, uint8_t> tables[] = {
        {unicode_tables::WordRanges(), kWordBit},
        {unicode_tables::CasedRanges(), kCasedBit},
        {unicode_tables::CaseIgnorableRanges(), kCaseIgnorableBit},
    };
    std::vector<SpanCursor<CodePointRange>> cursors;
    char32_t last = 0;
    for (const auto& [ranges, bit] : tables) {
      cursors.emplace_back(ranges);
      if (!ranges.empty()) last = std::max(last, ranges.back().last);
    }
    return CodePointMap<uint8_t>(BlocksUpTo(last), [&](char32_t first, auto* block) {
      for (size_t t = 0; t < cursors.size(); ++t) {
        const uint8_t bit = tables[t].second;
        cursors[t].ForBlock(
            first, [&](char32_t cp, const CodePointRange&) { (*block)[cp - first] |= bit; });
      }
    });
  }();
  return map;
}

// LowerDeltas() value of a code point whose lower() is several code points.
constexpr int32_t kLowerExpansion = INT32_MIN;

// lower(cp) - cp, or kLowerExpansion.
const CodePointMap<int32_t>& LowerDeltas() {
  static const CodePointMap<int32_t> map = [] {
    using unicode_tables::LowerRun;
    const absl::Span<const LowerRun> runs = unicode_tables::LowerRuns();
    char32_t last = runs.empty() ? 0 : runs.back().last;
    for (const auto& e : unicode_tables::LowerExpansions()) last = std::max(last, e.cp);
    SpanCursor<LowerRun> cursor(runs);
    return CodePointMap<int32_t>(BlocksUpTo(last), [&](char32_t first, auto* block) {
      cursor.ForBlock(first,
                      [&](char32_t cp, const LowerRun& run) { (*block)[cp - first] = run.delta; });
      for (const auto& e : unicode_tables::LowerExpansions()) {
        if (e.cp >= first && e.cp - first < CodePointMap<int32_t>::kBlockSize) {
          (*block)[e.cp - first] = kLowerExpansion;
        }
      }
    });
  }();
  return map;
}

bool IsCased(char32_t cp) { return (Properties()[cp] & kCasedBit) != 0; }

bool IsCaseIgnorable(char32_t cp) { return (Properties()[cp] & kCaseIgnorableBit) != 0; }

// Writes str.lower() of one code point to out[0, n) and returns n (1..kMaxLowerLength). U+03A3
// gives U+03C3; its final form depends on context, which PythonLower handles.
size_t LowerCodePoint(char32_t cp, char32_t* out) {
  if (cp < 0x80) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
    return 1;
  }
  const int32_t delta = LowerDeltas()[cp];
  if (delta != kLowerExpansion) {
    out[0] = static_cast<char32_t>(static_cast<int32_t>(cp) + delta);
    return 1;
  }
  for (const unicode_tables::LowerExpansion& e : unicode_tables::LowerExpansions()) {
    if (e.cp == cp) {
      const absl::Span<const char32_t> pool = unicode_tables::LowerPool();
      std::copy(pool.begin() + e.offset, pool.begin() + e.offset + e.length, out);
      return e.length;
    }
  }
  out[0] = cp;
  return 1;
}

// Python's final-sigma look-ahead for a U+03A3 that ends at s[pos]: skipping case-ignorable code
// points, is the next one cased?
bool CasedLetterFollows(absl::string_view s, size_t pos) {
  while (pos < s.size()) {
    const char32_t cp = NextCodePoint(s, &pos);
    if (!IsCaseIgnorable(cp)) return IsCased(cp);
  }
  return false;
}

}  // namespace

void AppendUtf8(char32_t cp, std::string* out) {
  char buf[4];
  out->append(buf, static_cast<size_t>(PutUtf8(cp, buf) - buf));
}

bool IsPythonWordChar(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
           cp == '_';
  }
  return (Properties()[cp] & kWordBit) != 0;
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
  // Written in place: lower-casing at most triples the bytes (a bad byte becomes U+FFFD; U+0130
  // and U+023A grow 2 -> 3).
  out->resize(s.size() * 3);
  char* const begin = &(*out)[0];
  char* w = begin;
  // The final-sigma context costs a lookup per code point; only text holding U+03A3 pays.
  const bool has_capital_sigma = s.find("\xCE\xA3") != absl::string_view::npos;
  bool after_cased = false;  // is the last code point that is not case-ignorable cased?
  char32_t lowered[unicode_tables::kMaxLowerLength];
  size_t pos = 0;
  while (pos < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80 && !has_capital_sigma) {
      *w++ = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : static_cast<char>(c);
      ++pos;
      continue;
    }
    const size_t start = pos;
    const char32_t cp = NextCodePoint(s, &pos);
    if (cp == kCapitalSigma) {
      w = PutUtf8(after_cased && !CasedLetterFollows(s, pos) ? kFinalSigma : kSmallSigma, w);
      after_cased = true;  // U+03A3 is cased and not case-ignorable
      continue;
    }
    const size_t n = LowerCodePoint(cp, lowered);
    if (n == 1 && lowered[0] == cp && cp != 0xFFFD) {
      std::memcpy(w, s.data() + start, pos - start);  // valid UTF-8 for cp: copy it
      w += pos - start;
    } else {
      for (size_t k = 0; k < n; ++k) w = PutUtf8(lowered[k], w);
    }
    if (has_capital_sigma) {
      const uint8_t bits = Properties()[cp];
      if ((bits & kCaseIgnorableBit) == 0) after_cased = (bits & kCasedBit) != 0;
    }
  }
  out->resize(static_cast<size_t>(w - begin));
}

}  // namespace emar
