// Fuzzes the JSONL input path (eval/input): the same bytes are read as a references file
// (ReferenceTable::Parse) and as model outputs (PredictionReader), under each FieldConfig below,
// the outputs both whole and cut into shards (SplitIntoShards) the way workers read them.
// libFuzzer's input buffer ends exactly at the last byte, so AddressSanitizer catches any read
// of simdjson's padding past the end of the data.
//
// Properties checked beyond "no crash": errors are INVALID_ARGUMENT naming the file; every row
// of a table is found by its id; the shards concatenate to the file and, read one by one, give
// the same records (and the same first error) as reading the file whole.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "eval/input/field_config.h"
#include "eval/input/prediction_reader.h"
#include "eval/input/reference_table.h"
#include "eval/input/shard_splitter.h"
#include "tests/fuzz/fuzz_check.h"

namespace emar {
namespace {

constexpr char kName[] = "fuzz.jsonl";

FieldConfig Config(std::string id, std::string prediction, std::string reference,
                   std::string logprobs) {
  FieldConfig c;
  c.id_field = std::move(id);
  c.prediction_field = std::move(prediction);
  c.reference_field = std::move(reference);
  c.logprobs_field = std::move(logprobs);
  return c;
}

const std::vector<FieldConfig>& Configs() {
  static const std::vector<FieldConfig> configs = {
      FieldConfig{},  // id, prediction, reference|references, token_logprobs
      // lm-evaluation-harness samples_*.jsonl.
      Config("doc_id", "filtered_resps.0", "target", ""),
      // A benchmark with its own names (the job-file example's fields).
      Config("qid", "answer", "answers", "token_logprobs"),
      // Deeper paths: nested objects and arrays on every field.
      Config("meta.id", "resps.0.1", "doc.answers.1", "lp.0"),
  };
  return configs;
}

void CheckError(const absl::Status& s) {
  FUZZ_CHECK(s.code() == absl::StatusCode::kInvalidArgument) << s;
  FUZZ_CHECK(absl::StartsWith(s.message(), kName)) << s;
}

void FuzzReferences(absl::string_view data, const FieldConfig& config) {
  absl::StatusOr<ReferenceTable> table = ReferenceTable::Parse(kName, data, config);
  if (!table.ok()) return CheckError(table.status());
  FUZZ_CHECK(table->size() > 0);
  uint64_t previous_line = 0;
  for (size_t row = 0; row < table->size(); ++row) {
    const std::optional<uint32_t> found = table->Find(table->id(row));
    FUZZ_CHECK(found.has_value() && *found == row)
        << "row " << row << " id '" << table->id(row) << "' not found by its id";
    FUZZ_CHECK(!table->reference(row).texts.empty()) << "row " << row;
    FUZZ_CHECK(table->line(row) > previous_line) << "row " << row;
    previous_line = table->line(row);
  }
}

// What one reader returned: its records, then its error (OK when it reached the end).
struct ReadResult {
  std::vector<PredictionRecord> records;
  absl::Status status;
};

void ReadAll(PredictionReader& reader, ReadResult* out) {
  PredictionRecord record;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&record);
    if (!more.ok()) {
      CheckError(more.status());
      // A failed reader stays failed with the same error.
      absl::StatusOr<bool> again = reader.Next(&record);
      FUZZ_CHECK(!again.ok() && again.status() == more.status()) << more.status();
      out->status = more.status();
      return;
    }
    if (!*more) return;
    out->records.push_back(record);
  }
}

bool SameRecord(const PredictionRecord& a, const PredictionRecord& b) {
  return a.id == b.id && a.line == b.line && a.prediction.text == b.prediction.text &&
         a.prediction.has_logprobs == b.prediction.has_logprobs &&
         a.prediction.token_logprobs.size() == b.prediction.token_logprobs.size();
}

void FuzzPredictions(absl::string_view data, const FieldConfig& config) {
  ReadResult whole;
  {
    PredictionReader reader(kName, data, /*first_line=*/1, config);
    ReadAll(reader, &whole);
    FUZZ_CHECK(reader.rows() == whole.records.size());
  }

  // Shards of two rows, each read by its own reader, as workers do.
  const std::vector<LineRange> shards = SplitIntoShards(data, 2);
  ReadResult sharded;
  uint64_t offset = 0;
  for (const LineRange& r : shards) {
    FUZZ_CHECK(r.offset == offset && r.rows >= 1 && r.rows <= 2) << "shard at " << r.offset;
    offset += r.length;
    if (!sharded.status.ok()) continue;
    PredictionReader reader(kName, data.substr(r.offset, r.length), r.first_line, config);
    const size_t before = sharded.records.size();
    ReadAll(reader, &sharded);
    if (sharded.status.ok()) {
      FUZZ_CHECK(sharded.records.size() - before == r.rows) << "shard at " << r.offset;
    }
  }
  FUZZ_CHECK(shards.empty() || offset == data.size()) << "shards do not cover the data";

  FUZZ_CHECK(whole.status == sharded.status) << whole.status << " vs " << sharded.status;
  FUZZ_CHECK(whole.records.size() == sharded.records.size())
      << whole.records.size() << " vs " << sharded.records.size();
  for (size_t i = 0; i < whole.records.size(); ++i) {
    FUZZ_CHECK(SameRecord(whole.records[i], sharded.records[i])) << "record " << i;
  }
}

}  // namespace
}  // namespace emar

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (const emar::FieldConfig& config : emar::Configs()) {
    emar::FuzzReferences(text, config);
    emar::FuzzPredictions(text, config);
  }
  return 0;
}
