// Tests of the expression compiler behind EmarFormula: grammar, precedence, associativity,
// functions, the spans quoted in undefined reasons, and every class of parse error.
#include "eval/formula/formula_parser.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "eval/formula/emar_formula.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Scores chosen so that every variable has a distinct value.
constexpr EmarScores kScores{/*t0=*/2, /*t1=*/7, /*b0=*/3, /*b1=*/11};  // dT = 5, dB = 8

double Eval(const std::string& expression, EmarScores s = kScores) {
  absl::StatusOr<EmarFormula> f = EmarFormula::Parse(expression);
  EXPECT_TRUE(f.ok()) << f.status();
  if (!f.ok()) return NAN;
  EmarValue v = f->Evaluate(s);
  EXPECT_TRUE(v.value.has_value()) << expression << ": " << v.undefined_reason;
  return v.value.value_or(NAN);
}

absl::Status ParseError(const std::string& expression) {
  return EmarFormula::Parse(expression).status();
}

TEST(FormulaParserTest, Variables) {
  EXPECT_EQ(Eval("T0"), 2);
  EXPECT_EQ(Eval("T1"), 7);
  EXPECT_EQ(Eval("B0"), 3);
  EXPECT_EQ(Eval("B1"), 11);
  EXPECT_EQ(Eval("dT"), 5);
  EXPECT_EQ(Eval("dB"), 8);
}

TEST(FormulaParserTest, Numbers) {
  EXPECT_EQ(Eval("0.5"), 0.5);
  EXPECT_EQ(Eval(".25"), 0.25);
  EXPECT_EQ(Eval("3."), 3);
  EXPECT_EQ(Eval("1e-3"), 1e-3);
  EXPECT_EQ(Eval("2E+2"), 200);
  EXPECT_EQ(Eval("  42  "), 42);
}

TEST(FormulaParserTest, MultiplicationBindsTighterThanAddition) {
  EXPECT_EQ(Eval("T0 + T1 * B0"), 2 + 7 * 3);
  EXPECT_EQ(Eval("T1 * B0 + T0"), 7 * 3 + 2);
  EXPECT_EQ(Eval("B1 - T1 / T0"), 11 - 3.5);
  EXPECT_EQ(Eval("(T0 + T1) * B0"), (2 + 7) * 3);
}

TEST(FormulaParserTest, BinaryOperatorsAreLeftAssociative) {
  EXPECT_EQ(Eval("B1 - T1 - T0"), (11 - 7) - 2);
  EXPECT_EQ(Eval("B1 - (T1 - T0)"), 11 - (7 - 2));
  EXPECT_EQ(Eval("12 / T0 / B0"), (12.0 / 2) / 3);
  EXPECT_EQ(Eval("12 / T0 * B0"), (12.0 / 2) * 3);
  EXPECT_EQ(Eval("B1 - T1 + T0"), (11 - 7) + 2);
}

TEST(FormulaParserTest, UnaryMinus) {
  EXPECT_EQ(Eval("-T0"), -2);
  EXPECT_EQ(Eval("--T0"), 2);
  EXPECT_EQ(Eval("+T0"), 2);
  EXPECT_EQ(Eval("-T0 * B0"), -6);
  EXPECT_EQ(Eval("T1 - -T0"), 9);
  EXPECT_EQ(Eval("T1 * -T0"), -14);
  EXPECT_EQ(Eval("-(T1 - B1)"), 4);
  EXPECT_EQ(Eval("-T0 + T1"), 5);  // (-T0) + T1, not -(T0 + T1)
  EXPECT_EQ(Eval("-(dB) * 2 + dT"), -16 + 5);
}

TEST(FormulaParserTest, Functions) {
  EXPECT_EQ(Eval("abs(T0 - T1)"), 5);
  EXPECT_EQ(Eval("abs(-3)"), 3);
  EXPECT_EQ(Eval("min(T1, T0)"), 2);
  EXPECT_EQ(Eval("max(T1, T0)"), 7);
  EXPECT_EQ(Eval("min(0, B1 - B0)"), 0);
  EXPECT_EQ(Eval("min ( -1 , 4 )"), -1);
}

