// The generated Unicode 14.0.0 tables: their shape (sorted, disjoint, in range) and code points
// whose class or lower case Python 3.11 pins.
#include "eval/metrics/unicode_tables.h"

#include <string>

#include "gtest/gtest.h"

namespace emar {
namespace {

using namespace ::emar::unicode_tables;  // NOLINT(google-build-using-namespace): test of it

void ExpectSortedDisjointNonAdjacent(absl::Span<const CodePointRange> ranges, const char* what) {
  ASSERT_FALSE(ranges.empty()) << what;
  for (size_t i = 0; i < ranges.size(); ++i) {
    EXPECT_LE(ranges[i].first, ranges[i].last) << what << " range " << i;
    EXPECT_LE(ranges[i].last, 0x10FFFFu) << what << " range " << i;
    if (i > 0) EXPECT_GT(ranges[i].first, ranges[i - 1].last + 1) << what << " range " << i;
  }
}

// str.lower() of one code point, through the runs and expansions.
std::u32string Lower(char32_t cp) {
  for (const LowerExpansion& e : LowerExpansions()) {
    if (e.cp == cp) return std::u32string(LowerPool().data() + e.offset, e.length);
  }
  for (const LowerRun& r : LowerRuns()) {
    if (cp >= r.first && cp <= r.last && (cp - r.first) % r.stride == 0) {
      return std::u32string(1, static_cast<char32_t>(static_cast<int64_t>(cp) + r.delta));
    }
  }
  return std::u32string(1, cp);
}

TEST(UnicodeTablesTest, RangeTablesAreSortedDisjointAndNonAdjacent) {
  ExpectSortedDisjointNonAdjacent(WordRanges(), "word");
  ExpectSortedDisjointNonAdjacent(SpaceRanges(), "space");
  ExpectSortedDisjointNonAdjacent(CasedRanges(), "cased");
  ExpectSortedDisjointNonAdjacent(CaseIgnorableRanges(), "case ignorable");
}

TEST(UnicodeTablesTest, LowerCaseTablesAreWellFormed) {
  char32_t previous_last = 0;
  bool first = true;
  for (const LowerRun& r : LowerRuns()) {
    EXPECT_TRUE(r.stride == 1 || r.stride == 2) << std::hex << r.first;
    EXPECT_LE(r.first, r.last);
    if (!first) EXPECT_GT(r.first, previous_last) << std::hex << r.first;
    previous_last = r.last;
    first = false;
  }
  char32_t previous_cp = 0;
  for (const LowerExpansion& e : LowerExpansions()) {
    EXPECT_GT(e.cp, previous_cp);
    previous_cp = e.cp;
    EXPECT_GE(e.length, 2u);
    EXPECT_LE(e.length, kMaxLowerLength);
    EXPECT_LE(e.offset + e.length, LowerPool().size());
  }
}

TEST(UnicodeTablesTest, ClassesOfPinnedCodePoints) {
  EXPECT_TRUE(InRanges(WordRanges(), U'a'));
  EXPECT_TRUE(InRanges(WordRanges(), U'_'));
  EXPECT_TRUE(InRanges(WordRanges(), U'7'));
  EXPECT_FALSE(InRanges(WordRanges(), U'-'));
  EXPECT_TRUE(InRanges(WordRanges(), 0x4E2D));    // 中, Lo
  EXPECT_FALSE(InRanges(WordRanges(), 0x1E4D0));  // unassigned in 14.0 (a letter in 15.0)
  EXPECT_TRUE(InRanges(SpaceRanges(), U' '));
  EXPECT_TRUE(InRanges(SpaceRanges(), 0x3000));   // ideographic space
  EXPECT_TRUE(InRanges(SpaceRanges(), 0x1C));     // Python counts the file separator as space
  EXPECT_FALSE(InRanges(SpaceRanges(), 0x200B));  // zero width space is not
  EXPECT_TRUE(InRanges(CasedRanges(), U'A'));
  EXPECT_FALSE(InRanges(CasedRanges(), U'1'));
  EXPECT_TRUE(InRanges(CaseIgnorableRanges(), U'\''));
  EXPECT_STREQ(kUnicodeVersion, "14.0.0");
}

TEST(UnicodeTablesTest, LowerCaseOfPinnedCodePoints) {
  EXPECT_EQ(Lower(U'A'), U"a");
  EXPECT_EQ(Lower(U'a'), U"a");
  EXPECT_EQ(Lower(0x00C9), U"\u00e9");       // É
  EXPECT_EQ(Lower(0x0130), U"i\u0307");      // İ: two code points
  EXPECT_EQ(Lower(0x03A3), U"\u03c3");       // Σ (final sigma is a rule on top, not a table)
  EXPECT_EQ(Lower(0x0100), U"\u0101");       // Ā: a stride-2 run
  EXPECT_EQ(Lower(0x0101), U"\u0101");       // ā, between the run's members
  EXPECT_EQ(Lower(0x10400), U"\U00010428");  // Deseret
  EXPECT_EQ(Lower(0x4E2D), U"\u4e2d");
}

}  // namespace
}  // namespace emar
