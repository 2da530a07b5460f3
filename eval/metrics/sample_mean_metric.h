// A metric over items that each have several samples (k predictions per reference id): the
// item's statistics row is the mean of its samples' rows (eval/input/sample_groups.h), and this
// wrapper scores such item rows with the sample metric's own Finalize. For a per-example-mean
// metric (accuracy, exact_match, token_f1, score) the corpus value is then the mean over items of
// the per-item mean; for a ratio metric (BLEU, perplexity) the sums are 1/k of the samples' and
// the ratio is unchanged. Because one row is one item, the bootstrap resamples items (a cluster
// bootstrap) and base and candidate stay paired by item.
//
//   SampleMeanMetric items(*MakeMetric("accuracy"));          // wraps, does not own
//   ASSIGN_OR_RETURN(ValidRows rows, ValidRows::Validate({&items, 0, n, {base, cand}}, "target"));
//
// Item means of 0/1 samples are fractions, so is_binary() is false (callers with one sample per
// item use the sample metric itself and keep McNemar's test). Metrics whose rows are label ids
// (macro_f1, mcc, ...) cannot be averaged: Create refuses them. The wrapped metric must outlive
// the wrapper. Immutable and thread-safe.
#ifndef EMAR_EVAL_METRICS_SAMPLE_MEAN_METRIC_H_
#define EMAR_EVAL_METRICS_SAMPLE_MEAN_METRIC_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "eval/metrics/metric.h"

namespace emar {

class SampleMeanMetric final : public Metric {
 public:
  // INVALID_ARGUMENT when `sample_metric` uses labels.
  static absl::StatusOr<std::unique_ptr<SampleMeanMetric>> Create(const Metric& sample_metric);

  absl::string_view name() const override { return sample_metric_.name(); }
  Direction direction() const override { return sample_metric_.direction(); }
  std::string signature() const override;
  size_t stats_width() const override { return sample_metric_.stats_width(); }
  // Delegates (scores one sample); an item row is built by eval/input's sample grouping.
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override {
    return sample_metric_.ScoreExample(prediction, reference, labels, row);
  }
  MetricValue Finalize(absl::Span<const double> acc, size_t num_labels, double n) const override {
    return sample_metric_.Finalize(acc, num_labels, n);
  }

 private:
  explicit SampleMeanMetric(const Metric& sample_metric) : sample_metric_(sample_metric) {}
  const Metric& sample_metric_;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_SAMPLE_MEAN_METRIC_H_
