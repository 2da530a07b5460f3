#include "eval/metrics/multiple_choice_scorer.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "eval/metrics/unicode_text.h"

namespace emar {
namespace {

// An optionally signed decimal integer, as str(int) writes it.
bool ParseInt(absl::string_view text, int64_t* out) {
  if (text.empty()) return false;
  const size_t digits_from = text[0] == '-' ? 1 : 0;
  if (digits_from == text.size()) return false;
  for (size_t i = digits_from; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return absl::SimpleAtoi(text, out);
}

// "[0, 2]" (str of a list of ints) into its integers; false for anything else.
bool ParseIntList(absl::string_view text, std::vector<int64_t>* out) {
  if (!absl::ConsumePrefix(&text, "[") || !absl::ConsumeSuffix(&text, "]")) return false;
  out->clear();
  if (absl::StripAsciiWhitespace(text).empty()) return true;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int64_t v;
    if (!ParseInt(absl::StripAsciiWhitespace(part), &v)) return false;
    out->push_back(v);
  }
  return true;
}

size_t CodePoints(absl::string_view s) {
  size_t n = 0, pos = 0;
  while (pos < s.size()) {
    NextCodePoint(s, &pos);
    ++n;
  }
  return n;
}

}  // namespace

size_t HarnessPick(const Prediction& prediction, bool normalized) {
  const std::vector<double>& lls = prediction.choice_loglikelihoods;
  if (!normalized) return HarnessArgmax(lls);
  std::vector<double> scaled(lls.size());
  for (size_t i = 0; i < lls.size(); ++i) {
    scaled[i] = lls[i] / static_cast<double>(CodePoints(prediction.choices[i]));
  }
  return HarnessArgmax(scaled);
}

size_t HarnessArgmax(absl::Span<const double> values) {
  size_t best = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) return i;
    if (values[i] > values[best]) best = i;
  }
  return best;
}

std::vector<int64_t> HarnessGoldIndices(absl::string_view target,
                                        absl::Span<const std::string> choices) {
  const int64_t n = static_cast<int64_t>(choices.size());
  int64_t index;
  if (ParseInt(target, &index)) return {index >= 0 && index < n ? index : -1};
  std::vector<int64_t> list;
  if (ParseIntList(target, &list)) {
    for (int64_t& i : list) i = i >= 0 && i < n ? i : -1;
    return list;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (choices[i] == target) return {i};
  }
  return {-1};
}

std::string MultipleChoiceMetric::signature() const {
  return absl::StrCat(name(), "|lm-eval:", normalized_ ? "acc_norm" : "acc",
                      normalized_ ? "|len:chars" : "", "|argmax:first|version:emar-0.1");
}

absl::Status MultipleChoiceMetric::ScoreExample(const Prediction& prediction,
                                                const Reference& reference, LabelTable* labels,
                                                absl::Span<double> row) const {
  RETURN_IF_ERROR(RequireReferences(reference));
  const std::vector<double>& lls = prediction.choice_loglikelihoods;
  if (lls.empty()) {
    return absl::InvalidArgumentError(
        "responses: no choice log-likelihoods (a multiple-choice metric needs the harness's "
        "filtered_resps, one [loglikelihood, is_greedy] per choice)");
  }
  if (prediction.choices.size() != lls.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("choices: ", prediction.choices.size(), " choice texts for ", lls.size(),
                     " log-likelihoods; they must pair up one to one"));
  }
  const size_t pred = HarnessPick(prediction, normalized_);
  bool correct = false;
  for (const std::string& target : reference.texts) {
    for (int64_t gold : HarnessGoldIndices(target, prediction.choices)) {
      correct |= gold == static_cast<int64_t>(pred);
    }
  }
  row[0] = correct ? 1.0 : 0.0;
  return absl::OkStatus();
}

}  // namespace emar
