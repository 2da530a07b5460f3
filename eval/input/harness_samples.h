// lm-evaluation-harness multiple-choice samples (samples_<task>_<date>.jsonl, one line per doc)
// into the Prediction / Reference pair that mc_acc and mc_acc_norm score
// (eval/metrics/multiple_choice_scorer.h).
//
//   HarnessSampleFields fields;                        // the harness's own field names
//   ASSIGN_OR_RETURN(std::vector<HarnessSample> samples, ReadHarnessSamples(path, fields));
//
// Fields (dotted paths, numeric parts index arrays, as FieldNames):
//   responses_field  (FieldNames.prediction_field, default "filtered_resps") one entry per
//                    choice: [loglikelihood, is_greedy], or that pair nested one level deeper
//                    ([[ll, g]], as `resps`), or a bare log-likelihood. Numbers may be JSON
//                    numbers or strings ("-3.25", "-inf": harness 0.4 writes every response
//                    with str()).
//   target_field     (FieldNames.reference_field, default "target") a string (harness 0.4 writes
//                    str(target)), an integer, or a list of them (several gold answers).
//   choices_field    (FieldNames.choices_field) an array of the choices' texts, e.g.
//                    "doc.choices" or "doc.choices.text" (ARC). Empty (the default): the
//                    continuations of the loglikelihood requests in `arguments` (harness 0.4:
//                    {"gen_args_0": {"arg_0": context, "arg_1": continuation}, ...}; earlier:
//                    [[context, continuation], ...]) with one leading space removed: the harness
//                    builds each continuation as target_delimiter + choice, and target_delimiter
//                    is " " unless a task sets another. That works for every task, including those
//                    whose choices are not in the doc (MMLU's "A".."D"); a task with another
//                    target_delimiter needs choices_field.
//   id_field         (FieldNames.id_field, default "doc_id") a string or an integer.
// Errors are INVALID_ARGUMENT naming the field ("field 'filtered_resps.2': ..."); ReadHarness-
// Samples prefixes them with "path:line: ".
#ifndef EMAR_EVAL_INPUT_HARNESS_SAMPLES_H_
#define EMAR_EVAL_INPUT_HARNESS_SAMPLES_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/metrics/metric.h"
#include "simdjson.h"

namespace emar {

struct HarnessSampleFields {
  std::string id_field = "doc_id";
  std::string responses_field = "filtered_resps";
  std::string target_field = "target";
  std::string choices_field;  // empty: from `arguments`
};

struct HarnessSample {
  std::string id;
  Prediction prediction;  // choice_loglikelihoods and choices
  Reference reference;    // the target, as text(s)
};

// The model's side of one line (a JSON object): its id, and its responses and choices into
// *prediction (choice_loglikelihoods and choices). The target is not read. This is how a job
// reads a multiple-choice outputs file (PredictionReader with FieldConfig::multiple_choice).
absl::Status ParseHarnessPrediction(simdjson::dom::parser& parser, absl::string_view line,
                                    const HarnessSampleFields& fields, std::string* id,
                                    Prediction* prediction);

// One line (a JSON object) into *out.
absl::Status ParseHarnessSample(simdjson::dom::parser& parser, absl::string_view line,
                                const HarnessSampleFields& fields, HarnessSample* out);

// Every non-empty line of an uncompressed samples file.
absl::StatusOr<std::vector<HarnessSample>> ReadHarnessSamples(const std::string& path,
                                                              const HarnessSampleFields& fields);

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_HARNESS_SAMPLES_H_
