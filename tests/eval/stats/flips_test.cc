// Tests of eval/stats/flips.h.
#include "eval/stats/flips.h"

#include <vector>

#include "common/status_matchers.h"
#include "eval/stats/significance.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;

std::vector<size_t> RowsOf(const std::vector<Flip>& flips) {
  std::vector<size_t> rows;
  for (const Flip& f : flips) rows.push_back(f.row);
  return rows;
}

TEST(FlipsTest, ListsLearnedAndForgottenItemsInRowOrder) {
  const std::vector<double> base = {0, 1, 1, 0, 0, 1, 0, 1};
  const std::vector<double> cand = {1, 1, 0, 0, 1, 0, 1, 1};
  ASSERT_OK_AND_ASSIGN(Flips f, ListFlips(base, cand));
  EXPECT_EQ(f.items, 8);
  EXPECT_EQ(f.learned_count, 3);
  EXPECT_EQ(f.forgot_count, 2);
  EXPECT_THAT(RowsOf(f.learned), ::testing::ElementsAre(0, 4, 6));
  EXPECT_THAT(RowsOf(f.forgot), ::testing::ElementsAre(2, 5));
  EXPECT_EQ(f.learned[1].base, 0);
  EXPECT_EQ(f.learned[1].candidate, 1);
}

TEST(FlipsTest, CountsAreMcNemarsDiscordantCells) {
  std::vector<double> base, cand;
  for (int i = 0; i < 500; ++i) {
    base.push_back((i * 7 % 10) < 6 ? 1 : 0);
    cand.push_back((i * 3 % 10) < 7 ? 1 : 0);
  }
  ASSERT_OK_AND_ASSIGN(Flips f, ListFlips(base, cand, {/*first_n=*/5}));
  ASSERT_OK_AND_ASSIGN(McNemarResult m, McNemarExact(base, cand));
  EXPECT_EQ(f.forgot_count, m.b);
  EXPECT_EQ(f.learned_count, m.c);
  EXPECT_EQ(f.learned.size(), 5u);  // first_n caps the lists, not the counts
  EXPECT_EQ(f.forgot.size(), 5u);
}

TEST(FlipsTest, ItemMeansUseTheThresholdAndDirection) {
  // Per-item means over 4 samples.
  const std::vector<double> base = {0.25, 0.75, 0.5, 0.0};
  const std::vector<double> cand = {0.75, 0.25, 0.5, 0.25};
  ASSERT_OK_AND_ASSIGN(Flips f, ListFlips(base, cand));
  EXPECT_THAT(RowsOf(f.learned), ::testing::ElementsAre(0));
  EXPECT_THAT(RowsOf(f.forgot), ::testing::ElementsAre(1));
  FlipOptions strict;
  strict.right_at = 0.7;
  ASSERT_OK_AND_ASSIGN(Flips g, ListFlips(base, cand, strict));
  EXPECT_EQ(g.learned_count, 1);
  EXPECT_EQ(g.forgot_count, 1);
  // Lower is better (e.g. a toxicity score): right means <= the threshold.
  FlipOptions lower;
  lower.direction = Direction::kLowerIsBetter;
  lower.right_at = 0.3;
  ASSERT_OK_AND_ASSIGN(Flips h, ListFlips(base, cand, lower));
  EXPECT_THAT(RowsOf(h.learned), ::testing::ElementsAre(1));
  EXPECT_THAT(RowsOf(h.forgot), ::testing::ElementsAre(0));
}

TEST(FlipsTest, RefusesUnpairedOrNonFiniteInput) {
  EXPECT_THAT(ListFlips(std::vector<double>{1, 0}, std::vector<double>{1}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("paired")));
  EXPECT_THAT(ListFlips(std::vector<double>{1, NAN}, std::vector<double>{1, 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("row 1")));
}

}  // namespace
}  // namespace emar
