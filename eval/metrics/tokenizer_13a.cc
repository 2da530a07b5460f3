#include "eval/metrics/tokenizer_13a.h"

#include <cstring>
#include <vector>

#include "eval/metrics/unicode_text.h"

namespace emar {
namespace {

// Python's str.replace(from, to): one left-to-right pass, non-overlapping.
void ReplaceAll(absl::string_view from, absl::string_view to, std::string* s, std::string* tmp) {
  if (s->find(from.data(), 0, from.size()) == std::string::npos) return;
  tmp->clear();
  size_t pos = 0;
  while (true) {
    const size_t hit = s->find(from.data(), pos, from.size());
    if (hit == std::string::npos) break;
    tmp->append(*s, pos, hit - pos);
    tmp->append(to.data(), to.size());
    pos = hit + from.size();
  }
  tmp->append(*s, pos, std::string::npos);
  s->swap(*tmp);
}

// The regex class [\{-\~\[-\` -\&\(-\+\:-\@\/]: ASCII punctuation and space, except ' , - .
constexpr bool IsSplitPunctSlow(unsigned char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

// Byte classes for the one-pass tokenizer.
enum ByteClass : uint8_t {
  kWord = 0,     // part of a token
  kSpace = 1,    // ASCII Python whitespace: separates tokens
  kPunct = 2,    // split punctuation: a token of its own
  kSpecial = 3,  // '.', ',', '-', '&', '\n', '<': needs the general path
  kHigh = 4,     // non-ASCII: decode, Unicode whitespace separates
};

struct ByteTable {
  uint8_t cls[256];
  constexpr ByteTable() : cls() {
    for (int c = 0; c < 256; ++c) {
      uint8_t k = kWord;
      if (c >= 0x80) {
        k = kHigh;
      } else if (c == '.' || c == ',' || c == '-' || c == '&' || c == '\n' || c == '<') {
        k = kSpecial;
      } else if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F)) {
        k = kSpace;
      } else if (IsSplitPunctSlow(static_cast<unsigned char>(c))) {
        k = kPunct;
      }
      cls[c] = k;
    }
  }
};
constexpr ByteTable kBytes;

bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsPeriodOrComma(unsigned char c) { return c == '.' || c == ','; }

// One pass for a line that needs no rewriting before the regexes (no '&', '<' or newline).
// Returns false (words unspecified) otherwise. Tokens are runs of word bytes and single
// punctuation bytes, split at Python whitespace and at the boundaries the '.', ',' and '-'
// substitutions open, which depend only on the neighbours (x before, y after, in the padded
// line; a space or punctuation neighbour counts as a non-digit):
//   a run of k '.'/',' characters always splits between its characters; it splits from x
//   unless x and y are digits and k == 1; it splits from y when y is not a digit or pass 1
//   ("([^0-9])([.,])") matched its last character, i.e. k is odd after a non-digit x or even
//   after a digit x;
//   a '-' right after a digit splits from both neighbours.
// Differentially tested against the regex passes (TokenizeToWords' general path).
bool SimpleWords(absl::string_view line, std::vector<absl::string_view>* words) {
  words->clear();
  const char* data = line.data();
  const size_t n = line.size();
  size_t start = 0;
  bool in_word = false;
  bool split_next = false;  // the previous byte closed its token
  auto end_word = [&](size_t at) {
    if (in_word) words->emplace_back(data + start, at - start);
    in_word = false;
  };
  // Byte `at` is a word byte; `split` says a token boundary precedes it.
  auto word_byte = [&](size_t at, bool split) {
    if (split) end_word(at);
    if (!in_word) start = at, in_word = true;
  };
  auto is_digit = [&](size_t at) { return data[at] >= '0' && data[at] <= '9'; };
  size_t i = 0;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    switch (kBytes.cls[c]) {
      case kWord:
        word_byte(i, split_next);
        split_next = false;
        ++i;
        break;
      case kSpace:
        end_word(i);
        split_next = false;
        ++i;
        break;
      case kPunct:
        end_word(i);
        words->emplace_back(data + i, 1);
        split_next = false;
        ++i;
        break;
      case kSpecial: {
        if (c == '-') {
          const bool after_digit = i > 0 && is_digit(i - 1);
          word_byte(i, split_next || after_digit);
          split_next = after_digit;
          ++i;
          break;
        }
        if (c != '.' && c != ',') return false;  // '&', '<', '\n': the general path
        size_t j = i;
        while (j < n && (data[j] == '.' || data[j] == ',')) ++j;
        const size_t k = j - i;
        const bool x_digit = i > 0 && is_digit(i - 1);
        const bool y_digit = j < n && is_digit(j);
        const bool split_left = !(x_digit && k == 1 && y_digit);
        const bool pass1_took_last = x_digit ? (k % 2 == 0) : (k % 2 == 1);
        for (size_t m = i; m < j; ++m) word_byte(m, m > i || split_next || split_left);
        split_next = pass1_took_last || !y_digit;
        i = j;
        break;
      }
      default: {  // kHigh
        size_t next = i;
        if (IsPythonSpace(NextCodePoint(line, &next))) {
          end_word(i);
        } else {
          word_byte(i, split_next);
        }
        split_next = false;
        i = next;
        break;
      }
    }
  }
  end_word(n);
  return true;
}

}  // namespace

