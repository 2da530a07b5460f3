#include "eval/metrics/perplexity_scorer.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace emar {

std::string PerplexityMetric::signature() const {
  return "perplexity|log:e|agg:corpus-token-mean|version:emar-0.1";
}

absl::Status PerplexityMetric::ScoreExample(const Prediction& prediction,
                                            const Reference& reference, LabelTable* labels,
                                            absl::Span<double> row) const {
  if (!prediction.has_logprobs) {
    return absl::InvalidArgumentError(
        "token_logprobs: missing; perplexity needs per-token log-probabilities in the outputs");
  }
  double sum = 0;
  double neg_inf = 0;
  const std::vector<double>& lp = prediction.token_logprobs;
  for (size_t i = 0; i < lp.size(); ++i) {
    const double x = lp[i];
    if (std::isfinite(x)) {
      sum += x;
    } else if (x < 0) {
      neg_inf += 1;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("token_logprobs[", i, "]: ", x, " is not a log-probability"));
    }
  }
  row[0] = sum;
  row[1] = static_cast<double>(lp.size());
  row[2] = neg_inf;
  return absl::OkStatus();
}

MetricValue PerplexityMetric::Finalize(absl::Span<const double> acc, size_t num_labels,
                                       double n) const {
  const double sum = acc[0], tokens = acc[1], neg_inf = acc[2];
  if (!(tokens > 0)) {
    return MetricValue::Undefined("no tokens: perplexity needs at least one token log-prob");
  }
  if (neg_inf > 0) {
    return MetricValue::Undefined(
        absl::StrCat(neg_inf, " token(s) have log-probability -inf, so perplexity is infinite"));
  }
  const double ppl = std::exp(-sum / tokens);
  if (!std::isfinite(ppl)) {
    return MetricValue::Undefined(absl::StrCat("perplexity overflows a double (mean NLL ",
                                               -sum / tokens, " nats per token)"));
  }
  return MetricValue::Of(ppl);
}

}  // namespace emar
