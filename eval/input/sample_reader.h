// Streams model outputs that hold several samples per item: each line is one sample, with the
// item's id, the prediction (and optional log-probs) as PredictionReader reads them, and the
// sample's index in `sample_field` (default "sample"; a dotted path like any field name).
//
//   SampleReader reader("out/base.code.jsonl", bytes, /*first_line=*/1, config, "sample");
//   SampleRecord record;
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, reader.Next(&record));
//     if (!more) break;
//     ... record.id, record.sample, record.prediction, record.line ...
//   }
//
// The sample index must be a non-negative integer (a JSON integer, or a string of digits);
// anything else, or a missing field, is INVALID_ARGUMENT naming file, line and field:
//   out/base.code.jsonl:7: field 'sample': expected a non-negative integer, got "1.5"
// After an error the reader stays failed. The index is read by a second pass of simdjson over
// the line (the prediction extractor has fixed slots), which costs about as much as the first.
// Borrows `data` (it must outlive the reader); not thread-safe.
#ifndef EMAR_EVAL_INPUT_SAMPLE_READER_H_
#define EMAR_EVAL_INPUT_SAMPLE_READER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eval/input/field_config.h"
#include "eval/input/json_field_extractor.h"
#include "eval/input/jsonl_line_cursor.h"
#include "eval/metrics/metric.h"
#include "simdjson.h"

namespace emar {

inline constexpr char kDefaultSampleField[] = "sample";

struct SampleRecord {
  std::string id;
  Prediction prediction;
  uint64_t sample = 0;
  uint64_t line = 0;  // 1-based line in the whole file
};

class SampleReader {
 public:
  // `first_line` is the file line number of the first line of `data`. An empty `sample_field`
  // means kDefaultSampleField. A bad field configuration makes every Next return its error.
  SampleReader(absl::string_view display_name, absl::string_view data, uint64_t first_line,
               const FieldConfig& config, absl::string_view sample_field = kDefaultSampleField);

  SampleReader(const SampleReader&) = delete;
  SampleReader& operator=(const SampleReader&) = delete;

  // Fills `out` with the next sample and returns true; false at the end of the data.
  absl::StatusOr<bool> Next(SampleRecord* out);

 private:
  absl::Status Fail(uint64_t line, absl::string_view message);

  std::string display_name_;
  std::string sample_field_;
  JsonlLineCursor cursor_;
  absl::StatusOr<JsonFieldExtractor> extractor_;
  absl::StatusOr<JsonFieldExtractor> sample_extractor_;  // id + the sample field as "prediction"
  simdjson::ondemand::parser parser_;
  std::string scratch_id_;
  Prediction scratch_sample_;
  absl::Status status_;
};

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_SAMPLE_READER_H_
