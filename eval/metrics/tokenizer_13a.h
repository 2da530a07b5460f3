// sacrebleu's default `13a` tokenizer (mteval-v13a), as a character-level rewrite of its regular
// expressions: no regex engine, four linear passes over reused buffers.
//
//   Tokenizer13a tok;
//   std::string out;
//   tok.Tokenize("pi is 3.14.", &out);   // "pi is 3.14 ."
//   tok.Tokenize("1-2 &amp;lt;", &out);  // "1 - 2 <"
//
// Steps (SPEC.md (b)): delete "<skipped>" and "-\n", turn "\n" into a space, unescape
// &quot; &amp; &lt; &gt; (in that order, so "&amp;lt;" becomes "<"); pad with spaces; put spaces
// around ASCII punctuation other than ' , - .; split off "." and "," unless preceded by a digit,
// then unless followed by a digit; split "-" after a digit; collapse Python whitespace.
// Non-ASCII text passes through untouched (only Unicode whitespace separates tokens).
// A Tokenizer13a holds scratch buffers: not thread-safe, one per thread.
//
// Hot path (BLEU): TokenizeToWords hands the tokens back as views, without joining them; when
// the line needs no rewriting (no '&', '\n', "<skipped>", '.', ',' or '-') they are found in one
// pass over `line` itself, otherwise the regex passes run over `buffer`.
#ifndef EMAR_EVAL_METRICS_TOKENIZER_13A_H_
#define EMAR_EVAL_METRICS_TOKENIZER_13A_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace emar {

class Tokenizer13a {
 public:
  // Replaces *out with the tokens of `line` joined by single spaces.
  void Tokenize(absl::string_view line, std::string* out);

  // Replaces *words with the tokens of `line`, views into `line` or into *buffer: both must stay
  // unchanged while the views are used.
  void TokenizeToWords(absl::string_view line, std::string* buffer,
                       std::vector<absl::string_view>* words);

 private:
  std::string a_;
  std::string b_;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_TOKENIZER_13A_H_
