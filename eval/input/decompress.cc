#include "eval/input/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace emar {
namespace {

constexpr absl::string_view kGzipMagic("\x1f\x8b", 2);
constexpr absl::string_view kZstdMagic("\x28\xb5\x2f\xfd", 4);

// Grows `out` so at least some bytes are free past `used`; false when at the limit.
bool Grow(std::string* out, size_t used, uint64_t limit) {
  if (used > limit) return false;
  const uint64_t want = std::max<uint64_t>(used * 2, used + (64 << 10));
  out->resize(static_cast<size_t>(std::min<uint64_t>(want, limit + 1)));
  return out->size() > used;
}

absl::Status TooLarge(absl::string_view name, uint64_t limit) {
  return absl::ResourceExhaustedError(
      absl::StrCat(name, ": decompressed data exceeds the limit of ", limit, " bytes"));
}

absl::StatusOr<std::string> Gunzip(absl::string_view name, absl::string_view in, uint64_t limit) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  std::string out;
  size_t used = 0;
  size_t consumed = 0;
  while (true) {
    if (used == out.size() && !Grow(&out, used, limit)) return TooLarge(name, limit);
    // zlib counts in 32-bit uInt: feed and drain at most 1 GiB per call.
    const size_t in_chunk = std::min<size_t>(in.size() - consumed, size_t{1} << 30);
    const size_t out_chunk = std::min<size_t>(out.size() - used, size_t{1} << 30);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + consumed));
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(&out[used]);
    zs.avail_out = static_cast<uInt>(out_chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    consumed += in_chunk - zs.avail_in;
    used += out_chunk - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (consumed == in.size()) break;
      // Another gzip member follows (as `cat a.gz b.gz` makes); anything else is an error.
      if (!absl::StartsWith(in.substr(consumed), kGzipMagic)) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ": corrupt gzip data: unexpected bytes after the compressed stream"));
      }
      inflateReset(&zs);
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && consumed == in.size()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": truncated gzip data"));
    }
    if (rc == Z_BUF_ERROR) continue;  // no room in `out`: grow and retry
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": corrupt gzip data: ", zs.msg ? zs.msg : "inflate failed"));
  }
  out.resize(used);
  return out;
}

absl::StatusOr<std::string> Unzstd(absl::string_view name, absl::string_view in, uint64_t limit) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (dctx == nullptr) return absl::InternalError("ZSTD_createDCtx failed");
  std::string out;
  // The frame's declared size is a hint from the uploader, never trusted: the first buffer is
  // at most a small multiple of the input (zstd rarely expands past ~8x on text), and grows by
  // doubling only as real output arrives.
  const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR) {
    const uint64_t hint = std::min<uint64_t>(declared, uint64_t{16} * in.size() + (1 << 20));
    out.resize(static_cast<size_t>(std::min<uint64_t>(hint, limit) + 1));
  }
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t used = 0;
  size_t rc = 0;  // 0: at a frame boundary; otherwise the frame is unfinished
  // Until all input is consumed, then until the last frame is flushed; a call that can write
  // nothing into free space while the frame is unfinished means the input ended too soon.
  while (input.pos < input.size || rc != 0) {
    if (used == out.size() && !Grow(&out, used, limit)) return TooLarge(name, limit);
    ZSTD_outBuffer output{&out[used], out.size() - used, 0};
    const size_t in_before = input.pos;
    rc = ZSTD_decompressStream(dctx.get(), &output, &input);
    if (ZSTD_isError(rc)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": corrupt zstd data: ", ZSTD_getErrorName(rc)));
    }
    used += output.pos;
    if (rc != 0 && output.pos == 0 && input.pos == in_before) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": truncated zstd data"));
    }
  }
  if (used > limit) return TooLarge(name, limit);
  out.resize(used);
  return out;
}

}  // namespace

Compression DetectCompression(absl::string_view data) {
  if (absl::StartsWith(data, kGzipMagic)) return Compression::kGzip;
  if (absl::StartsWith(data, kZstdMagic)) return Compression::kZstd;
  return Compression::kNone;
}

absl::StatusOr<std::string> DecompressIfCompressed(absl::string_view display_name, std::string data,
                                                   uint64_t max_output_bytes) {
  switch (DetectCompression(data)) {
    case Compression::kGzip:
      return Gunzip(display_name, data, max_output_bytes);
    case Compression::kZstd:
      return Unzstd(display_name, data, max_output_bytes);
    case Compression::kNone:
      break;
  }
  if (data.size() > max_output_bytes) return TooLarge(display_name, max_output_bytes);
  return data;
}

}  // namespace emar
