// Google rouge-score ROUGE-1, ROUGE-2 and ROUGE-L (F-measure, default tokenizer, no stemmer),
// registered as `rouge1`, `rouge2`, `rougeL`. Each row is the example's F-measure against the
// first reference with the highest F (RougeScorer.score_multi); the value is the mean over
// examples, a fraction 0-1.
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

enum class RougeType { kRouge1, kRouge2, kRougeL };

struct RougeScore {
  double precision = 0;
  double recall = 0;
  double fmeasure = 0;
};

// rouge-score's tokenize(text, stemmer=None), for tests and tools (allocates).
std::vector<std::string> RougeTokens(absl::string_view text);

// score_multi(targets, prediction)[type]. Precondition: at least one target.
RougeScore ScoreRouge(RougeType type, absl::string_view prediction,
                      absl::Span<const std::string> targets);

class RougeMetric final : public PerExampleMeanMetric {
 public:
  explicit RougeMetric(RougeType type) : type_(type) {}
  absl::string_view name() const override;
  std::string signature() const override;
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;

 private:
  const RougeType type_;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_ROUGE_SCORER_H_
