// The Unicode classes of sacrebleu's `intl` tokenizer, \p{P} (punctuation), \p{S} (symbols) and
// \p{N} (numbers), as the Python `regex` module matches them, generated into
// intl_categories.cc by gen_intl_categories.py (pinned to python3-regex 2022.10.31).
#ifndef EMAR_EVAL_METRICS_INTL_CATEGORIES_H_
#define EMAR_EVAL_METRICS_INTL_CATEGORIES_H_

#include <cstddef>
#include <cstdint>

namespace emar {

struct IntlCategoryRange {
  char32_t first, last;
  uint8_t bits;  // kIntlPunct | kIntlSymbol | kIntlNumber
};
inline constexpr uint8_t kIntlPunct = 1, kIntlSymbol = 2, kIntlNumber = 4;

// Sorted, disjoint; code points in no range are in none of the classes.
extern const IntlCategoryRange kIntlCategoryRanges[];
extern const size_t kIntlCategoryRangeCount;

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_INTL_CATEGORIES_H_