void Tokenizer13a::TokenizeToWords(absl::string_view line, std::string* buffer,
                                   std::vector<absl::string_view>* words) {
  if (SimpleWords(line, words)) return;

  std::string& s = a_;
  s.assign(line.data(), line.size());
  if (line.find('\n') != absl::string_view::npos || line.find('<') != absl::string_view::npos) {
    ReplaceAll("<skipped>", "", &s, &b_);
    ReplaceAll("-\n", "", &s, &b_);
    for (char& c : s) {
      if (c == '\n') c = ' ';
    }
  }
  if (s.find('&') != std::string::npos) {
    ReplaceAll("&quot;", "\"", &s, &b_);
    ReplaceAll("&amp;", "&", &s, &b_);
    ReplaceAll("&lt;", "<", &s, &b_);
    ReplaceAll("&gt;", ">", &s, &b_);
  }

  // Pass 0: f' {line} ' with spaces around the punctuation class.
  std::string& t = b_;
  t.resize(3 * s.size() + 2);
  char* w = &t[0];
  *w++ = ' ';
  for (char c : s) {
    if (IsSplitPunctSlow(static_cast<unsigned char>(c))) {
      w[0] = ' ', w[1] = c, w[2] = ' ';
      w += 3;
    } else {
      *w++ = c;
    }
  }
  *w++ = ' ';
  t.resize(static_cast<size_t>(w - t.data()));

  // Passes 1-3 are regex substitutions: each scans left to right and a match consumes both of
  // its characters. Working on bytes is equivalent to code points here because every pattern
  // needs an ASCII character on one side and [^0-9] accepts any byte of a multi-byte character.
  // Passes 1 and 2 change nothing without '.' or ',', pass 3 nothing without '-'; none adds one.
  std::string* cur = &t;
  std::string* other = &s;
  if (t.find_first_of(".,") != std::string::npos) {
    // Pass 1: ([^0-9])([\.,]) -> "\1 \2 "
    other->resize(2 * cur->size());
    const char* in = cur->data();
    const size_t n = cur->size();
    w = &(*other)[0];
    for (size_t i = 0; i < n;) {
      const unsigned char c = in[i];
      if (i + 1 < n && !IsDigit(c) && IsPeriodOrComma(in[i + 1])) {
        w[0] = in[i], w[1] = ' ', w[2] = in[i + 1], w[3] = ' ';
        w += 4;
        i += 2;
      } else {
        *w++ = in[i++];
      }
    }
    other->resize(static_cast<size_t>(w - other->data()));
    std::swap(cur, other);
    // Pass 2: ([\.,])([^0-9]) -> " \1 \2"
    other->resize(2 * cur->size());
    in = cur->data();
    const size_t n2 = cur->size();
    w = &(*other)[0];
    for (size_t i = 0; i < n2;) {
      if (i + 1 < n2 && IsPeriodOrComma(in[i]) && !IsDigit(in[i + 1])) {
        w[0] = ' ', w[1] = in[i], w[2] = ' ', w[3] = in[i + 1];
        w += 4;
        i += 2;
      } else {
        *w++ = in[i++];
      }
    }
    other->resize(static_cast<size_t>(w - other->data()));
    std::swap(cur, other);
  }
  // Pass 3: ([0-9])(-) -> "\1 \2 "
  buffer->resize(2 * cur->size());
  const char* in = cur->data();
  const size_t n = cur->size();
  w = &(*buffer)[0];
  if (cur->find('-') == std::string::npos) {
    std::memcpy(w, in, n);
    w += n;
  } else {
    for (size_t i = 0; i < n;) {
      if (i + 1 < n && IsDigit(in[i]) && in[i + 1] == '-') {
        w[0] = in[i], w[1] = ' ', w[2] = '-', w[3] = ' ';
        w += 4;
        i += 2;
      } else {
        *w++ = in[i++];
      }
    }
  }
  buffer->resize(static_cast<size_t>(w - buffer->data()));
  // line.split()
  PythonSplit(*buffer, words);
}

void Tokenizer13a::Tokenize(absl::string_view line, std::string* out) {
  thread_local std::string buffer;
  thread_local std::vector<absl::string_view> tokens;
  thread_local std::string joined;
  TokenizeToWords(line, &buffer, &tokens);
  // ' '.join(...), built aside: the tokens may be views into `line`, which may be *out.
  joined.clear();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) joined.push_back(' ');
    joined.append(tokens[i].data(), tokens[i].size());
  }
  out->assign(joined);
}

}  // namespace emar
