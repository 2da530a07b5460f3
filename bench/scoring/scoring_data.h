// Deterministic synthetic examples for the scoring benchmarks: class labels, short SQuAD-style
// answers, ~20-token sentence pairs and token log-probs, from a fixed seed. The shapes follow
// bench/python/gen_scoring_data.py (same kinds of text, not byte-identical files).
//
//   std::vector<ScoringExample> data = GenerateExamples(ExampleKind::kSentences, 10000);
#ifndef EMAR_BENCH_SCORING_SCORING_DATA_H_
#define EMAR_BENCH_SCORING_SCORING_DATA_H_

#include <cstddef>
#include <vector>

#include "eval/metrics/metric.h"

namespace emar {

enum class ExampleKind { kLabels, kShortAnswers, kSentences, kLogprobs };

struct ScoringExample {
  Prediction prediction;
  Reference reference;
};

// The kind of data each registered metric is meant for.
ExampleKind KindForMetric(absl::string_view metric);

std::vector<ScoringExample> GenerateExamples(ExampleKind kind, size_t n, uint64_t seed = 20240611);

}  // namespace emar

#endif  // EMAR_BENCH_SCORING_SCORING_DATA_H_
