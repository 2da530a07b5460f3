// SHA-256 as lowercase hex against the FIPS 180-2 vectors, one-shot, streamed and from a file.
#include "common/sha256.h"

#include <fstream>
#include <string>

#include "common/status_matchers.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
// "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
constexpr char kTwoBlocks[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

TEST(Sha256Test, DigestsMatchTheStandardVectors) {
  EXPECT_EQ(Sha256Hex(""), kEmpty);
  EXPECT_EQ(Sha256Hex("abc"), kAbc);
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), kTwoBlocks);
}

TEST(Sha256Test, StreamingInAnyPiecesGivesTheOneShotDigest) {
  const std::string text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (size_t piece : {1, 3, 55, 64, 100}) {
    Sha256Hasher h;
    for (size_t i = 0; i < text.size(); i += piece) h.Update(text.substr(i, piece));
    EXPECT_EQ(h.FinishHex(), kTwoBlocks) << "piece " << piece;
  }
}

TEST(Sha256Test, FilesAreStreamedAndAMissingOneIsNamed) {
  TempDir dir;
  const std::string path = dir.path() + "/f";
  std::string big(3 << 20, 'x');  // larger than one read
  std::ofstream(path, std::ios::binary) << big;
  ASSERT_OK_AND_ASSIGN(std::string digest, Sha256OfFile(path));
  EXPECT_EQ(digest, Sha256Hex(big));
  EXPECT_THAT(Sha256OfFile(dir.path() + "/missing").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(dir.path() + "/missing")));
}

TEST(Sha256Test, OnlySixtyFourLowercaseHexCharactersAreADigest) {
  EXPECT_TRUE(IsSha256Hex(kAbc));
  EXPECT_FALSE(IsSha256Hex(""));
  EXPECT_FALSE(IsSha256Hex(std::string(kAbc).substr(1)));
  EXPECT_FALSE(IsSha256Hex(std::string(kAbc) + "0"));
  std::string upper = kAbc;
  upper[0] = 'B';
  EXPECT_FALSE(IsSha256Hex(upper));
  std::string other = kAbc;
  other[5] = 'g';
  EXPECT_FALSE(IsSha256Hex(other));
}

}  // namespace
}  // namespace emar
