// Accepts gzip- and zstd-compressed inputs (docs/inputs.md), recognised by their magic bytes, so
// users can upload `outputs.jsonl.gz` or `.zst` as they are.
//
//   ASSIGN_OR_RETURN(std::string jsonl,
//                    DecompressIfCompressed("out/base.target.jsonl.gz", std::move(blob)));
//
// gzip starts 1f 8b, zstd 28 b5 2f fd; anything else is returned unchanged (moved, not copied).
// Concatenated gzip members and zstd frames are all decompressed, as gunzip and zstd -d do.
// Corrupt or truncated data is INVALID_ARGUMENT naming the file; output beyond
// `max_output_bytes` is RESOURCE_EXHAUSTED (a guard against decompression bombs).
// Bounded: decoding stops as soon as the output passes `max_output_bytes`, and memory stays
// within the output's size (at most `max_output_bytes`) plus a constant: the output buffer is
// allocated once, never grown by doubling (a size the data declares is a hint, used only when
// plausible; otherwise a first pass counts the bytes and a second decodes them).
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

// `compressed` (gzip or zstd, by magic bytes; INVALID_ARGUMENT otherwise) decoded, without
// copying the input.
absl::StatusOr<std::string> Decompress(absl::string_view display_name, absl::string_view compressed,
                                       uint64_t max_output_bytes = kDefaultMaxDecompressedBytes);

absl::StatusOr<std::string> DecompressIfCompressed(
    absl::string_view display_name, std::string data,
    uint64_t max_output_bytes = kDefaultMaxDecompressedBytes);

}  // namespace emar

#endif  // EMAR_EVAL_INPUT_DECOMPRESS_H_
