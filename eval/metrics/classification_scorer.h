// Multi-class classification metrics with scikit-learn semantics: `macro_f1`, `micro_f1`, `mcc`.
//
// A row is {gold label id, predicted label id} (ids from the shard's LabelTable; labels are
// compared after stripping Python whitespace). Accumulate adds each row to the three things the
// scores need from the confusion matrix, its row totals, column totals and diagonal:
// acc[gold] (gold total), acc[num_labels + predicted] (predicted total) and, when they agree,
// acc[2 * num_labels + gold] (true positives). 3 × num_labels doubles rather than the whole
// num_labels² matrix: a resample of a 2,048-label dataset summarises 6,144 values, not 4 million.
// Finalize computes the score over the labels that occur (nonzero gold or predicted total).
// That is sklearn's "sorted union of y_true and y_pred", evaluated per resample: a bootstrap
// resample that drops a label behaves like sklearn run on that resample.
// Zero divisions count 0 (sklearn's zero_division="warn" value). Values are fractions; an empty
// matrix is undefined (sklearn 1.2.1 returns NaN for macro-F1 and 0 for micro-F1/MCC there).
//
//   MacroF1Metric m;
//   LabelTable labels;
//   double row[2];
//   m.ScoreExample({"cat"}, {{"dog"}}, &labels, absl::MakeSpan(row));  // row = {0, 1}
//   std::vector<double> acc(m.AccumulatorWidth(labels.size()));
//   m.Accumulate(row, 1.0, labels.size(), absl::MakeSpan(acc));
//   MetricValue v = m.Finalize(acc, labels.size(), 1.0);  // 0: both classes have F1 0
#ifndef EMAR_EVAL_METRICS_CLASSIFICATION_SCORER_H_
#define EMAR_EVAL_METRICS_CLASSIFICATION_SCORER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "eval/metrics/metric.h"

namespace emar {

// Everything sklearn reports for a confusion matrix restricted to its occurring labels.
struct ConfusionSummary {
  double total = 0;              // Σ weights
  std::vector<uint32_t> labels;  // occurring label ids, ascending id order
  std::vector<double> f1;        // per occurring label, aligned with `labels`
  double accuracy = 0;
  double macro_f1 = 0;
  double micro_f1 = 0;
  double mcc = 0;
};

// `acc` is a ConfusionMetric accumulator over `num_labels` labels (3 × num_labels: gold totals,
// predicted totals, true positives), weights ≥ 0.
ConfusionSummary SummarizeConfusion(absl::Span<const double> acc, size_t num_labels);

// Shared implementation; the subclasses only pick the summary field.
class ConfusionMetric : public Metric {
 public:
  Direction direction() const override { return Direction::kHigherIsBetter; }
  size_t stats_width() const override { return 2; }
  bool uses_labels() const override { return true; }
  // Precondition: `labels` is non-null; the reference holds exactly one label.
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;
  size_t AccumulatorWidth(size_t num_labels) const override { return 3 * num_labels; }
  // Precondition: both ids in `row` are < num_labels.
  void Accumulate(absl::Span<const double> row, double weight, size_t num_labels,
                  absl::Span<double> acc) const override;
  MetricValue Finalize(absl::Span<const double> acc, size_t num_labels, double n) const override;

 protected:
  virtual double Pick(const ConfusionSummary& s) const = 0;
};

class MacroF1Metric final : public ConfusionMetric {
 public:
  absl::string_view name() const override { return "macro_f1"; }
  std::string signature() const override;

 private:
  double Pick(const ConfusionSummary& s) const override { return s.macro_f1; }
};

class MicroF1Metric final : public ConfusionMetric {
 public:
  absl::string_view name() const override { return "micro_f1"; }
  std::string signature() const override;

 private:
  double Pick(const ConfusionSummary& s) const override { return s.micro_f1; }
};

class MccMetric final : public ConfusionMetric {
 public:
  absl::string_view name() const override { return "mcc"; }
  std::string signature() const override;

 private:
  double Pick(const ConfusionSummary& s) const override { return s.mcc; }
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_CLASSIFICATION_SCORER_H_
