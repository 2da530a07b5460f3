#include "eval/metrics/pass_at_k.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/metrics/score_metric.h"
#include "eval/metrics/unicode_text.h"

namespace emar {

double PassAtK(int64_t n, int64_t c, int64_t k) {
  if (n - c < k) return 1.0;
  // C(n − c, k) / C(n, k) = Π_{i = n − c + 1}^{n} (1 − k / i): every factor is in [0, 1).
  double all_wrong = 1.0;
  for (int64_t i = n - c + 1; i <= n; ++i) {
    all_wrong *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  }
  return 1.0 - all_wrong;
}

absl::StatusOr<std::unique_ptr<PassAtKMetric>> PassAtKMetric::FromSpec(
    const emar::v1::MetricSpec& spec) {
  if (spec.name() != "pass_at_k") {
    return absl::InvalidArgumentError(absl::StrCat("metric '", spec.name(), "' is not pass_at_k"));
  }
  if (!spec.has_k() || spec.k() < 1) {
    return absl::InvalidArgumentError(
        "metric 'pass_at_k': option 'k' is required, an integer >= 1 (at most the samples per "
        "item)");
  }
  if (spec.range_size() != 0 || !spec.direction().empty()) {
    return absl::InvalidArgumentError(
        "metric 'pass_at_k' takes options 'k' and 'field' only ('range' and 'direction' are "
        "score's)");
  }
  return std::make_unique<PassAtKMetric>(spec.k(), spec.field());
}

std::string PassAtKMetric::signature() const {
  return absl::StrCat(
      "pass_at_k|k:", k_, "|",
      field_.empty() ? std::string("match:strip-eq|refs:any") : absl::StrCat("field:", field_),
      "|estimator:chen2021|version:emar-0.1");
}

absl::Status PassAtKMetric::ScoreExample(const Prediction& prediction, const Reference& reference,
                                         LabelTable* labels, absl::Span<double> row) const {
  if (!field_.empty()) {
    ASSIGN_OR_RETURN(const double v, ParseScoreValue(prediction.text, field_));
    if (v != 0 && v != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field '", field_, "': pass_at_k needs 0/1 (or false/true) per sample, got ", v));
    }
    row[0] = v;
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(RequireReferences(reference));
  const absl::string_view pred = PythonStrip(prediction.text);
  row[0] = 0;
  for (const std::string& ref : reference.texts) {
    if (PythonStrip(ref) == pred) {
      row[0] = 1;
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status PassAtKMetric::ItemRow(int64_t samples, double correct, absl::Span<double> row) const {
  if (k_ > samples) {
    return absl::InvalidArgumentError(absl::StrCat("pass_at_k: k = ", k_, " needs at least ", k_,
                                                   " samples per item, got ", samples));
  }
  const double c = std::round(correct);
  if (!(c >= 0 && c <= static_cast<double>(samples)) || std::fabs(c - correct) > 1e-9) {
    return absl::InvalidArgumentError(absl::StrCat("pass_at_k: ", correct, " right of ", samples,
                                                   " samples is not a count in [0, n]"));
  }
  row[0] = PassAtK(samples, static_cast<int64_t>(c), k_);
  return absl::OkStatus();
}

}  // namespace emar
