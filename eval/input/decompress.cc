#include "eval/input/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace emar {
namespace {

constexpr absl::string_view kGzipMagic("\x1f\x8b", 2);
constexpr absl::string_view kZstdMagic("\x28\xb5\x2f\xfd", 4);

// zlib counts in 32-bit uInt: feed and drain at most 1 GiB per call.
constexpr size_t kMaxStep = size_t{1} << 30;
// Output past the destination buffer is decoded into this much scratch, counted, then dropped.
constexpr size_t kScratchBytes = 256 << 10;
// A size declared by the data (zstd frame header, gzip trailer) is used to size the output only
// when it is at most this many times the compressed size (plus 1 MiB): a lie costs at most that.
constexpr uint64_t kMaxTrustedRatio = 64;

absl::Status TooLarge(absl::string_view name, uint64_t limit) {
  return absl::ResourceExhaustedError(
      absl::StrCat(name, ": decompressed data exceeds the limit of ", limit, " bytes"));
}

// Decodes gzip (every concatenated member, as gunzip does) in pieces of the caller's size.
class GzipReader {
 public:
  GzipReader(absl::string_view name, absl::string_view in) : name_(name), in_(in) {}
  ~GzipReader() {
    if (initialized_) inflateEnd(&zs_);
  }
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  absl::Status Init() {
    if (inflateInit2(&zs_, 15 + 16) != Z_OK) return absl::InternalError("inflateInit2 failed");
    initialized_ = true;
    return absl::OkStatus();
  }

  // Decodes at most `room` (> 0) bytes into `out`; sets `*done` at the end of the input.
  absl::StatusOr<size_t> Read(char* out, size_t room, bool* done) {
    size_t produced = 0;
    while (produced < room) {
      if (member_ended_) {
        if (consumed_ == in_.size()) {
          *done = true;
          return produced;
        }
        // Another gzip member follows (as `cat a.gz b.gz` makes); anything else is an error.
        if (!absl::StartsWith(in_.substr(consumed_), kGzipMagic)) {
          return absl::InvalidArgumentError(absl::StrCat(
              name_, ": corrupt gzip data: unexpected bytes after the compressed stream"));
        }
        inflateReset(&zs_);
        member_ended_ = false;
      }
      const size_t in_chunk = std::min(in_.size() - consumed_, kMaxStep);
      const size_t out_chunk = std::min(room - produced, kMaxStep);
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data() + consumed_));
      zs_.avail_in = static_cast<uInt>(in_chunk);
      zs_.next_out = reinterpret_cast<Bytef*>(out + produced);
      zs_.avail_out = static_cast<uInt>(out_chunk);
      const int rc = inflate(&zs_, Z_NO_FLUSH);
      const size_t used = in_chunk - zs_.avail_in;
      const size_t made = out_chunk - zs_.avail_out;
      consumed_ += used;
      produced += made;
      if (rc == Z_STREAM_END) {
        member_ended_ = true;
      } else if (rc == Z_BUF_ERROR && used == 0 && made == 0) {
        // No progress with room to write: the input ended inside the stream.
        return absl::InvalidArgumentError(absl::StrCat(name_, ": truncated gzip data"));
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return absl::InvalidArgumentError(
            absl::StrCat(name_, ": corrupt gzip data: ", zs_.msg ? zs_.msg : "inflate failed"));
      }
    }
    return produced;
  }

  // ISIZE of the last member (the size modulo 2^32 when it is the only one); 0 when too short.
  static uint64_t DeclaredSize(absl::string_view in) {
    if (in.size() < 18) return 0;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data() + in.size() - 4);
    return uint64_t{p[0]} | uint64_t{p[1]} << 8 | uint64_t{p[2]} << 16 | uint64_t{p[3]} << 24;
  }

 private:
  const absl::string_view name_;
  const absl::string_view in_;
  z_stream zs_{};
  bool initialized_ = false;
  bool member_ended_ = false;
  size_t consumed_ = 0;
};

// Decodes zstd (every concatenated frame, as zstd -d does) in pieces of the caller's size.
class ZstdReader {
 public:
  ZstdReader(absl::string_view name, absl::string_view in)
      : name_(name), dctx_(nullptr, ZSTD_freeDCtx), input_{in.data(), in.size(), 0} {}

  absl::Status Init() {
    dctx_.reset(ZSTD_createDCtx());
    if (dctx_ == nullptr) return absl::InternalError("ZSTD_createDCtx failed");
    return absl::OkStatus();
  }

