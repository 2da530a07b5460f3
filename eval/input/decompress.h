// Accepts gzip- and zstd-compressed inputs (README: Inputs), recognised by their magic bytes, so
// users can upload `outputs.jsonl.gz` or `.zst` as they are.
//
//   ASSIGN_OR_RETURN(std::string jsonl,
//                    DecompressIfCompressed("out/base.target.jsonl.gz", std::move(blob)));
//
// gzip starts 1f 8b, zstd 28 b5 2f fd; anything else is returned unchanged (moved, not copied).
// Concatenated gzip members and zstd frames are all decompressed, as gunzip and zstd -d do.
// Corrupt or truncated data is INVALID_ARGUMENT naming the file; output beyond
// `max_output_bytes` is RESOURCE_EXHAUSTED (a guard against decompression bombs).
// Thread-safe (no shared state).
#ifndef EMAR_EVAL_INPUT_DECOMPRESS_H_
#define EMAR_EVAL_INPUT_DECOMPRESS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace emar {

inline constexpr uint64_t kDefaultMaxDecompressedBytes = uint64_t{16} << 30;  // 16 GiB

enum class Compression { kNone, kGzip, kZstd };
// By magic bytes.
Compression DetectCompression(absl::string_view data);

absl::StatusOr<std::string> DecompressIfCompressed(
    absl::string_view display_name, std::string data,
    uint64_t max_output_bytes = kDefaultMaxDecompressedBytes);

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_DECOMPRESS_H_
