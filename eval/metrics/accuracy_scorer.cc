#include "eval/metrics/accuracy_scorer.h"

#include "common/status_macros.h"
#include "eval/metrics/unicode_text.h"

namespace emar {

std::string AccuracyMetric::signature() const {
  return "accuracy|strip:py-ws|refs:any|version:emar-0.1";
}

absl::Status AccuracyMetric::ScoreExample(const Prediction& prediction, const Reference& reference,
                                          LabelTable* labels, absl::Span<double> row) const {
  RETURN_IF_ERROR(RequireReferences(reference));
  const absl::string_view pred = PythonStrip(prediction.text);
  double correct = 0;
  for (const std::string& ref : reference.texts) {
    if (PythonStrip(ref) == pred) {
      correct = 1;
      break;
    }
  }
  row[0] = correct;
  return absl::OkStatus();
}

}  // namespace emar
