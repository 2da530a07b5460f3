#include "eval/metrics/squad_normalizer.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "eval/metrics/unicode_text.h"

namespace emar {
namespace {

// Python's string.punctuation: !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
bool IsAsciiPunctuation(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

// Word character for the `\b` of `\b(a|an|the)\b`, reading the code point at s[pos] (or none at
// the end of s).
bool WordCharAt(absl::string_view s, size_t pos) {
  if (pos >= s.size()) return false;
  return IsPythonWordChar(NextCodePoint(s, &pos));
}

// Length in bytes of the article matched at s[pos] by `(a|an|the)\b` (alternatives tried in
// that order, as Python's regex engine does), or 0. The caller checks the leading `\b`.
size_t ArticleAt(absl::string_view s, size_t pos) {
  const absl::string_view rest = s.substr(pos);
  for (absl::string_view article :
       {absl::string_view("a"), absl::string_view("an"), absl::string_view("the")}) {
    if (absl::StartsWith(rest, article) && !WordCharAt(s, pos + article.size())) {
      return article.size();
    }
  }
  return 0;
}

bool IsAsciiWordChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (c >= 'A' && c <= 'Z');
}

// ArticleAt for ASCII text (at the end of s, "no character" is not a word character).
size_t AsciiArticleAt(const char* s, size_t pos, size_t n) {
  auto word_at = [&](size_t i) {
    return i < n && IsAsciiWordChar(static_cast<unsigned char>(s[i]));
  };
  if (s[pos] == 'a') {
    if (!word_at(pos + 1)) return 1;
    if (pos + 1 < n && s[pos + 1] == 'n' && !word_at(pos + 2)) return 2;
    return 0;
  }
  if (pos + 2 < n && s[pos + 1] == 'h' && s[pos + 2] == 'e' && !word_at(pos + 3)) return 3;
  return 0;
}

// The article/whitespace pass of Normalize for ASCII `s` (already lower-cased, no punctuation),
// written straight into *out: the output is never longer than the input.
void AsciiArticlesAndSpaces(absl::string_view s, std::string* out) {
  const size_t n = s.size();
  out->resize(n);
  char* const begin = n == 0 ? nullptr : &(*out)[0];
  char* o = begin;
  bool prev_word = false;
  bool pending_space = false;
  for (size_t pos = 0; pos < n;) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    if (!prev_word && (c == 'a' || c == 't')) {
      const size_t len = AsciiArticleAt(s.data(), pos, n);
      if (len > 0) {
        pending_space = true;
        pos += len;
        prev_word = true;
        continue;
      }
    }
    ++pos;
    if (IsPythonSpace(c)) {
      pending_space = true;
      prev_word = false;
      continue;
    }
    prev_word = IsAsciiWordChar(c);
    if (pending_space && o != begin) *o++ = ' ';
    pending_space = false;
    *o++ = static_cast<char>(c);
  }
  out->resize(static_cast<size_t>(o - begin));
}

}  // namespace

void SquadNormalizer::Normalize(absl::string_view text, std::string* out) {
  no_punct_.resize(text.size());
  char* w = no_punct_.empty() ? nullptr : &no_punct_[0];
  char* const begin = w;
  if (IsAscii(text)) {
    // ASCII fast path: lower() and the punctuation filter in one pass.
    for (const char c : text) {
      if (IsAsciiPunctuation(c)) continue;
      *w++ = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
    }
    no_punct_.resize(static_cast<size_t>(w - begin));
    AsciiArticlesAndSpaces(no_punct_, out);
    return;
  } else {
    PythonLower(text, &lowered_);
    no_punct_.clear();
    for (char c : lowered_) {
      if (!IsAsciiPunctuation(c)) no_punct_.push_back(c);
    }
  }
  const absl::string_view s = no_punct_;
  out->clear();
  bool prev_word = false;  // was the previous code point a word character?
  bool pending_space = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    if (!prev_word && (c == 'a' || c == 't')) {
      const size_t n = ArticleAt(s, pos);
      if (n > 0) {
        // Replaced by a space; the article's last character is a word character.
        pending_space = true;
        pos += n;
        prev_word = true;
        continue;
      }
    }
    const size_t start = pos;
    bool word;
    if (c < 0x80) {
      ++pos;
      if (IsPythonSpace(c)) {
        pending_space = true;
        prev_word = false;
        continue;
      }
      word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (c >= 'A' && c <= 'Z');
    } else {
      const char32_t cp = NextCodePoint(s, &pos);
      if (IsPythonSpace(cp)) {
        pending_space = true;
        prev_word = false;
        continue;
      }
      word = IsPythonWordChar(cp);
    }
    prev_word = word;
    if (pending_space && !out->empty()) out->push_back(' ');
    pending_space = false;
    out->append(s.data() + start, pos - start);
  }
}

double SquadTokenF1(absl::string_view normalized_prediction, absl::string_view normalized_gold) {
  thread_local std::vector<absl::string_view> pred;
  thread_local std::vector<absl::string_view> gold;
  // Normalized text holds single ASCII spaces only, so splitting on ' ' equals Python split().
  auto split = [](absl::string_view s, std::vector<absl::string_view>* v) {
    v->clear();
    size_t start = 0;
    while (start < s.size()) {
      size_t end = s.find(' ', start);
      if (end == absl::string_view::npos) end = s.size();
      v->push_back(s.substr(start, end - start));
      start = end + 1;
    }
  };
  split(normalized_prediction, &pred);
  split(normalized_gold, &gold);
  if (pred.empty() || gold.empty()) return 0.0;
  std::sort(pred.begin(), pred.end());
  std::sort(gold.begin(), gold.end());
  size_t overlap = 0;
  for (size_t i = 0, j = 0; i < pred.size() && j < gold.size();) {
    if (pred[i] < gold[j]) {
      ++i;
    } else if (gold[j] < pred[i]) {
      ++j;
    } else {
      ++overlap, ++i, ++j;
    }
  }
  if (overlap == 0) return 0.0;
  const double precision = static_cast<double>(overlap) / pred.size();
  const double recall = static_cast<double>(overlap) / gold.size();
  return 2 * precision * recall / (precision + recall);
}

}  // namespace emar
