#include "console/url.h"

#include <gtest/gtest.h>

namespace emar {
namespace {

TEST(UrlTest, PercentDecodeReadsEscapesAndPlusAndRefusesBrokenOnes) {
  EXPECT_EQ(PercentDecode("run%3Dexp-42+a%2fb"), "run=exp-42 a/b");
  EXPECT_EQ(PercentDecode(""), "");
  EXPECT_EQ(PercentDecode("%"), std::nullopt);
  EXPECT_EQ(PercentDecode("%4"), std::nullopt);
  EXPECT_EQ(PercentDecode("%zz"), std::nullopt);
}

TEST(UrlTest, QueryKeepsOrderAndRepeatsAndSkipsMalformedPairs) {
  const QueryParams q = ParseQuery("label=run%3Dexp-42&state=running&label=step=5&bad=%&by=step");
  EXPECT_EQ(AllParams(q, "label"), (std::vector<std::string>{"run=exp-42", "step=5"}));
  EXPECT_EQ(FirstParam(q, "state"), "running");
  EXPECT_EQ(FirstParam(q, "bad"), std::nullopt);
  EXPECT_EQ(FirstParam(q, "by"), "step");
  EXPECT_EQ(FirstParam(q, "missing"), std::nullopt);
}

TEST(UrlTest, PercentEncodeRoundTrips) {
  const std::string odd = "run=exp 42/ü&?#%";
  EXPECT_EQ(PercentEncode("abc-._~"), "abc-._~");
  EXPECT_EQ(PercentEncode("a=b c"), "a%3Db%20c");
  EXPECT_EQ(PercentDecode(PercentEncode(odd)), odd);
}

TEST(UrlTest, CookieValueFindsTheNamedCookieOnly) {
  EXPECT_EQ(CookieValue("a=1; emar_session=abc; b=2", "emar_session"), "abc");
  EXPECT_EQ(CookieValue("xemar_session=abc", "emar_session"), std::nullopt);
  EXPECT_EQ(CookieValue("", "emar_session"), std::nullopt);
}

}  // namespace
}  // namespace emar
