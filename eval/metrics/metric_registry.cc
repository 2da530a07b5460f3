#include "eval/metrics/metric_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eval/metrics/accuracy_scorer.h"
#include "eval/metrics/bleu_scorer.h"
#include "eval/metrics/chrf_scorer.h"
#include "eval/metrics/classification_scorer.h"
#include "eval/metrics/exact_match_scorer.h"
#include "eval/metrics/pass_at_k.h"
#include "eval/metrics/perplexity_scorer.h"
#include "eval/metrics/rouge_scorer.h"
#include "eval/metrics/score_metric.h"

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
      {"pass_at_k", &Make<PassAtKMetric>},
      {"perplexity", &Make<PerplexityMetric>},
      {"rouge1", &MakeRouge<RougeType::kRouge1>},
      {"rouge2", &MakeRouge<RougeType::kRouge2>},
      {"rougeL", &MakeRouge<RougeType::kRougeL>},
      {"score", &Make<ScoreMetric>},
      {"token_f1", &Make<TokenF1Metric>},
  };
  return *registry;
}

}  // namespace

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
