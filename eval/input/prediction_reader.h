// Streams the model outputs of one shard: a byte range of an outputs file that starts and ends
// at line boundaries (see SplitIntoShards). The worker's hot path.
//
//   PredictionReader reader("out/base.target.jsonl", shard_bytes, range.first_line, config);
//   PredictionRecord record;  // reused: its strings keep their capacity across lines
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, reader.Next(&record));
//     if (!more) break;
//     ... join record.id against a ReferenceTable and score record.prediction ...
//   }
//
// Each non-blank line holds an id (string or integer), a prediction (string, number or boolean,
// rendered canonically; a dotted path such as "filtered_resps.0" reaches into arrays) and
// optionally token log-probs. Errors are INVALID_ARGUMENT naming file, line and field:
//   out/base.target.jsonl:17: field 'prediction': expected a string, number or boolean, got object
// After an error the reader stays failed and returns the same error.
//
// With FieldConfig::multiple_choice each line is an lm-evaluation-harness sample instead
// (ParseHarnessPrediction): the record's prediction holds the choices' log-likelihoods and texts.
//
// The reader borrows `data` (it must outlive the reader), does not copy lines except the few
// within SIMDJSON_PADDING bytes of its end, and is not thread-safe. It does not detect
// duplicate ids: a shard sees only part of the file, so the joiner must.
#ifndef EMAR_EVAL_INPUT_PREDICTION_READER_H_
#define EMAR_EVAL_INPUT_PREDICTION_READER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/input/field_config.h"
#include "eval/input/harness_samples.h"
#include "eval/input/json_field_extractor.h"
#include "eval/input/jsonl_line_cursor.h"
#include "eval/metrics/metric.h"
#include "simdjson.h"

namespace emar {

struct PredictionRecord {
  std::string id;
  Prediction prediction;
  uint64_t line = 0;  // 1-based line in the whole file
};

class PredictionReader {
 public:
  // `first_line` is the 1-based file line number of the first line of `data`. A bad
  // FieldConfig makes every Next return its error.
  PredictionReader(absl::string_view display_name, absl::string_view data, uint64_t first_line,
                   const FieldConfig& config);

  PredictionReader(const PredictionReader&) = delete;
  PredictionReader& operator=(const PredictionReader&) = delete;

  // Fills `out` with the next record and returns true; false at the end of the shard.
  absl::StatusOr<bool> Next(PredictionRecord* out);

  // Records returned so far.
  uint64_t rows() const { return rows_; }

 private:
  std::string display_name_;
  JsonlLineCursor cursor_;
  absl::StatusOr<JsonFieldExtractor> extractor_;
  simdjson::ondemand::parser parser_;
  std::optional<HarnessSampleFields> harness_;  // set: multiple-choice samples
  simdjson::dom::parser dom_parser_;
  absl::Status status_;
  uint64_t rows_ = 0;
};

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_PREDICTION_READER_H_
