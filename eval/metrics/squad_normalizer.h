// SQuAD v1.1 answer normalization (`normalize_answer` in evaluate-v1.1.py) and the token-multiset
// F1 built on it; the definitions behind the `exact_match` and `token_f1` metrics.
//
//   SquadNormalizer norm;
//   std::string a, b;
//   norm.Normalize("The Eiffel-Tower!", &a);   // "eiffeltower"
//   norm.Normalize("eiffeltower", &b);
//   bool em = (a == b);                        // true
//   double f1 = SquadTokenF1("denver broncos", "broncos");  // 2/3
//
// Normalization: Python `lower()` (full Unicode), delete the 32 ASCII `string.punctuation`
// characters (Unicode punctuation stays), replace `\b(a|an|the)\b` (Unicode word boundaries) by a
// space, then collapse Python whitespace to single spaces. A SquadNormalizer holds scratch
// buffers; it is cheap, not thread-safe, and meant to be one per thread.
#ifndef EMAR_EVAL_METRICS_SQUAD_NORMALIZER_H_
#define EMAR_EVAL_METRICS_SQUAD_NORMALIZER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace emar {

class SquadNormalizer {
 public:
  // Replaces *out with normalize_answer(text): tokens joined by single spaces, no leading or
  // trailing space.
  void Normalize(absl::string_view text, std::string* out);

 private:
  std::string lowered_;
  std::string no_punct_;
};

// SQuAD F1 of two *normalized* answers (space-separated tokens): 0 when the token multisets do
// not intersect (so also when either side is empty), else 2PR/(P+R). A fraction in [0, 1].
double SquadTokenF1(absl::string_view normalized_prediction, absl::string_view normalized_gold);

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_SQUAD_NORMALIZER_H_
