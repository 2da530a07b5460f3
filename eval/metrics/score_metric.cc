#include "eval/metrics/score_metric.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "eval/metrics/unicode_text.h"

namespace emar {
namespace {

constexpr char kPredictionField[] = "prediction";

// "0.5" stays "0.5"; "1e+20" stays; integral values lose their ".0" (as labels render).
std::string RangeText(double v) { return absl::StrCat(v); }

}  // namespace

absl::StatusOr<double> ParseScoreValue(absl::string_view text, absl::string_view field) {
  const absl::string_view t = PythonStrip(text);
  if (t == "true") return 1.0;
  if (t == "false") return 0.0;
  double v = 0;
  // SimpleAtod also takes "inf", "nan" and hex floats; a score is a plain finite decimal.
  const bool plain =
      !t.empty() && t.find_first_not_of("0123456789+-.eE") == absl::string_view::npos;
  if (!plain || !absl::SimpleAtod(t, &v) || !std::isfinite(v)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field '", field, "': expected a finite number or a boolean, got \"", text, "\""));
  }
  return v;
}

absl::StatusOr<std::unique_ptr<ScoreMetric>> ScoreMetric::FromSpec(
    const emar::v1::MetricSpec& spec) {
  if (spec.name() != "score") {
    return absl::InvalidArgumentError(
        absl::StrCat("metric '", spec.name(), "' is not the score metric"));
  }
  if (spec.has_k()) {
    return absl::InvalidArgumentError("metric 'score' takes no option 'k' (that is pass_at_k's)");
  }
  ScoreOptions options;
  options.field = spec.field();
  if (spec.range_size() != 0) {
    if (spec.range_size() != 2 || !std::isfinite(spec.range(0)) || !std::isfinite(spec.range(1)) ||
        !(spec.range(0) < spec.range(1))) {
      return absl::InvalidArgumentError(
          "metric 'score': option 'range' must be two finite numbers [min, max] with min < max");
    }
    options.range = std::make_pair(spec.range(0), spec.range(1));
  }
  if (spec.direction().empty() || spec.direction() == "higher_is_better") {
    options.direction = Direction::kHigherIsBetter;
  } else if (spec.direction() == "lower_is_better") {
    options.direction = Direction::kLowerIsBetter;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("metric 'score': option 'direction' must be higher_is_better or "
                     "lower_is_better, got '",
                     spec.direction(), "'"));
  }
  return std::make_unique<ScoreMetric>(std::move(options));
}

absl::string_view ScoreMetric::FieldName() const {
  return options_.field.empty() ? absl::string_view(kPredictionField)
                                : absl::string_view(options_.field);
}

std::string ScoreMetric::signature() const {
  std::string sig = absl::StrCat("score|field:", FieldName());
  if (options_.range) {
    absl::StrAppend(&sig, "|range:", RangeText(options_.range->first), ",",
                    RangeText(options_.range->second));
  }
  absl::StrAppend(&sig, "|dir:", DirectionName(options_.direction), "|version:emar-0.1");
  return sig;
}

absl::Status ScoreMetric::ScoreExample(const Prediction& prediction, const Reference& reference,
                                       LabelTable* labels, absl::Span<double> row) const {
  absl::StatusOr<double> v = ParseScoreValue(prediction.text, FieldName());
  if (!v.ok()) return v.status();
  if (options_.range && (*v < options_.range->first || *v > options_.range->second)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "field '", FieldName(), "': ", RangeText(*v), " is outside the range [",
        RangeText(options_.range->first), ", ", RangeText(options_.range->second), "]"));
  }
  row[0] = *v;
  return absl::OkStatus();
}

}  // namespace emar
