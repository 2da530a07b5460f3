#include "eval/input/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/gzip.h"
#include "tests/eval/input/input_test_util.h"

namespace emar {
namespace {

using ::emar::testing::Gzip;
using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// A frame without the content size in its header, as streaming compressors write it.
std::string ZstdStreamed(const std::string& in) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out(ZSTD_compressBound(in.size()) + 64, '\0');
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  ZSTD_outBuffer output{out.data(), out.size(), 0};
  EXPECT_EQ(ZSTD_compressStream2(cctx, &output, &input, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  out.resize(output.pos);
  return out;
}

std::string SampleJsonl(int rows) {
  std::string s;
  for (int i = 0; i < rows; ++i) {
    s += "{\"id\": \"r" + std::to_string(i) + "\", \"prediction\": \"label " +
         std::to_string(i % 5) + "\"}\n";
  }
  return s;
}

TEST(DecompressTest, DetectsByMagicBytes) {
  EXPECT_EQ(DetectCompression(Gzip("x")), Compression::kGzip);
  EXPECT_EQ(DetectCompression(Zstd("x")), Compression::kZstd);
  EXPECT_EQ(DetectCompression("{\"id\": 1}"), Compression::kNone);
  EXPECT_EQ(DetectCompression(""), Compression::kNone);
  EXPECT_EQ(DetectCompression("\x1f"), Compression::kNone);
}

TEST(DecompressTest, PlainDataPassesThrough) {
  ASSERT_OK_AND_ASSIGN(std::string out, DecompressIfCompressed("a.jsonl", "{\"id\": 1}\n"));
  EXPECT_EQ(out, "{\"id\": 1}\n");
  ASSERT_OK_AND_ASSIGN(out, DecompressIfCompressed("a.jsonl", ""));
  EXPECT_EQ(out, "");
}

TEST(DecompressTest, GzipRoundTrip) {
  for (int rows : {0, 1, 100, 50000}) {
    const std::string original = SampleJsonl(rows);
    ASSERT_OK_AND_ASSIGN(std::string out, DecompressIfCompressed("a.jsonl.gz", Gzip(original)));
    EXPECT_EQ(out, original) << rows << " rows";
  }
}

TEST(DecompressTest, ConcatenatedGzipMembers) {
  ASSERT_OK_AND_ASSIGN(std::string out,
                       DecompressIfCompressed("a.gz", Gzip("first\n") + Gzip("second\n")));
  EXPECT_EQ(out, "first\nsecond\n");
}

TEST(DecompressTest, ZstdRoundTrip) {
  for (int rows : {0, 1, 100, 50000}) {
    const std::string original = SampleJsonl(rows);
    ASSERT_OK_AND_ASSIGN(std::string out, DecompressIfCompressed("a.jsonl.zst", Zstd(original)));
    EXPECT_EQ(out, original) << rows << " rows";
    ASSERT_OK_AND_ASSIGN(out, DecompressIfCompressed("a.jsonl.zst", ZstdStreamed(original)));
    EXPECT_EQ(out, original) << rows << " rows, streamed";
  }
}

TEST(DecompressTest, ConcatenatedZstdFrames) {
  ASSERT_OK_AND_ASSIGN(std::string out,
                       DecompressIfCompressed("a.zst", Zstd("first\n") + ZstdStreamed("second\n")));
  EXPECT_EQ(out, "first\nsecond\n");
}

TEST(DecompressTest, TruncatedData) {
  const std::string original = SampleJsonl(1000);
  std::string gz = Gzip(original);
  gz.resize(gz.size() / 2);
  EXPECT_THAT(DecompressIfCompressed("out/a.jsonl.gz", gz),
              StatusIs(absl::StatusCode::kInvalidArgument, "out/a.jsonl.gz: truncated gzip data"));
  std::string zst = ZstdStreamed(original);
  zst.resize(zst.size() / 2);
  EXPECT_THAT(DecompressIfCompressed("out/a.jsonl.zst", zst),
              StatusIs(absl::StatusCode::kInvalidArgument, "out/a.jsonl.zst: truncated zstd data"));
  std::string sized = Zstd(original);
  sized.resize(sized.size() - 3);
  EXPECT_THAT(DecompressIfCompressed("out/b.jsonl.zst", sized),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out/b.jsonl.zst: ")));
}

TEST(DecompressTest, CorruptData) {
  std::string gz = Gzip(SampleJsonl(100));
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  EXPECT_THAT(DecompressIfCompressed("a.gz", gz),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a.gz: corrupt gzip data")));
  EXPECT_THAT(DecompressIfCompressed("a.gz", Gzip("x") + "trailing junk"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a.gz: corrupt gzip data")));
  EXPECT_THAT(DecompressIfCompressed("a.zst", std::string("\x28\xb5\x2f\xfd garbage", 12)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a.zst: corrupt zstd data")));
}

TEST(DecompressTest, OutputLimit) {
  const std::string original(100000, 'a');
  EXPECT_THAT(DecompressIfCompressed("bomb.gz", Gzip(original), 4096),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("bomb.gz: ")));
  EXPECT_THAT(DecompressIfCompressed("bomb.zst", ZstdStreamed(original), 4096),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("limit of 4096 bytes")));
  EXPECT_THAT(DecompressIfCompressed("bomb.zst", Zstd(original), 4096),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("limit of 4096 bytes")));
  // Exactly at the limit is fine.
  ASSERT_OK_AND_ASSIGN(std::string out,
                       DecompressIfCompressed("ok.gz", Gzip(original), original.size()));
  EXPECT_EQ(out.size(), original.size());
  ASSERT_OK_AND_ASSIGN(out, DecompressIfCompressed("ok.zst", Zstd(original), original.size()));
  EXPECT_EQ(out.size(), original.size());
}

}  // namespace
}  // namespace emar
