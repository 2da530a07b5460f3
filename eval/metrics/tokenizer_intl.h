// sacrebleu's `intl` tokenizer (tokenizer_intl.py, mteval-v14's international tokenization):
//   (\P{N})(\p{P}) -> "\1 \2 "   punctuation after a non-number
//   (\p{P})(\P{N}) -> " \1 \2"   punctuation before a non-number
//   (\p{S})        -> " \1 "     every symbol
// then whitespace collapsed. So "3.14" and "1,000" keep their separators, a final "2023." keeps
// its period (as mteval-v14), and non-ASCII punctuation and symbols split. The classes are the
// Python `regex` module's (intl_categories.h).
//
//   std::string out;
//   TokenizeIntl("Hello, world… 1,000€!", &out);   // "Hello , world … 1,000 € !"
#ifndef EMAR_EVAL_METRICS_TOKENIZER_INTL_H_
#define EMAR_EVAL_METRICS_TOKENIZER_INTL_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace emar {

// kIntlPunct | kIntlSymbol | kIntlNumber bits of `cp` (intl_categories.h).
uint8_t IntlCategories(char32_t cp);

// Replaces *out with the tokens of `line` joined by single spaces.
void TokenizeIntl(absl::string_view line, std::string* out);

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_TOKENIZER_INTL_H_
