#include "worker/scoring/metric.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "worker/scoring/accuracy_scorer.h"
#include "worker/scoring/bleu_scorer.h"
#include "worker/scoring/chrf_scorer.h"
#include "worker/scoring/classification_scorer.h"
#include "worker/scoring/exact_match_scorer.h"
#include "worker/scoring/perplexity_scorer.h"
#include "worker/scoring/rouge_scorer.h"

namespace emar {
namespace {

using MetricFactory = std::unique_ptr<Metric> (*)();

template <typename T>
std::unique_ptr<Metric> Make() {
  return std::make_unique<T>();
}

template <RougeType kType>
std::unique_ptr<Metric> MakeRouge() {
  return std::make_unique<RougeMetric>(kType);
}

// Every metric the service knows, sorted by name.
const std::vector<std::pair<absl::string_view, MetricFactory>>& Registry() {
  static const auto* registry = new std::vector<std::pair<absl::string_view, MetricFactory>>{
      {"accuracy", &Make<AccuracyMetric>},
      {"bleu", &Make<BleuMetric>},
      {"chrf", &Make<ChrfMetric>},
      {"exact_match", &Make<ExactMatchMetric>},
      {"macro_f1", &Make<MacroF1Metric>},
      {"mcc", &Make<MccMetric>},
      {"micro_f1", &Make<MicroF1Metric>},
      {"perplexity", &Make<PerplexityMetric>},
      {"rouge1", &MakeRouge<RougeType::kRouge1>},
      {"rouge2", &MakeRouge<RougeType::kRouge2>},
      {"rougeL", &MakeRouge<RougeType::kRougeL>},
      {"token_f1", &Make<TokenF1Metric>},
  };
  return *registry;
}

}  // namespace

absl::string_view DirectionName(Direction d) {
  return d == Direction::kHigherIsBetter ? "higher_is_better" : "lower_is_better";
}

uint32_t LabelTable::Intern(absl::string_view label) {
  auto it = ids_.find(label);
  if (it != ids_.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(labels_.size());
  labels_.emplace_back(label);
  ids_.emplace(labels_.back(), id);
  return id;
}

absl::StatusOr<std::unique_ptr<Metric>> MakeMetric(absl::string_view name) {
  for (const auto& [known, factory] : Registry()) {
    if (known == name) return factory();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown metric \"", name, "\"; known metrics: ", absl::StrJoin(MetricNames(), ", ")));
}

std::vector<std::string> MetricNames() {
  std::vector<std::string> names;
  for (const auto& entry : Registry()) names.emplace_back(entry.first);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace emar
