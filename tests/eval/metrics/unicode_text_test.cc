#include "eval/metrics/unicode_text.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::ElementsAre;

TEST(UnicodeTextTest, DecodesAndEncodesUtf8) {
  const std::string s = "a\u00e9\u20ac\U0001F600";
  size_t pos = 0;
  std::vector<char32_t> cps;
  while (pos < s.size()) cps.push_back(NextCodePoint(s, &pos));
  EXPECT_THAT(cps, ElementsAre(U'a', U'\u00e9', U'\u20ac', U'\U0001F600'));
  std::string back;
  for (char32_t cp : cps) AppendUtf8(cp, &back);
  EXPECT_EQ(back, s);
}

TEST(UnicodeTextTest, InvalidBytesDecodeAsReplacementOneByteAtATime) {
  const std::string s = "\xff\xc3(\xe2\x82";
  size_t pos = 0;
  std::vector<char32_t> cps;
  while (pos < s.size()) cps.push_back(NextCodePoint(s, &pos));
  EXPECT_THAT(cps, ElementsAre(0xFFFD, 0xFFFD, U'(', 0xFFFD, 0xFFFD));
}

TEST(UnicodeTextTest, PythonWhitespaceSet) {
  for (char32_t cp : {0x09, 0x0A, 0x0B,   0x0C,   0x0D,   0x1C,   0x1D,   0x1E,   0x1F,   0x20,
                      0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}) {
    EXPECT_TRUE(IsPythonSpace(cp)) << std::hex << cp;
  }
  for (char32_t cp : {0x08, 0x0E, 0x200B, 0xFEFF, 0x180E, 0x61}) {
    EXPECT_FALSE(IsPythonSpace(cp)) << std::hex << cp;
  }
}

TEST(UnicodeTextTest, StripAndSplitLikePython) {
  EXPECT_EQ(PythonStrip("\u00a0 yes \t\u3000"), "yes");
  EXPECT_EQ(PythonStrip("   "), "");
  EXPECT_EQ(PythonRStrip("  x \n"), "  x");
  EXPECT_EQ(PythonRStrip("x\xe3"), "x\xe3");  // a truncated sequence is not whitespace
  std::vector<absl::string_view> parts;
  PythonSplit("  a\u2009b\n\nc\u200bd ", &parts);
  EXPECT_THAT(parts, ElementsAre("a", "b", "c\u200bd"));  // U+200B is not whitespace
  PythonSplit("", &parts);
  EXPECT_TRUE(parts.empty());
}

TEST(UnicodeTextTest, LowerLikePython) {
  std::string out;
  PythonLower("ABC xyz 09", &out);
  EXPECT_EQ(out, "abc xyz 09");
  PythonLower("\u00c9COLE \u0130stanbul", &out);
  EXPECT_EQ(out, "\u00e9cole i\u0307stanbul");
  PythonLower("\u039f\u0394\u039f\u03a3 \u03a3\u039f", &out);  // final vs non-final sigma
  EXPECT_EQ(out, "\u03bf\u03b4\u03bf\u03c2 \u03c3\u03bf");
  PythonLower("\u212a", &out);  // Kelvin sign
  EXPECT_EQ(out, "k");
  PythonLower("STRASSE \u1e9e", &out);
  EXPECT_EQ(out, "strasse \u00df");
}

TEST(UnicodeTextTest, WordCharactersLikePythonRe) {
  EXPECT_TRUE(IsPythonWordChar('a'));
  EXPECT_TRUE(IsPythonWordChar('_'));
  EXPECT_TRUE(IsPythonWordChar('7'));
  EXPECT_FALSE(IsPythonWordChar('-'));
  EXPECT_TRUE(IsPythonWordChar(0x00E9));   // é
  EXPECT_TRUE(IsPythonWordChar(0x4E2D));   // 中
  EXPECT_TRUE(IsPythonWordChar(0x00B2));   // superscript two (numeric)
  EXPECT_TRUE(IsPythonWordChar(0x2167));   // Roman numeral eight (Nl)
  EXPECT_FALSE(IsPythonWordChar(0x0301));  // combining acute (Mn)
  EXPECT_FALSE(IsPythonWordChar(0x2014));  // em dash
  EXPECT_FALSE(IsPythonWordChar(0x1F600));
}

}  // namespace
}  // namespace emar
