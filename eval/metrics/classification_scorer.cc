#include "eval/metrics/classification_scorer.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "eval/metrics/unicode_text.h"

namespace emar {

ConfusionSummary SummarizeConfusion(absl::Span<const double> acc, size_t num_labels) {
  ConfusionSummary s;
  const double* gold_totals = acc.data();
  const double* pred_totals = acc.data() + num_labels;
  const double* true_positives = acc.data() + 2 * num_labels;
  double correct = 0;
  for (size_t k = 0; k < num_labels; ++k) correct += true_positives[k];
  double sum_gold_sq = 0, sum_pred_sq = 0, sum_gold_pred = 0, f1_sum = 0;
  for (size_t k = 0; k < num_labels; ++k) {
    if (gold_totals[k] == 0 && pred_totals[k] == 0) continue;
    s.total += gold_totals[k];
    const double tp = true_positives[k];
    const double precision = pred_totals[k] > 0 ? tp / pred_totals[k] : 0.0;
    const double recall = gold_totals[k] > 0 ? tp / gold_totals[k] : 0.0;
    const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
    s.labels.push_back(static_cast<uint32_t>(k));
    s.f1.push_back(f1);
    f1_sum += f1;
    sum_gold_sq += gold_totals[k] * gold_totals[k];
    sum_pred_sq += pred_totals[k] * pred_totals[k];
    sum_gold_pred += gold_totals[k] * pred_totals[k];
  }
  if (s.labels.empty()) return s;
  s.accuracy = correct / s.total;
  s.macro_f1 = f1_sum / s.labels.size();
  // Single-label data: micro precision = micro recall = Σtp / n.
  s.micro_f1 = s.accuracy;
  const double n = s.total;
  const double cov_ytyp = correct * n - sum_gold_pred;
  const double cov_ypyp = n * n - sum_pred_sq;
  const double cov_ytyt = n * n - sum_gold_sq;
  s.mcc = (cov_ypyp * cov_ytyt == 0) ? 0.0 : cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
  return s;
}

absl::Status ConfusionMetric::ScoreExample(const Prediction& prediction, const Reference& reference,
                                           LabelTable* labels, absl::Span<double> row) const {
  if (labels == nullptr) {
    return absl::InternalError(absl::StrCat(name(), " needs a LabelTable to intern labels"));
  }
  if (reference.texts.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("references: ", name(), " takes exactly one gold label per example, got ",
                     reference.texts.size()));
  }
  row[0] = labels->Intern(PythonStrip(reference.texts[0]));
  row[1] = labels->Intern(PythonStrip(prediction.text));
  return absl::OkStatus();
}

void ConfusionMetric::Accumulate(absl::Span<const double> row, double weight, size_t num_labels,
                                 absl::Span<double> acc) const {
  const size_t gold = static_cast<size_t>(row[0]);
  const size_t pred = static_cast<size_t>(row[1]);
  acc[gold] += weight;
  acc[num_labels + pred] += weight;
  if (gold == pred) acc[2 * num_labels + gold] += weight;
}

MetricValue ConfusionMetric::Finalize(absl::Span<const double> acc, size_t num_labels,
                                      double n) const {
  const ConfusionSummary s = SummarizeConfusion(acc, num_labels);
  if (s.labels.empty()) return MetricValue::Undefined("no examples");
  return MetricValue::Of(Pick(s));
}

std::string MacroF1Metric::signature() const {
  return "macro_f1|labels:observed-union|zero_div:0|strip:py-ws|version:emar-0.1";
}
std::string MicroF1Metric::signature() const {
  return "micro_f1|labels:observed-union|zero_div:0|strip:py-ws|version:emar-0.1";
}
std::string MccMetric::signature() const {
  return "mcc|labels:observed-union|zero_div:0|strip:py-ws|version:emar-0.1";
}

}  // namespace emar
