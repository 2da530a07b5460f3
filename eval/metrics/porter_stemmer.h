// NLTK's PorterStemmer in its default mode (NLTK_EXTENSIONS), as rouge-score applies it with
// use_stemmer=True: Porter's algorithm with Martin Porter's later extensions and NLTK's own
// (irregular forms such as "dying" -> "die", "ies"/"ied" on four-letter words, "alli" handled
// recursively, "fulli" and "logi" rules, the cvc test on two-letter stems). Each step is a literal
// translation of nltk/stem/porter.py (nltk 3.8).
//
//   PorterStem("running");      // "run"
//   PorterStem("generalizations");  // "gener"
//
// Input: a lower-case ASCII word (rouge-score's tokens are [a-z0-9]+; it stems only tokens longer
// than 3 characters). Thread-safe.
#ifndef EMAR_EVAL_METRICS_PORTER_STEMMER_H_
#define EMAR_EVAL_METRICS_PORTER_STEMMER_H_

#include <string>

#include "absl/strings/string_view.h"

namespace emar {

std::string PorterStem(absl::string_view word);

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_PORTER_STEMMER_H_
