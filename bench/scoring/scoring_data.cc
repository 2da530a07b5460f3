#include "bench/scoring/scoring_data.h"

#include <cmath>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"

namespace emar {
namespace {

// A Zipf-like vocabulary: "w<k>" with a few real words, punctuation and some non-ASCII words so
// that the Unicode paths are exercised at a realistic rate.
class Vocabulary {
 public:
  explicit Vocabulary(std::mt19937_64* rng) : rng_(rng) {
    const char* common[] = {"the", "a",  "of",  "and", "to",   "in",  "is",   "that", "it", "was",
                            "for", "on", "are", "as",  "with", "his", "they", "at",   "be", "this"};
    for (const char* w : common) words_.push_back(w);
    const char* extra[] = {"café",   "naïve", "Zürich", "São",        "Ελλάδα",
                           "東京",   "don't", "U.S.",   "3.14",       "1,000",
                           "e-mail", "(see",  "note)",  "\"quoted\"", "end."};
    for (const char* w : extra) words_.push_back(w);
    for (int k = 0; k < 5000; ++k) words_.push_back(absl::StrCat("w", k));
    std::vector<double> weights;
    for (size_t k = 0; k < words_.size(); ++k) weights.push_back(1.0 / (k + 1.0));
    dist_ = std::discrete_distribution<size_t>(weights.begin(), weights.end());
  }
  const std::string& Word() { return words_[dist_(*rng_)]; }

 private:
  std::mt19937_64* rng_;
  std::vector<std::string> words_;
  std::discrete_distribution<size_t> dist_;
};

std::string Sentence(Vocabulary* vocab, int len) {
  std::string s;
  for (int i = 0; i < len; ++i) absl::StrAppend(&s, i ? " " : "", vocab->Word());
  return s;
}

// Copies `s` word by word, replacing, dropping or inserting words with probability p each.
std::string Perturb(const std::string& s, double p, Vocabulary* vocab, std::mt19937_64* rng) {
  std::uniform_real_distribution<double> u(0, 1);
  std::string out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(' ', start);
    if (end == std::string::npos) end = s.size();
    const double r = u(*rng);
    std::string word = s.substr(start, end - start);
    if (r < p) word = vocab->Word();
    if (r >= p && r < 2 * p) word.clear();
    if (!word.empty()) absl::StrAppend(&out, out.empty() ? "" : " ", word);
    if (r >= 2 * p && r < 3 * p) absl::StrAppend(&out, " ", vocab->Word());
    start = end + 1;
  }
  return out;
}

}  // namespace

ExampleKind KindForMetric(absl::string_view metric) {
  if (metric == "accuracy" || metric == "macro_f1" || metric == "micro_f1" || metric == "mcc") {
    return ExampleKind::kLabels;
  }
  if (metric == "exact_match" || metric == "token_f1") return ExampleKind::kShortAnswers;
  if (metric == "perplexity") return ExampleKind::kLogprobs;
  return ExampleKind::kSentences;
}

std::vector<ScoringExample> GenerateExamples(ExampleKind kind, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Vocabulary vocab(&rng);
  std::vector<ScoringExample> out(n);
  const char* labels[] = {"positive", "negative", "neutral", "mixed", "unknown"};
  for (ScoringExample& ex : out) {
    switch (kind) {
      case ExampleKind::kLabels: {
        const std::string gold = labels[rng() % 5];
        ex.reference.texts = {gold};
        ex.prediction.text = u(rng) < 0.8 ? gold : labels[rng() % 5];
        break;
      }
      case ExampleKind::kShortAnswers: {
        const std::string gold = Sentence(&vocab, 1 + static_cast<int>(rng() % 4));
        ex.reference.texts = {gold};
        if (u(rng) < 0.3) ex.reference.texts.push_back(Sentence(&vocab, 2));
        const double r = u(rng);
        ex.prediction.text = r < 0.5   ? gold
                             : r < 0.7 ? absl::StrCat("The ", gold, ".")
                                       : Perturb(gold, 0.3, &vocab, &rng);
        break;
      }
      case ExampleKind::kSentences: {
        const std::string ref = Sentence(&vocab, 15 + static_cast<int>(rng() % 11));
        ex.reference.texts = {ref};
        ex.prediction.text = Perturb(ref, 0.15, &vocab, &rng);
        break;
      }
      case ExampleKind::kLogprobs: {
        ex.prediction.has_logprobs = true;
        const int len = 10 + static_cast<int>(rng() % 21);
        for (int i = 0; i < len; ++i) ex.prediction.token_logprobs.push_back(-4 * u(rng));
        break;
      }
    }
  }
  return out;
}

}  // namespace emar
