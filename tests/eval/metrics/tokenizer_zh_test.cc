#include "eval/metrics/tokenizer_zh.h"

#include <string>

#include "gtest/gtest.h"

namespace emar {
namespace {

std::string Zh(const std::string& line) {
  std::string out, scratch;
  TokenizeZh(line, &out, &scratch);
  // ' '.join(line.split()) for ASCII whitespace, enough for these cases.
  std::string joined;
  bool space = false;
  for (char c : out) {
    if (c == ' ') {
      space = !joined.empty();
      continue;
    }
    if (space) joined.push_back(' ');
    space = false;
    joined.push_back(c);
  }
  return joined;
}

TEST(TokenizerZhTest, SplitsChineseCharactersThenRunsTheRegexPasses) {
  EXPECT_EQ(Zh("我喜欢猫."), "我 喜 欢 猫 .");
  EXPECT_EQ(Zh("  价格是3.14元，好!  "), "价 格 是 3.14 元 ， 好 !");
  // No 13a padding: a leading "." splits only from a following non-digit, a trailing one only
  // from a preceding non-digit, and "5." at the end stays one token.
  EXPECT_EQ(Zh(".x y5."), ". x y5.");
  EXPECT_EQ(Zh("1-2 a-b"), "1 - 2 a-b");
  EXPECT_EQ(Zh("(a)&<b>"), "( a ) & < b >");
}

TEST(TokenizerZhTest, TheTableAsPythonComparesItsBounds) {
  EXPECT_TRUE(IsSacrebleuChineseChar(0x4E00));
  EXPECT_TRUE(IsSacrebleuChineseChar(0xFF0C));  // fullwidth comma
  EXPECT_TRUE(IsSacrebleuChineseChar(0x3002));  // ideographic full stop
  // '\u20000'..'\u2a6d6' is really U+2001..U+2A6D: em dash, euro sign, arrows.
  EXPECT_FALSE(IsSacrebleuChineseChar(0x2000));
  EXPECT_TRUE(IsSacrebleuChineseChar(0x2014));
  EXPECT_TRUE(IsSacrebleuChineseChar(0x20AC));
  EXPECT_TRUE(IsSacrebleuChineseChar(0x2A6D));
  EXPECT_FALSE(IsSacrebleuChineseChar(0x2A6E));
  EXPECT_FALSE(IsSacrebleuChineseChar(0x20000));  // CJK Extension B is not covered
  EXPECT_FALSE(IsSacrebleuChineseChar(0x2F800));  // nor the Compatibility Supplement
  EXPECT_FALSE(IsSacrebleuChineseChar('a'));
  EXPECT_FALSE(IsSacrebleuChineseChar(0xE9));
  EXPECT_EQ(Zh("a—b"), "a — b");
}

}  // namespace
}  // namespace emar
