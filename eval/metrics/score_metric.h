// The `score` metric: a per-example number computed elsewhere — an LLM judge's grade, a unit-test
// pass, a reward model's score, or the `acc` / `acc_norm` / `exact_match` values that an
// lm-evaluation-harness samples file already holds. The value is the mean over the examples,
// like accuracy, so it gets the same paired intervals and tests.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Metric> m, ScoreMetric::FromSpec(spec));  // field: acc
//   FieldConfig config;
//   config.prediction_field = ScoreMetric::ValueField(spec);   // read the value from "acc"
//   ... PredictionReader + ScoreExample as for any metric: row[0] = the value ...
//
// Where the value comes from: the input layer reads the line's `field` as the prediction (set
// FieldConfig::prediction_field to it; with no `field`, the prediction field itself holds the
// score). Numbers, booleans (true = 1) and strings holding a number are accepted; anything else,
// NaN or an infinity is INVALID_ARGUMENT naming the field, and so is a value outside `range`
// when one is given; the caller adds the file and line. The references are not consulted.
//
// Immutable and thread-safe.
#ifndef EMAR_EVAL_METRICS_SCORE_METRIC_H_
#define EMAR_EVAL_METRICS_SCORE_METRIC_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "emar/v1/job.pb.h"
#include "eval/metrics/per_example_mean.h"

namespace emar {

// A per-example value from its JSON text (canonical labels: "1", "0.5", "true"); errors name
// `field` ("field 'acc': expected a number or a boolean, got \"yes\"").
absl::StatusOr<double> ParseScoreValue(absl::string_view text, absl::string_view field);

struct ScoreOptions {
  std::string field;                               // empty: the prediction field holds the value
  std::optional<std::pair<double, double>> range;  // inclusive [min, max], checked per example
  Direction direction = Direction::kHigherIsBetter;
};

class ScoreMetric final : public PerExampleMeanMetric {
 public:
  explicit ScoreMetric(ScoreOptions options = {}) : options_(std::move(options)) {}

  // From MetricSpec.field / range / direction. INVALID_ARGUMENT naming the option for a range
  // that is not two finite numbers min < max, or an unknown direction, or an option of another
  // metric (the spec's name must be "score").
  static absl::StatusOr<std::unique_ptr<ScoreMetric>> FromSpec(const emar::v1::MetricSpec& spec);
  // The outputs field the value is read from: spec.field, or "" for the prediction field.
  static const std::string& ValueField(const emar::v1::MetricSpec& spec) { return spec.field(); }

  absl::string_view name() const override { return "score"; }
  Direction direction() const override { return options_.direction; }
  std::string signature() const override;
  const ScoreOptions& options() const { return options_; }

  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;

 private:
  absl::string_view FieldName() const;
  ScoreOptions options_;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_SCORE_METRIC_H_
