#include "eval/metrics/exact_match_scorer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/metrics/squad_normalizer.h"
#include "eval/metrics/unicode_tables.h"

namespace emar {
namespace {

// Per-thread scratch so that scoring a shard does not allocate per example.
struct SquadScratch {
  SquadNormalizer normalizer;
  std::string prediction;
  std::string gold;
};

SquadScratch& Scratch() {
  thread_local SquadScratch scratch;
  return scratch;
}

}  // namespace

// The normalization reads Unicode classes (lower(), `\w` around articles): the signature names
// the pinned version.
std::string ExactMatchMetric::signature() const {
  return absl::StrCat("exact_match|norm:squad-v1.1|refs:max|unicode:",
                      unicode_tables::kUnicodeVersion, "|version:emar-0.1");
}

absl::Status ExactMatchMetric::ScoreExample(const Prediction& prediction,
                                            const Reference& reference, LabelTable* labels,
                                            absl::Span<double> row) const {
  RETURN_IF_ERROR(RequireReferences(reference));
  SquadScratch& s = Scratch();
  s.normalizer.Normalize(prediction.text, &s.prediction);
  double best = 0;
  for (const std::string& gold : reference.texts) {
    s.normalizer.Normalize(gold, &s.gold);
    if (s.gold == s.prediction) {
      best = 1;
      break;
    }
  }
  row[0] = best;
  return absl::OkStatus();
}

std::string TokenF1Metric::signature() const {
  return absl::StrCat("token_f1|norm:squad-v1.1|refs:max|unicode:", unicode_tables::kUnicodeVersion,
                      "|version:emar-0.1");
}

absl::Status TokenF1Metric::ScoreExample(const Prediction& prediction, const Reference& reference,
                                         LabelTable* labels, absl::Span<double> row) const {
  RETURN_IF_ERROR(RequireReferences(reference));
  SquadScratch& s = Scratch();
  s.normalizer.Normalize(prediction.text, &s.prediction);
  double best = 0;
  for (const std::string& gold : reference.texts) {
    s.normalizer.Normalize(gold, &s.gold);
    best = std::max(best, SquadTokenF1(s.prediction, s.gold));
    if (best == 1) break;
  }
  row[0] = best;
  return absl::OkStatus();
}

}  // namespace emar