  absl::StatusOr<size_t> Read(char* out, size_t room, bool* done) {
    ZSTD_outBuffer output{out, room, 0};
    // Until all input is consumed, then until the last frame is flushed; a call that can write
    // nothing into free space while the frame is unfinished means the input ended too soon.
    while (output.pos < output.size) {
      if (input_.pos == input_.size && rc_ == 0) {
        *done = true;
        break;
      }
      const size_t in_before = input_.pos;
      const size_t out_before = output.pos;
      rc_ = ZSTD_decompressStream(dctx_.get(), &output, &input_);
      if (ZSTD_isError(rc_)) {
        return absl::InvalidArgumentError(
            absl::StrCat(name_, ": corrupt zstd data: ", ZSTD_getErrorName(rc_)));
      }
      if (rc_ != 0 && output.pos == out_before && input_.pos == in_before) {
        return absl::InvalidArgumentError(absl::StrCat(name_, ": truncated zstd data"));
      }
    }
    return output.pos;
  }

  // The first frame's declared content size; 0 when it declares none.
  static uint64_t DeclaredSize(absl::string_view in) {
    const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
    if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR) return 0;
    return declared;
  }

 private:
  const absl::string_view name_;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx_;
  ZSTD_inBuffer input_;
  size_t rc_ = 0;  // 0: at a frame boundary; otherwise the frame is unfinished
};

// Decodes everything: into `dest` while it has room, past it into scratch (counted only).
// Returns the decoded size; RESOURCE_EXHAUSTED as soon as it passes `limit`.
template <typename Reader>
absl::StatusOr<uint64_t> Drain(absl::string_view name, absl::string_view in, char* dest,
                               uint64_t dest_size, uint64_t limit) {
  Reader reader(name, in);
  RETURN_IF_ERROR(reader.Init());
  std::unique_ptr<char[]> scratch;
  uint64_t total = 0;
  bool done = false;
  while (!done) {
    char* out;
    size_t room;
    if (total < dest_size) {
      out = dest + total;
      room = static_cast<size_t>(std::min<uint64_t>(dest_size - total, kMaxStep));
    } else {
      if (scratch == nullptr) scratch.reset(new char[kScratchBytes]);
      out = scratch.get();
      room = kScratchBytes;
    }
    ASSIGN_OR_RETURN(const size_t n, reader.Read(out, room, &done));
    total += n;
    if (total > limit) return TooLarge(name, limit);
  }
  return total;
}

// Memory stays within max(limit, the output) plus a constant, and a bomb is refused after
// decoding `limit` bytes: the output buffer never grows by doubling. It is sized once, from the
// size the data declares when that is plausible; when the declaration is missing or short, the
// first pass only counts and a second one decodes into a buffer of the exact size.
template <typename Reader>
absl::StatusOr<std::string> Expand(absl::string_view name, absl::string_view in, uint64_t limit) {
  uint64_t hint = Reader::DeclaredSize(in);
  if (hint > limit || hint > kMaxTrustedRatio * in.size() + (1 << 20)) hint = 0;
  std::string out(static_cast<size_t>(hint), '\0');
  ASSIGN_OR_RETURN(const uint64_t total, Drain<Reader>(name, in, out.data(), out.size(), limit));
  if (total <= out.size()) {
    out.resize(static_cast<size_t>(total));
    return out;
  }
  std::string().swap(out);  // released before the exact buffer is allocated
  out.resize(static_cast<size_t>(total));
  ASSIGN_OR_RETURN(const uint64_t again, Drain<Reader>(name, in, out.data(), total, total));
  if (again != total) return absl::InternalError(absl::StrCat(name, ": decoded size changed"));
  return out;
}

}  // namespace

Compression DetectCompression(absl::string_view data) {
  if (absl::StartsWith(data, kGzipMagic)) return Compression::kGzip;
  if (absl::StartsWith(data, kZstdMagic)) return Compression::kZstd;
  return Compression::kNone;
}

absl::StatusOr<std::string> Decompress(absl::string_view display_name, absl::string_view compressed,
                                       uint64_t max_output_bytes) {
  switch (DetectCompression(compressed)) {
    case Compression::kGzip:
      return Expand<GzipReader>(display_name, compressed, max_output_bytes);
    case Compression::kZstd:
      return Expand<ZstdReader>(display_name, compressed, max_output_bytes);
    case Compression::kNone:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(display_name, ": neither gzip nor zstd data (no magic bytes)"));
}

absl::StatusOr<std::string> DecompressIfCompressed(absl::string_view display_name, std::string data,
                                                   uint64_t max_output_bytes) {
  if (DetectCompression(data) != Compression::kNone) {
    return Decompress(display_name, data, max_output_bytes);
  }
  if (data.size() > max_output_bytes) return TooLarge(display_name, max_output_bytes);
  return data;
}

}  // namespace emar