TEST(FormulaParserTest, NestedFunctions) {
  EXPECT_EQ(Eval("max(min(T0, T1), abs(-B0))"), 3);
  EXPECT_EQ(Eval("abs(min(-T1, max(T0, -B1)) * 2)"), 14);
  EXPECT_EQ(Eval("min(max(dT, dB), max(T0, min(B1, B0 * 4)))"), 8);
  EXPECT_EQ(Eval("-abs(abs(abs(-T0)))"), -2);
}

TEST(FormulaParserTest, DeepButReasonableNestingCompiles) {
  std::string e = "T0";
  for (int i = 0; i < 40; ++i) e = "(" + e + " + 1)";
  EXPECT_EQ(Eval(e), 42);
  // A right-leaning chain needs a deep stack: 30 pending operands fit.
  std::string r = "T0";
  for (int i = 0; i < 30; ++i) r = "1 + (" + r + ")";
  EXPECT_EQ(Eval(r), 32);
}

TEST(FormulaParserTest, DivisorTextIsTheExactSubexpression) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("dT / (1 - T0)"));
  EmarValue v = f.Evaluate({1, 1.5, 0, 0});
  EXPECT_EQ(v.undefined_reason, "division by zero: divisor '(1 - T0)' = 0 in 'dT / (1 - T0)'");
  ASSERT_OK_AND_ASSIGN(EmarFormula g, EmarFormula::Parse("T1 / T0 * 2 / max(B0, -B1)"));
  v = g.Evaluate({1, 1, 0, 0});
  EXPECT_THAT(v.undefined_reason, HasSubstr("divisor 'max(B0, -B1)' = 0"));
  ASSERT_OK_AND_ASSIGN(EmarFormula h, EmarFormula::Parse("1 / -T0"));
  EXPECT_THAT(h.Evaluate({0, 0, 0, 0}).undefined_reason, HasSubstr("divisor '-T0'"));
}

TEST(FormulaParserTest, ErrorOperandMissing) {
  EXPECT_THAT(ParseError("(T1 - "),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "bad formula '(T1 - ': expected an operand at column 7"));
  EXPECT_THAT(ParseError("T1 * / T0"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "bad formula 'T1 * / T0': expected an operand at column 6, found '/'"));
  EXPECT_THAT(ParseError("()"), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("expected an operand at column 2")));
}

