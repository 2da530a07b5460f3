// The scorer interface: every metric is "per-example sufficient statistics, summed, then a
// function of the sums" (docs/metrics.md).
//
//   absl::StatusOr<std::unique_ptr<Metric>> m = MakeMetric("exact_match");  // metric_registry.h
//   std::vector<double> row((*m)->stats_width());
//   LabelTable labels;
//   (*m)->ScoreExample(prediction, reference, &labels, absl::MakeSpan(row));
//   ... rows of many examples, each with a weight (1 for the plain score, a bootstrap
//   multiplicity when resampling), go through Accumulate into one accumulator ...
//   MetricValue v = (*m)->Finalize(acc, labels.size());
//
// Workers produce rows; the coordinator stores them (never the texts) and aggregates. That makes
// corpus-level metrics (BLEU, chrF, macro-F1, MCC, perplexity) exact and resampling cheap.
//
// Scores are fractions (accuracy 0.8, BLEU 0.273), never percents; perplexity is a raw
// perplexity. Metric objects are immutable after construction and thread-safe.
#ifndef EMAR_EVAL_METRICS_METRIC_H_
#define EMAR_EVAL_METRICS_METRIC_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace emar {

enum class Direction { kHigherIsBetter, kLowerIsBetter };
absl::string_view DirectionName(Direction d);  // "higher_is_better" / "lower_is_better"

// One model output, parsed from a JSONL line. `text` is UTF-8. Labels that were JSON numbers or
// booleans arrive rendered canonically (see eval/input), so "1" == 1 == 1.0 and true == "true".
struct Prediction {
  std::string text;
  // Per-token natural-log probabilities, for perplexity. Empty with has_logprobs=false when the
  // line had none.
  bool has_logprobs = false;
  std::vector<double> token_logprobs;
  // Multiple-choice outputs (lm-evaluation-harness loglikelihood requests, read by
  // eval/input/harness_samples.h): one log-likelihood per choice and the choices' texts,
  // in the same order. Empty for every other metric.
  std::vector<double> choice_loglikelihoods;
  std::vector<std::string> choices;
};

// The gold side of one example: one or more references (a single `reference` is a list of one).
struct Reference {
  std::vector<std::string> texts;
};

// Interns label strings as dense ids, for the classification metrics whose statistics are
// confusion counts. A worker keeps one per shard and ships it with the shard's rows; the
// coordinator remaps shard-local ids into one table per dataset. Not thread-safe.
// Classification metrics accumulate a num_labels x num_labels confusion matrix (and the bootstrap
// one per resample in flight), so a dataset may have at most this many distinct labels; more
// means free text, for which exact_match or token_f1 are the metrics.
inline constexpr size_t kMaxLabels = 2048;

class LabelTable {
 public:
  uint32_t Intern(absl::string_view label);
  size_t size() const { return labels_.size(); }
  const std::string& label(uint32_t id) const { return labels_[id]; }
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  absl::flat_hash_map<std::string, uint32_t> ids_;
  std::vector<std::string> labels_;
};

// sacrebleu's `nrefs` signature field: how many references each example had. Add every scored
// example's count (or Merge tallies of shards); nrefs() is "N" when every example had N
// references and "var" otherwise (also with no examples, as sacrebleu).
class ReferenceCounts {
 public:
  void Add(size_t count);
  void Merge(const ReferenceCounts& other);
  // Adds a tally written by nrefs() elsewhere (a shard's): "N" as N references, anything else
  // ("var", or a value from before tallies were kept) as varying.
  void MergeNrefs(absl::string_view nrefs);
  bool empty() const { return state_ == State::kEmpty; }
  std::string nrefs() const;

 private:
  enum class State { kEmpty, kUniform, kVariable };
  State state_ = State::kEmpty;
  size_t count_ = 0;
};

// A corpus-level value. Exactly one of `value` and `undefined_reason` is set: an undefined
// score (perplexity with a -inf log-prob, no tokens at all, ...) is never inf or NaN.
struct MetricValue {
  std::optional<double> value;
  std::string undefined_reason;

  static MetricValue Of(double v) { return MetricValue{v, ""}; }
  static MetricValue Undefined(std::string why) {
    return MetricValue{std::nullopt, std::move(why)};
  }
};

class Metric {
 public:
  virtual ~Metric() = default;

  // The name used in job files and `emarctl score --metric`.
  virtual absl::string_view name() const = 0;
  virtual Direction direction() const = 0;
  // What a reader needs to reproduce the number, e.g.
  // "exact_match|norm:squad-v1.1|refs:max|unicode:14.0.0|version:emar-0.1"; the sacrebleu
  // metrics (bleu, chrf) print sacrebleu's own signature, whose `nrefs` depends on the data: here
  // "nrefs:var", use signature_for with the dataset's counts.
  virtual std::string signature() const = 0;
  // The signature for a dataset whose reference counts are `refs`: sacrebleu's metrics print
  // nrefs:1 when every example had one reference; the others ignore `refs`.
  virtual std::string signature_for(const ReferenceCounts& refs) const { return signature(); }

  // Width of one example's statistics row.
  virtual size_t stats_width() const = 0;
  // True when every row is a single 0/1 column (accuracy, exact_match): such metrics get
  // McNemar's test and the multinomial bootstrap over joint-outcome cells.
  virtual bool is_binary() const { return false; }
  // True when row columns hold LabelTable ids rather than additive numbers (classification
  // metrics). Then Accumulate expands ids into confusion counts and needs `num_labels`.
  virtual bool uses_labels() const { return false; }
  // True when the metric scores multiple-choice log-likelihoods (Prediction::choices), so its
  // outputs are lm-evaluation-harness samples rather than text predictions (FieldConfig).
  virtual bool reads_choices() const { return false; }

  // Scores one example into `row` (stats_width() values). `labels` is used only when
  // uses_labels(); it may be null otherwise. Errors (e.g. perplexity without token_logprobs)
  // are INVALID_ARGUMENT naming the field; the caller adds file and line.
  virtual absl::Status ScoreExample(const Prediction& prediction, const Reference& reference,
                                    LabelTable* labels, absl::Span<double> row) const = 0;

  // Accumulator layout: AccumulatorWidth(num_labels) doubles, zero-initialised by the caller.
  // The default is additive: width stats_width(), acc += weight * row.
  virtual size_t AccumulatorWidth(size_t num_labels) const { return stats_width(); }
  virtual void Accumulate(absl::Span<const double> row, double weight, size_t num_labels,
                          absl::Span<double> acc) const {
    for (size_t i = 0; i < acc.size(); ++i) acc[i] += weight * row[i];
  }
  // The corpus value from an accumulator holding `n` examples' worth of statistics
  // (n = total weight, passed separately so mean-style metrics need no count column).
  virtual MetricValue Finalize(absl::Span<const double> acc, size_t num_labels, double n) const = 0;
};

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_METRIC_H_
