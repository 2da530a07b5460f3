// A suite's formula names a dataset's own scores: `T1[tickets]`, `B0[gsm8k]`, `dB[wmt-de-en]`.
#include "common/status_matchers.h"
#include "eval/formula/emar_formula.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

TEST(DatasetRefsTest, NamesInBracketsAreListedOnceInOrderOfAppearance) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f,
                       EmarFormula::Parse("(T1[tickets] - T0[tickets]) / T0[tickets] + "
                                          "min(0, dB[ wmt-de-en ]) + 0 * dT"));
  EXPECT_EQ(f.name(), "custom");
  ASSERT_EQ(f.dataset_refs().size(), 3u);
  EXPECT_EQ(f.dataset_refs()[0].var, kVarT1);
  EXPECT_EQ(f.dataset_refs()[0].dataset, "tickets");
  EXPECT_EQ(f.dataset_refs()[1].var, kVarT0);
  EXPECT_EQ(f.dataset_refs()[2].var, kVarDB);
  EXPECT_EQ(f.dataset_refs()[2].dataset, "wmt-de-en");  // spaces around the name dropped
  // refs: T1[tickets] = 0.85, T0[tickets] = 0.70, dB[wmt-de-en] = -0.02.
  const EmarValue v = f.Evaluate({0.7, 0.85, 0.5, 0.5}, {0.85, 0.70, -0.02});
  ASSERT_TRUE(v.value.has_value()) << v.undefined_reason;
  EXPECT_NEAR(*v.value, 0.15 / 0.70 - 0.02, 1e-12);
}

TEST(DatasetRefsTest, UndefinedResultsNameTheDatasetScore) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("dT / B0[mmlu]"));
  EmarValue v = f.Evaluate({0.7, 0.8, 0.5, 0.5}, {0.0});
  EXPECT_FALSE(v.value.has_value());
  EXPECT_THAT(v.undefined_reason, HasSubstr("divisor 'B0[mmlu]' = 0"));
  v = f.Evaluate({0.7, 0.8, 0.5, 0.5}, {std::numeric_limits<double>::infinity()});
  EXPECT_THAT(v.undefined_reason, HasSubstr("score 'B0[mmlu]' is not finite"));
  v = f.Evaluate({0.7, 0.8, 0.5, 0.5});  // emarctl emar gives no dataset scores
  EXPECT_THAT(v.undefined_reason, HasSubstr("names 1 dataset scores (B0[mmlu], ...) but 0"));
}

TEST(DatasetRefsTest, MalformedReferencesAreErrorsWithTheirColumn) {
  EXPECT_THAT(EmarFormula::Parse("T1[mmlu"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected ']' to close the '[' of column 3")));
  EXPECT_THAT(EmarFormula::Parse("T1[ ] - T0"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected a dataset name in 'T1[...]' at column 4")));
  EXPECT_THAT(EmarFormula::Parse("abs[mmlu]"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected '('")));
  EXPECT_THAT(EmarFormula::Parse("T1[mmlu](2)"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                          HasSubstr("is a score, not a function")));
  EXPECT_THAT(EmarFormula::Parse("T0 + [mmlu]"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected an operand")));
  // Presets and plain expressions name no dataset.
  ASSERT_OK_AND_ASSIGN(EmarFormula preset, EmarFormula::Parse("relative_gain"));
  EXPECT_TRUE(preset.dataset_refs().empty());
}

}  // namespace
}  // namespace emar