TEST(FormulaParserTest, ErrorUnbalancedParentheses) {
  EXPECT_THAT(ParseError("(T1 - T0"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected ')' to close the '(' of column 1 at column 9")));
  EXPECT_THAT(ParseError("T1 - T0)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unexpected ')' after a complete expression at column 8")));
}

TEST(FormulaParserTest, ErrorTrailingTokens) {
  EXPECT_THAT(ParseError("T1 T0"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unexpected 'T0'")));
  EXPECT_THAT(ParseError("2 3"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at column 3")));
}

TEST(FormulaParserTest, ErrorUnknownNameListsAllowedNames) {
  EXPECT_THAT(ParseError("(t1 - T0) / T0"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("bad formula '(t1 - T0) / T0': unknown name 't1'"),
                             HasSubstr("T0, T1, B0, B1, dT, dB"), HasSubstr("abs"),
                             HasSubstr("min"), HasSubstr("max"), HasSubstr("at column 2"))));
  EXPECT_THAT(ParseError("sqrt(T0)"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown name 'sqrt'")));
}

TEST(FormulaParserTest, ErrorBadCharacterAndNumber) {
  EXPECT_THAT(ParseError("T1 % T0"), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("unexpected character '%' at column 4")));
  EXPECT_THAT(ParseError("1.2.3 + T0"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad number '1.2.3'")));
  EXPECT_THAT(ParseError("1e999"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad number '1e999'")));
  EXPECT_THAT(ParseError("T0 ^ 2"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'^'")));
}

TEST(FormulaParserTest, ErrorFunctionArity) {
  EXPECT_THAT(ParseError("abs(T0, T1)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'abs' takes 1 argument, got 2 at column 1")));
  EXPECT_THAT(ParseError("T1 / min(T0)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'min' takes 2 arguments, got 1 at column 6")));
  EXPECT_THAT(ParseError("max()"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("'max' takes 2 arguments, got 0")));
  EXPECT_THAT(ParseError("max(1, 2, 3)"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 3")));
}

TEST(FormulaParserTest, ErrorFunctionSyntax) {
  EXPECT_THAT(ParseError("abs T0"), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("expected '(' after the function 'abs'")));
  EXPECT_THAT(ParseError("min(T0 T1)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected ',' or ')' in the arguments of 'min' at column 8")));
  EXPECT_THAT(ParseError("T0(1)"), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("'T0' is a score, not a function")));
  EXPECT_THAT(ParseError("min(T0,)"), StatusIs(absl::StatusCode::kInvalidArgument,
                                               HasSubstr("expected an operand at column 8")));
}

TEST(FormulaParserTest, ErrorEmptyOrBlank) {
  EXPECT_THAT(ParseError("   "),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the formula is empty")));
}

TEST(FormulaParserTest, HostileNestingIsAnErrorNotACrash) {
  EXPECT_THAT(ParseError(std::string(1000, '(') + "T0" + std::string(1000, ')')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nested too deeply")));
  EXPECT_THAT(ParseError(std::string(2000, '-') + "T0"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nested too deeply")));
  // Longer still: refused by length before any parsing.
  EXPECT_THAT(ParseError(std::string(100000, '(') + "T0" + std::string(100000, ')')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("200002 characters, limit")));
  std::string chain = "T0";
  for (int i = 0; i < 80; ++i) chain = "1 + (" + chain + ")";
  EXPECT_THAT(ParseError(chain), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("too deep an evaluation stack")));
}

// A 90 KB formula of 29,999 terms took 1.3 GB (each subexpression's text was
// copied). Within the length limit the program keeps one copy of the formula: its
// subexpression texts are views into it, whatever their number.
TEST(FormulaParserTest, SubexpressionTextsShareOneCopyOfTheFormula) {
  std::string sum = "T0";
  while (sum.size() + 3 <= kMaxFormulaLength) sum += "+T0";
  ASSERT_OK_AND_ASSIGN(FormulaProgram p, CompileFormula(sum));
  const absl::string_view whole = p.text(p.code().back().text);
  EXPECT_EQ(whole, sum);
  const absl::string_view first = p.text(p.code()[2].text);  // T0+T0
  EXPECT_EQ(first, "T0+T0");
  EXPECT_EQ(whole.data(), first.data()) << "texts must be views into one buffer";
  EXPECT_THAT(CompileFormula(sum + "+T0"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat("limit ", kMaxFormulaLength))));
}

TEST(FormulaParserTest, LongFormulaErrorsShowAnExcerptNotTheWholeFormula) {
  std::string f = "T0";
  for (int i = 0; i < 500; ++i) f += "+T0";
  f += "+?";
  const absl::Status st = ParseError(f);
  EXPECT_THAT(st, StatusIs(absl::StatusCode::kInvalidArgument,
                           AllOf(HasSubstr("unexpected character '?'"),
                                 HasSubstr(absl::StrCat("at column ", f.size())), HasSubstr("'..."),
                                 HasSubstr("+T0+T0+?'"))));
  EXPECT_LT(st.message().size(), 200u);
}

// Found by fuzz_formula: finite scores whose difference overflows gave EMAR = inf.
TEST(FormulaParserTest, OverflowingDifferenceIsUndefinedNotInfinite) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("dB"));
  const EmarValue v = f.Evaluate({0.5, 0.5, -1e308, 1e308});
  EXPECT_FALSE(v.value.has_value());
  EXPECT_THAT(v.undefined_reason, HasSubstr("non-finite value: 'dB' = inf"));
}

TEST(FormulaParserTest, CompiledProgramIsReversePolish) {
  ASSERT_OK_AND_ASSIGN(FormulaProgram p, CompileFormula("T1 - T0 * 2"));
  using Op = FormulaProgram::Op;
  ASSERT_EQ(p.code().size(), 5u);
  EXPECT_EQ(p.code()[0].op, Op::kVar);
  EXPECT_EQ(p.code()[1].op, Op::kVar);
  EXPECT_EQ(p.code()[2].op, Op::kConst);
  EXPECT_EQ(p.code()[3].op, Op::kMul);
  EXPECT_EQ(p.code()[4].op, Op::kSub);
  EXPECT_EQ(p.text(p.code()[3].text), "T0 * 2");
  EXPECT_EQ(p.used_vars(), (1u << kVarT0) | (1u << kVarT1));
}

}  // namespace
}  // namespace emar
