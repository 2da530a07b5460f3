// Google Benchmark for every registered metric: ScoreExample over generated in-memory examples
// (items/s = examples/s), plus Accumulate + Finalize of the resulting rows, and the 13a tokenizer
// alone. Parsing and joining are not included; see bench/python for the file-to-number
// comparison with the Python reference implementations.
//
//   build-scoring/bench/scoring_bench --benchmark_filter='Score/bleu'
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/scoring/scoring_data.h"
#include "benchmark/benchmark.h"
#include "eval/metrics/metric.h"
#include "eval/metrics/metric_registry.h"
#include "eval/metrics/tokenizer_13a.h"

namespace emar {
namespace {

constexpr size_t kExamples = 20000;

const std::vector<ScoringExample>& Examples(ExampleKind kind) {
  static auto* cache = new std::vector<std::vector<ScoringExample>>(4);
  auto& v = (*cache)[static_cast<int>(kind)];
  if (v.empty()) v = GenerateExamples(kind, kExamples);
  return v;
}

void BM_ScoreExample(benchmark::State& state, const std::string& metric_name) {
  auto metric = std::move(MakeMetric(metric_name)).value();
  const auto& examples = Examples(KindForMetric(metric_name));
  LabelTable labels;
  std::vector<double> row(metric->stats_width());
  for (auto _ : state) {
    for (const ScoringExample& ex : examples) {
      const absl::Status s =
          metric->ScoreExample(ex.prediction, ex.reference, &labels, absl::MakeSpan(row));
      if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
      benchmark::DoNotOptimize(row.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * examples.size());
}

void BM_AccumulateFinalize(benchmark::State& state, const std::string& metric_name) {
  auto metric = std::move(MakeMetric(metric_name)).value();
  const auto& examples = Examples(KindForMetric(metric_name));
  LabelTable labels;
  const size_t width = metric->stats_width();
  std::vector<double> rows(examples.size() * width);
  for (size_t i = 0; i < examples.size(); ++i) {
    (void)metric->ScoreExample(examples[i].prediction, examples[i].reference, &labels,
                               absl::MakeSpan(rows.data() + i * width, width));
  }
  std::vector<double> acc(metric->AccumulatorWidth(labels.size()));
  for (auto _ : state) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (size_t i = 0; i < examples.size(); ++i) {
      metric->Accumulate(absl::MakeConstSpan(rows.data() + i * width, width), 1.0, labels.size(),
                         absl::MakeSpan(acc));
    }
    MetricValue v = metric->Finalize(acc, labels.size(), static_cast<double>(examples.size()));
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations() * examples.size());
}

void BM_Tokenize13a(benchmark::State& state) {
  const auto& examples = Examples(ExampleKind::kSentences);
  Tokenizer13a tokenizer;
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    for (const ScoringExample& ex : examples) {
      tokenizer.Tokenize(ex.prediction.text, &out);
      bytes += ex.prediction.text.size();
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * examples.size());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_Tokenize13a)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace emar

int main(int argc, char** argv) {
  for (const std::string& name : emar::MetricNames()) {
    benchmark::RegisterBenchmark(absl::StrCat("Score/", name).c_str(), emar::BM_ScoreExample, name)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(absl::StrCat("AccumulateFinalize/", name).c_str(),
                                 emar::BM_AccumulateFinalize, name)
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
