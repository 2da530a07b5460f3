// Which JSON fields of a JSONL line hold the id, the prediction, the reference(s) and the token
// log-probs (docs/inputs.md). Names are dotted paths; a part that is a decimal number indexes an
// array, so lm-evaluation-harness `samples_*.jsonl` lines load with
//
//   FieldConfig lm_eval;
//   lm_eval.id_field = "doc_id";
//   lm_eval.prediction_field = "filtered_resps.0";   // filtered_resps: ["positive"]
//   lm_eval.reference_field = "target";
//
// A dot always separates parts: a key that itself contains a dot cannot be addressed.
#ifndef EMAR_EVAL_INPUT_FIELD_CONFIG_H_
#define EMAR_EVAL_INPUT_FIELD_CONFIG_H_

#include <string>

namespace emar {

struct FieldConfig {
  std::string id_field = "id";
  std::string prediction_field = "prediction";
  // Empty: "reference" (one) or "references" (a list), whichever the line has. Otherwise the
  // named field, holding one reference or a list of them.
  std::string reference_field;
  // Optional in every line; absent or null means "no log-probs".
  std::string logprobs_field = "token_logprobs";

  // Multiple-choice metrics (mc_acc, mc_acc_norm; Metric::reads_choices): each output line is an
  // lm-evaluation-harness sample, read by eval/input/harness_samples.h. prediction_field names
  // its responses (one [loglikelihood, is_greedy] per choice, e.g. "filtered_resps") and
  // choices_field the choices' texts (empty: the continuations in `arguments`).
  bool multiple_choice = false;
  std::string choices_field;
};

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_FIELD_CONFIG_H_
