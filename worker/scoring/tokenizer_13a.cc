#include "worker/scoring/tokenizer_13a.h"

#include <vector>

#include "worker/scoring/unicode_text.h"

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
bool IsSplitPunct(unsigned char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsPeriodOrComma(unsigned char c) { return c == '.' || c == ','; }

}  // namespace

void Tokenizer13a::Tokenize(absl::string_view line, std::string* out) {
  std::string& s = a_;
  s.assign(line.data(), line.size());
  ReplaceAll("<skipped>", "", &s, &b_);
  ReplaceAll("-\n", "", &s, &b_);
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  if (s.find('&') != std::string::npos) {
    ReplaceAll("&quot;", "\"", &s, &b_);
    ReplaceAll("&amp;", "&", &s, &b_);
    ReplaceAll("&lt;", "<", &s, &b_);
    ReplaceAll("&gt;", ">", &s, &b_);
  }

  // Pass 0: f' {line} ' with spaces around the punctuation class.
  std::string& t = b_;
  t.clear();
  t.push_back(' ');
  for (char c : s) {
    if (IsSplitPunct(static_cast<unsigned char>(c))) {
      t.push_back(' ');
      t.push_back(c);
      t.push_back(' ');
    } else {
      t.push_back(c);
    }
  }
  t.push_back(' ');

  // Passes 1-3 are regex substitutions: each scans left to right and a match consumes both of
  // its characters. Working on bytes is equivalent to code points here because every pattern
  // needs an ASCII character on one side and [^0-9] accepts any byte of a multi-byte character.
  // Pass 1: ([^0-9])([\.,]) -> "\1 \2 "
  s.clear();
  for (size_t i = 0; i < t.size();) {
    const unsigned char c = t[i];
    if (i + 1 < t.size() && !IsDigit(c) && IsPeriodOrComma(t[i + 1])) {
      s.push_back(t[i]);
      s.push_back(' ');
      s.push_back(t[i + 1]);
      s.push_back(' ');
      i += 2;
    } else {
      s.push_back(t[i++]);
    }
  }
  // Pass 2: ([\.,])([^0-9]) -> " \1 \2"
  t.clear();
  for (size_t i = 0; i < s.size();) {
    if (i + 1 < s.size() && IsPeriodOrComma(s[i]) && !IsDigit(s[i + 1])) {
      t.push_back(' ');
      t.push_back(s[i]);
      t.push_back(' ');
      t.push_back(s[i + 1]);
      i += 2;
    } else {
      t.push_back(s[i++]);
    }
  }
  // Pass 3: ([0-9])(-) -> "\1 \2 "
  s.clear();
  for (size_t i = 0; i < t.size();) {
    if (i + 1 < t.size() && IsDigit(t[i]) && t[i + 1] == '-') {
      s.push_back(t[i]);
      s.append(" - ");
      i += 2;
    } else {
      s.push_back(t[i++]);
    }
  }
  // ' '.join(line.split())
  thread_local std::vector<absl::string_view> tokens;
  PythonSplit(s, &tokens);
  out->clear();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) out->push_back(' ');
    out->append(tokens[i].data(), tokens[i].size());
  }
}

}  // namespace emar
