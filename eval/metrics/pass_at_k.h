// `pass_at_k`: the chance that at least one of k samples of an item is right, estimated without
// bias from n >= k samples of which c are right (Chen et al. 2021, "Evaluating Large Language
// Models Trained on Code"):
//   pass@k = 1 − C(n − c, k) / C(n, k) = 1 − Π_{i = n − c + 1}^{n} (1 − k / i)   (1 when n − c < k)
// computed as that product (no factorials, no overflow), then averaged over the items.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<PassAtKMetric> m, PassAtKMetric::FromSpec(spec));  // k: 5
//   ... ScoreExample gives each sample a 0/1 row; eval/input/sample_groups.h sums them per item
//   ... (n samples, c right), then ItemRow turns (n, c) into the item's pass@k row.
//
// A sample is right when its prediction equals a reference after stripping whitespace (as
// `accuracy`), or, with `field` set, when that outputs field (read as the prediction, as for
// `score`) holds 1 or true — a unit test's pass; any other value is an error naming the field.
// Item rows are fractions, not 0/1, so is_binary() is false: the paired bootstrap, resampling
// items, gives the intervals and tests. Immutable and thread-safe.
#ifndef EMAR_EVAL_METRICS_PASS_AT_K_H_
#define EMAR_EVAL_METRICS_PASS_AT_K_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "emar/v1/job.pb.h"
#include "eval/metrics/per_example_mean.h"

namespace emar {

// The unbiased estimator above; requires 0 <= c <= n and 1 <= k <= n (not checked: see ItemRow).
double PassAtK(int64_t n, int64_t c, int64_t k);

class PassAtKMetric final : public PerExampleMeanMetric {
 public:
  // `field` empty: samples are judged against the references (accuracy's rule).
  explicit PassAtKMetric(int k = 1, std::string field = "") : k_(k), field_(std::move(field)) {}

  // From MetricSpec.k (required, >= 1) and .field. INVALID_ARGUMENT naming the option otherwise.
  static absl::StatusOr<std::unique_ptr<PassAtKMetric>> FromSpec(const emar::v1::MetricSpec& spec);

  absl::string_view name() const override { return "pass_at_k"; }
  std::string signature() const override;
  int k() const { return k_; }
  const std::string& field() const { return field_; }

  // One sample: row[0] = 1 when right, else 0.
  absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                            LabelTable* labels, absl::Span<double> row) const override;

  // An item's row from its `samples` n and the sum of their 0/1 rows c:
  // row[0] = PassAtK(n, c, k). INVALID_ARGUMENT when k > n (naming both) or c is not an integer
  // in [0, n].
  absl::Status ItemRow(int64_t samples, double correct, absl::Span<double> row) const;

 private:
  int k_;
  std::string field_;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_PASS_AT_K_H_
