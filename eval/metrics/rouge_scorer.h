// Google rouge-score ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum (F-measure, default tokenizer,
// optionally its Porter stemmer), registered as `rouge1`, `rouge2`, `rougeL`, `rougeLsum`. Each
// row is the example's F-measure against the first reference with the highest F
// (RougeScorer.score_multi); the value is the mean over examples, a fraction 0-1.
//
// rougeLsum is rouge-score's summary-level LCS: both texts are split into sentences at "\n"
// (empty lines dropped), each reference sentence takes the union of its LCS with every candidate
// sentence (one LCS each, read out by rouge-score's backtracking), and a union token counts as a
// hit while both sides still have an unused occurrence of it; P = hits / candidate tokens,
// R = hits / reference tokens.
//
// use_stemmer: tokens longer than 3 characters go through NLTK's Porter stemmer
// (porter_stemmer.h), as rouge-score's tokenize does.
//
//   RougeScore s = ScoreRouge(RougeType::kRougeL, "the cat sat", {"the cat was sitting"});
//   // s.precision 2/3, s.recall 1/2, s.fmeasure 4/7
//
// Tokenizer: Python lower(), runs of characters outside [a-z0-9] separate tokens. Non-ASCII
// letters are separators ("café" -> "caf"); only U+0130 and the Kelvin sign U+212A lower-case
// into ASCII ("i" followed by a separating combining dot, and "k").
#ifndef EMAR_EVAL_METRICS_ROUGE_SCORER_H_
#define EMAR_EVAL_METRICS_ROUGE_SCORER_H_

#include <string>
#include <vector>

#include "eval/metrics/per_example_mean.h"

namespace emar {

enum class RougeType { kRouge1, kRouge2, kRougeL, kRougeLsum };

struct RougeOptions {
  bool use_stemmer = false;
};

struct RougeScore {
  double precision = 0;
  double recall = 0;
  double fmeasure = 0;
};

// rouge-score's tokenize(text, stemmer), for tests and tools (allocates).
std::vector<std::string> RougeTokens(absl::string_view text,
                                     const RougeOptions& options = RougeOptions());

// score_multi(targets, prediction)[type]. Precondition: at least one target.
RougeScore ScoreRouge(RougeType type, absl::string_view prediction,
                      absl::Span<const std::string> targets,
                      const RougeOptions& options = RougeOptions());

class RougeMetric final : public PerExampleMeanMetric {
 public:
  explicit RougeMetric(RougeType type, const RougeOptions& options = RougeOptions())
      : type_(type), options_(options) {}
  absl::string_view name() const override;
  std::string signature() const override;
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;

 private:
  const RougeType type_;
  const RougeOptions options_;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_ROUGE_SCORER_H_
