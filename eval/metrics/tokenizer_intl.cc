#include "eval/metrics/tokenizer_intl.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "eval/metrics/intl_categories.h"
#include "eval/metrics/unicode_text.h"

namespace emar {
namespace {

bool Has(char32_t cp, uint8_t bit) { return (IntlCategories(cp) & bit) != 0; }

// One re.sub pass of a two-character pattern left(a) right(b) -> before a mid b after, where each
// flag says whether a space goes there; matches do not overlap and are taken left to right.
template <typename Left, typename Right>
void PairPass(const std::vector<char32_t>& in, Left left, Right right, bool space_before,
              bool space_after, std::vector<char32_t>* out) {
  out->clear();
  for (size_t i = 0; i < in.size();) {
    if (i + 1 < in.size() && left(in[i]) && right(in[i + 1])) {
      if (space_before) out->push_back(' ');
      out->push_back(in[i]);
      out->push_back(' ');
      out->push_back(in[i + 1]);
      if (space_after) out->push_back(' ');
      i += 2;
    } else {
      out->push_back(in[i++]);
    }
  }
}

}  // namespace

uint8_t IntlCategories(char32_t cp) {
  const IntlCategoryRange* begin = kIntlCategoryRanges;
  const IntlCategoryRange* end = kIntlCategoryRanges + kIntlCategoryRangeCount;
  const IntlCategoryRange* it = std::upper_bound(
      begin, end, cp, [](char32_t c, const IntlCategoryRange& r) { return c < r.first; });
  if (it == begin) return 0;
  --it;
  return cp <= it->last ? it->bits : 0;
}

void TokenizeIntl(absl::string_view line, std::string* out) {
  thread_local std::vector<char32_t> a, b;
  a.clear();
  size_t pos = 0;
  while (pos < line.size()) a.push_back(NextCodePoint(line, &pos));
  auto punct = [](char32_t c) { return Has(c, kIntlPunct); };
  auto not_number = [](char32_t c) { return !Has(c, kIntlNumber); };
  PairPass(a, not_number, punct, /*space_before=*/false, /*space_after=*/true, &b);
  PairPass(b, punct, not_number, /*space_before=*/true, /*space_after=*/false, &a);
  b.clear();
  for (char32_t c : a) {
    if (Has(c, kIntlSymbol)) {
      b.push_back(' ');
      b.push_back(c);
      b.push_back(' ');
    } else {
      b.push_back(c);
    }
  }
  std::string spaced;
  for (char32_t c : b) AppendUtf8(c, &spaced);
  std::vector<absl::string_view> words;
  PythonSplit(spaced, &words);
  out->clear();
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out->push_back(' ');
    out->append(words[i].data(), words[i].size());
  }
}

}  // namespace emar
