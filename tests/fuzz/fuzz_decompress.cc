// Fuzzes the gzip/zstd input path (eval/input/decompress.h): DecompressIfCompressed on arbitrary
// bytes with a 64 MiB output limit, so a decompression bomb must be refused (RESOURCE_EXHAUSTED)
// rather than allocated; then, as a worker does with an uploaded file, the decompressed text is
// read as JSONL outputs (PredictionReader, default fields).
//
// Properties checked beyond "no crash": errors are INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming
// the file; uncompressed data comes back unchanged; output never exceeds the limit.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "eval/input/decompress.h"
#include "eval/input/field_config.h"
#include "eval/input/prediction_reader.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

constexpr uint64_t kLimit = uint64_t{64} << 20;
// Larger outputs are not parsed: the JSONL path has its own target (fuzz_jsonl).
constexpr size_t kMaxParsedBytes = 1 << 20;
constexpr char kName[] = "fuzz/outputs.jsonl.gz";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const emar::Compression kind = emar::DetectCompression(input);
  absl::StatusOr<std::string> out = emar::DecompressIfCompressed(kName, input, kLimit);
  if (!out.ok()) {
    FUZZ_CHECK(out.status().code() == absl::StatusCode::kInvalidArgument ||
               out.status().code() == absl::StatusCode::kResourceExhausted)
        << out.status();
    FUZZ_CHECK(absl::StartsWith(out.status().message(), kName)) << out.status();
    FUZZ_CHECK(kind != emar::Compression::kNone) << "plain data refused: " << out.status();
    return 0;
  }
  FUZZ_CHECK(out->size() <= kLimit) << out->size() << " bytes";
  if (kind == emar::Compression::kNone) {
    FUZZ_CHECK(*out == input) << "plain data changed";
  }
  if (out->size() > kMaxParsedBytes) return 0;

  emar::PredictionReader reader(kName, *out, /*first_line=*/1, emar::FieldConfig{});
  emar::PredictionRecord record;
  while (true) {
    absl::StatusOr<bool> more = reader.Next(&record);
    if (!more.ok() || !*more) break;
  }
  return 0;
}
