#include "worker/scoring/squad_normalizer.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "worker/scoring/unicode_text.h"

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

}  // namespace

void SquadNormalizer::Normalize(absl::string_view text, std::string* out) {
  PythonLower(text, &lowered_);
  no_punct_.clear();
  for (char c : lowered_) {
    if (!IsAsciiPunctuation(c)) no_punct_.push_back(c);
  }
  const absl::string_view s = no_punct_;
  out->clear();
  bool prev_word = false;  // was the previous code point a word character?
  bool pending_space = false;
  size_t pos = 0;
  while (pos < s.size()) {
    const char c = s[pos];
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
    const char32_t cp = NextCodePoint(s, &pos);
    if (IsPythonSpace(cp)) {
      pending_space = true;
      prev_word = false;
      continue;
    }
    prev_word = IsPythonWordChar(cp);
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
