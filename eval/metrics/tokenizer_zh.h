// sacrebleu's `zh` tokenizer (tokenizer_zh.py): strip Python whitespace at both ends, put spaces
// around every "Chinese" character, then the regular-expression passes that `13a` also runs
// (tokenizer_re.py) without 13a's unescaping and padding.
//
//   std::string out, scratch;
//   TokenizeZh("我喜欢猫.", &out, &scratch);   // "我  喜  欢  猫 ." before whitespace splitting
//
// "Chinese" is sacrebleu's table of ranges, compared the way Python compares its strings: two of
// its bounds are written as 5-digit \u escapes ('\u20000', '\u2f800'), which Python reads as a
// 4-digit escape followed by a digit, so those rows really cover U+2001-U+2A6D (general
// punctuation, currency, letterlike symbols, arrows, ...) and U+2F81-U+2FA1; reproduced as is.
#ifndef EMAR_EVAL_METRICS_TOKENIZER_ZH_H_
#define EMAR_EVAL_METRICS_TOKENIZER_ZH_H_

#include <string>

#include "absl/strings/string_view.h"

namespace emar {

// Whether sacrebleu's TokenizerZh._is_chinese_char(cp) is true.
bool IsSacrebleuChineseChar(char32_t cp);

// Replaces *out with the tokenized line; split it on Python whitespace for the tokens. `scratch`
// is a reusable buffer.
void TokenizeZh(absl::string_view line, std::string* out, std::string* scratch);

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_TOKENIZER_ZH_H_
