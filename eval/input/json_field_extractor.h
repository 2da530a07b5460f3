// Pulls the configured fields (FieldConfig) out of one JSONL line in a single forward pass of
// simdjson On-Demand, rendering labels canonically. Shared by ReferenceTable and
// PredictionReader; most callers want those instead.
//
//   ASSIGN_OR_RETURN(JsonFieldExtractor ex,
//                    JsonFieldExtractor::Create(config, JsonFieldExtractor::Mode::kPredictions));
//   simdjson::ondemand::parser parser;
//   std::string id;
//   Prediction p;
//   RETURN_IF_ERROR(ex.Extract(parser, cursor.Padded(line), &id, &p, nullptr));
//
// Canonical labels: a JSON string is taken as is (unescaped); a number is rendered without a
// trailing ".0" when integral (1, 1.0 and 1e0 all give "1"; -0.0 gives "0") and otherwise in the
// shortest form that reads back to the same double ("2.5", "1e+20"); booleans give "true" and
// "false". Ids must be strings or integers (integers rendered in decimal).
//
// Token log-probs: an array of JSON numbers within the range of a double, and `-Infinity` (what
// Python's json module writes for -inf, a token of probability 0), read as -inf so a perplexity
// scorer can report it. Anything else is refused naming the element: `+5`, `-inf`, `NaN` (not
// JSON numbers), `-1e999` (beyond a double: write -Infinity).
//
// Validation: malformed JSON, invalid UTF-8, a line that is not one JSON object, missing or
// ill-typed fields, duplicate keys among the configured fields, trailing content (a second
// value, a stray bracket or a NUL byte after the object, named with its column), a line that
// ends inside an object. Values of fields that are not read are only checked structurally
// (simdjson On-Demand skips them).
//
// Thread safety: Extract is const and may run concurrently with distinct parsers.
#ifndef EMAR_EVAL_INPUT_JSON_FIELD_EXTRACTOR_H_
#define EMAR_EVAL_INPUT_JSON_FIELD_EXTRACTOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/input/field_config.h"
#include "eval/metrics/metric.h"
#include "simdjson.h"

namespace emar {

// Renders a JSON number's double value canonically (see above) into `out`.
void AppendCanonicalNumber(double value, std::string* out);

class JsonFieldExtractor {
 public:
  enum class Mode {
    kReferences,   // id + reference(s), both required
    kPredictions,  // id + prediction required, log-probs optional
  };

  // INVALID_ARGUMENT for an empty or malformed path ("a..b") or overlapping paths.
  static absl::StatusOr<JsonFieldExtractor> Create(const FieldConfig& config, Mode mode);

  // Parses `json` with `parser` and fills `*id` and, by mode, `*prediction` or `*reference`
  // (the other may be null). Output strings are reassigned, so reusing the same objects across
  // lines avoids allocation. Errors are INVALID_ARGUMENT without a file:line prefix, e.g.
  //   field 'prediction': expected a string, number or boolean, got object
  absl::Status Extract(simdjson::ondemand::parser& parser, simdjson::padded_string_view json,
                       std::string* id, Prediction* prediction, Reference* reference) const;

  // Field slots; public for the implementation's helpers.
  enum Slot : int8_t { kNoSlot = -1, kId, kPrediction, kReference, kReferenceList, kLogprobs };
  struct Node {
    std::string key;   // this part of the path
    std::string path;  // the dotted path up to and including this part
    Slot slot = kNoSlot;
    bool is_index = false;  // key is a decimal array index
    uint32_t index = 0;
    uint8_t bit = 0;  // position in the per-line "seen" mask
    std::vector<Node> children;
  };

 private:
  JsonFieldExtractor() = default;
  // Adds `path` to the tree; returns the "seen" bit of its leaf.
  absl::StatusOr<uint8_t> AddPath(const std::string& path, Slot slot);

  Mode mode_ = Mode::kPredictions;
  bool default_references_ = false;  // "reference" or "references"
  std::string id_path_, prediction_path_, reference_path_;
  uint8_t id_bit_ = 0, prediction_bit_ = 0;
  Node root_;
  int num_nodes_ = 0;
};

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_JSON_FIELD_EXTRACTOR_H_
