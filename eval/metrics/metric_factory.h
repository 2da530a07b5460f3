// Metrics from job specs: `emar.v1.MetricSpec` (proto/emar/v1/job.proto) names a metric and its
// options, spelled as sacrebleu and rouge-score spell them; MakeMetric builds it.
//
//   emar::v1::MetricSpec spec;
//   spec.set_name("chrf");
//   spec.set_word_order(2);                                      // chrF++
//   ASSIGN_OR_RETURN(std::unique_ptr<Metric> m, MakeMetric(spec));
//   std::string key = MetricKey(spec).value();                   // "chrf|word_order=2"
//   ReferenceCounts refs;  ... refs.Add(reference.texts.size()) per example ...
//   m->signature_for(refs);  // "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:2.6.0"
//
// Options per metric (any other set option is INVALID_ARGUMENT naming the metric and option):
//   bleu       tokenize (13a intl char none zh), lowercase,
//              smooth (exp floor add-k none), smooth_value (floor and add-k only, >= 0),
//              max_ngram_order (1-16), effective_order
//   chrf       char_order (1-16), word_order (0-16), beta (> 0), lowercase, whitespace
//   rouge1 rouge2 rougeL rougeLsum   use_stemmer
//   pass_at_k  k (required), field; score: field, range, direction (checked by their FromSpec)
//   every other metric (accuracy, exact_match, ..., mc_acc, mc_acc_norm) takes none.
// An unset option takes the reference implementation's default, and setting an option to its
// default means the same metric: MetricKey is then equal. The name-only MakeMetric of
// metric_registry.h is MakeMetric of a spec with only the name. Thread-safe.
#ifndef EMAR_EVAL_METRICS_METRIC_FACTORY_H_
#define EMAR_EVAL_METRICS_METRIC_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "emar/v1/job.pb.h"
#include "eval/metrics/metric.h"

namespace emar {

// The metric `spec` describes; INVALID_ARGUMENT for an unknown name (listing the known ones), an
// option the metric does not take, or a value out of range, e.g.
//   metric "bleu": option tokenize: "13b" is not one of 13a, intl, char, none, zh
absl::StatusOr<std::unique_ptr<Metric>> MakeMetric(const emar::v1::MetricSpec& spec);

// The same checks without building the metric.
absl::Status ValidateMetricSpec(const emar::v1::MetricSpec& spec);

// A canonical text of the spec for cache keys and reports: the name, then each option that
// differs from its default as "|option=value" in the proto's field order, values in their
// shortest round-trip form: "bleu", "bleu|tokenize=char|lowercase=true", "chrf|beta=1.5".
// Equal for specs that mean the same metric (an option set to its default equals it unset;
// smooth_value equal to the method's default equals it unset). Errors as MakeMetric.
absl::StatusOr<std::string> MetricKey(const emar::v1::MetricSpec& spec);

}  // namespace emar

#endif  // EMAR_EVAL_METRICS_METRIC_FACTORY_H_
