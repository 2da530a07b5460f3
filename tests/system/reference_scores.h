// Scores computed the simplest way, independently of eval/metrics, so tests can check the
// service's numbers against them: read whole JSONL files, join by id, count.
//
//   ASSERT_OK_AND_ASSIGN(auto refs, ReadReferences("data/target.jsonl"));
//   ASSERT_OK_AND_ASSIGN(auto preds, ReadPredictions("out/base.target.jsonl"));
//   double t0 = AccuracyOf(preds, refs);
#ifndef EMAR_TESTS_SYSTEM_REFERENCE_SCORES_H_
#define EMAR_TESTS_SYSTEM_REFERENCE_SCORES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace emar::testing {

// id -> references ("reference": a string, or "references": a list of strings).
using ReferenceMap = std::map<std::string, std::vector<std::string>>;
// id -> prediction.
using PredictionMap = std::map<std::string, std::string>;

absl::StatusOr<ReferenceMap> ReadReferences(const std::string& path);
absl::StatusOr<PredictionMap> ReadPredictions(const std::string& path);

// The SQuAD answer normalization for ASCII text: lowercase, delete ASCII punctuation, drop the
// words a/an/the, collapse whitespace.
std::string SquadNormalize(const std::string& s);

// Fractions in [0, 1] over the references' ids; an id without a prediction counts as wrong.
// Accuracy: the trimmed prediction equals the trimmed (first) reference.
double AccuracyOf(const PredictionMap& predictions, const ReferenceMap& references);
// Exact match: the normalized prediction equals some normalized reference.
double ExactMatchOf(const PredictionMap& predictions, const ReferenceMap& references);

}  // namespace emar::testing

#endif  // EMAR_TESTS_SYSTEM_REFERENCE_SCORES_H_
