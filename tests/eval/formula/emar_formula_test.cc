// Tests of EmarFormula: every case of testdata/emar/formulas.json (the vectors of
// docs/formulas.md) is one test, plus presets, names and undefined reasons.
#include "eval/formula/emar_formula.h"

#include <cmath>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kVectorsPath[] = EMAR_TESTDATA_DIR "/emar/formulas.json";

struct Vector {
  std::string test_name;  // gtest-safe
  std::string formula;    // preset name or expression
  EmarScores scores;
  std::optional<double> expected;
};

std::ostream& operator<<(std::ostream& os, const Vector& v) { return os << v.test_name; }

struct VectorFile {
  std::string error;  // non-empty when the file could not be read
  double tolerance = 0;
  std::vector<std::pair<std::string, std::string>> presets;  // name, expression
  std::vector<Vector> vectors;
};

EmarScores ReadScores(simdjson::dom::object o) {
  return {double(o["T0"]), double(o["T1"]), double(o["B0"]), double(o["B1"])};
}

std::optional<double> ReadExpected(simdjson::dom::element e) {
  if (e.is_null()) return std::nullopt;
  return double(e);
}

std::string SafeName(std::string s) {
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return s;
}

// Reads the vectors once; a failure is reported by the FileLoads test, not thrown.
const VectorFile& Vectors() {
  static const VectorFile* file = [] {
    auto* f = new VectorFile;
    try {
      simdjson::dom::parser parser;
      simdjson::dom::element root = parser.load(kVectorsPath);
      f->tolerance = double(root["tolerance_relative"]);
      for (auto [name, expr] : simdjson::dom::object(root["presets"])) {
        f->presets.emplace_back(std::string(name), std::string(std::string_view(expr)));
      }
      for (simdjson::dom::element c : simdjson::dom::array(root["cases"])) {
        const std::string case_name{std::string_view(c["name"])};
        for (auto [preset, expected] : simdjson::dom::object(c["expected"])) {
          f->vectors.push_back({SafeName(case_name + "__" + std::string(preset)),
                                std::string(preset), ReadScores(c["scores"]),
                                ReadExpected(expected)});
        }
      }
      int i = 0;
      for (simdjson::dom::element e : simdjson::dom::array(root["expressions"])) {
        std::string formula{std::string_view(e["formula"])};
        f->vectors.push_back({"expression_" + std::to_string(i++) + "__" + SafeName(formula),
                              formula, ReadScores(e["scores"]), ReadExpected(e["expected"])});
      }
    } catch (const simdjson::simdjson_error& e) {
      f->error = std::string(kVectorsPath) + ": " + e.what();
    }
    return f;
  }();
  return *file;
}

TEST(FormulaVectorsTest, FileLoadsWithEveryPresetAndCase) {
  const VectorFile& f = Vectors();
  ASSERT_EQ(f.error, "");
  EXPECT_EQ(f.tolerance, 1e-9);
  // 5 cases x 4 presets + 4 free expressions (docs/formulas.md).
  EXPECT_EQ(f.vectors.size(), 24u);
}

TEST(FormulaVectorsTest, PresetExpansionsMatchTheSharedFile) {
  const VectorFile& f = Vectors();
  ASSERT_EQ(f.error, "");
  std::vector<std::string> names;
  for (const auto& [name, expression] : f.presets) {
    names.push_back(name);
    ASSERT_OK_AND_ASSIGN(EmarFormula formula, EmarFormula::Parse(name));
    EXPECT_EQ(formula.expression(), expression) << name;
  }
  EXPECT_THAT(EmarPresetNames(), ::testing::UnorderedElementsAreArray(names));
}

class FormulaVectorTest : public ::testing::TestWithParam<Vector> {};

TEST_P(FormulaVectorTest, MatchesExpected) {
  const Vector& v = GetParam();
  ASSERT_OK_AND_ASSIGN(EmarFormula formula, EmarFormula::Parse(v.formula));
  const EmarValue got = formula.Evaluate(v.scores);
  if (!v.expected.has_value()) {
    EXPECT_FALSE(got.value.has_value()) << "got " << *got.value;
    EXPECT_THAT(got.undefined_reason, HasSubstr("division by zero"));
    return;
  }
  ASSERT_TRUE(got.value.has_value()) << got.undefined_reason;
  EXPECT_EQ(got.undefined_reason, "");
  EXPECT_NEAR(*got.value, *v.expected, Vectors().tolerance * std::fabs(*v.expected));
}

INSTANTIATE_TEST_SUITE_P(SharedVectors, FormulaVectorTest, ::testing::ValuesIn(Vectors().vectors),
                         [](const ::testing::TestParamInfo<Vector>& info) {
                           return info.param.test_name;
                         });

TEST(EmarFormulaTest, PresetsInDesignOrderDefaultFirst) {
  EXPECT_THAT(EmarPresetNames(), ElementsAre("relative_gain", "worked_example",
                                             "benchmark_normalized", "retention_adjusted"));
  EXPECT_EQ(EmarPresetNames()[0], kDefaultEmarPreset);
  EXPECT_EQ(EmarPresetExpression("nope"), std::nullopt);
}

TEST(EmarFormulaTest, PresetNameAndExpression) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("  worked_example\n"));
  EXPECT_TRUE(f.is_preset());
  EXPECT_EQ(f.name(), "worked_example");
  EXPECT_EQ(f.expression(), "(T1 - T0) / abs(T0 - B1)");
}

TEST(EmarFormulaTest, ExpressionIsCustomAndTrimmed) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse(" (T1 - T0) / T0 "));
  EXPECT_FALSE(f.is_preset());
  EXPECT_EQ(f.name(), "custom");
  EXPECT_EQ(f.expression(), "(T1 - T0) / T0");
}

TEST(EmarFormulaTest, ArticleExampleOfTheDesignTable) {
  const EmarScores article{0.70, 0.85, 0.75, 0.75};
  const std::pair<const char*, double> rows[] = {{"relative_gain", 0.2143},
                                                 {"worked_example", 3.0},
                                                 {"benchmark_normalized", 0.2},
                                                 {"retention_adjusted", 0.2143}};
  for (const auto& [name, expected] : rows) {
    ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse(name));
    EmarValue v = f.Evaluate(article);
    ASSERT_TRUE(v.value.has_value()) << name;
    EXPECT_NEAR(*v.value, expected, 5e-5) << name;
  }
}

TEST(EmarFormulaTest, DivisionByZeroReasonNamesDivisorAndFormula) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("relative_gain"));
  EmarValue v = f.Evaluate({0.0, 0.4, 0.5, 0.5});
  EXPECT_FALSE(v.value.has_value());
  EXPECT_EQ(v.undefined_reason, "division by zero: divisor 'T0' = 0 in '(T1 - T0) / T0'");

  ASSERT_OK_AND_ASSIGN(EmarFormula w, EmarFormula::Parse("worked_example"));
  v = w.Evaluate({0.75, 0.9, 0.75, 0.75});
  EXPECT_EQ(v.undefined_reason,
            "division by zero: divisor 'abs(T0 - B1)' = 0 in '(T1 - T0) / abs(T0 - B1)'");
}

TEST(EmarFormulaTest, DivisorWithinEpsilonOfZeroIsUndefined) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("dT / (T0 - 0.5)"));
  EmarValue v = f.Evaluate({0.5 + 1e-13, 0.9, 0, 0});
  EXPECT_FALSE(v.value.has_value());
  EXPECT_THAT(v.undefined_reason, HasSubstr("divisor '(T0 - 0.5)'"));
  EXPECT_THAT(v.undefined_reason, HasSubstr("within 1e-12 of zero"));
  // Just outside the epsilon is defined.
  v = f.Evaluate({0.5 + 1e-9, 0.9, 0, 0});
  ASSERT_TRUE(v.value.has_value()) << v.undefined_reason;
  EXPECT_TRUE(std::isfinite(*v.value));
}

TEST(EmarFormulaTest, NegativeDivisorNearZeroIsUndefinedToo) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("1 / B0"));
  EXPECT_FALSE(f.Evaluate({0, 0, -5e-13, 0}).value.has_value());
  EXPECT_TRUE(f.Evaluate({0, 0, -2e-12, 0}).value.has_value());
}

TEST(EmarFormulaTest, OverflowIsUndefinedNeverInf) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("T1 * 1e308 * 10 + T0"));
  EmarValue v = f.Evaluate({0.5, 0.9, 0, 0});
  EXPECT_FALSE(v.value.has_value());
  EXPECT_EQ(v.undefined_reason,
            "non-finite value: 'T1 * 1e308 * 10' = inf in 'T1 * 1e308 * 10 + T0'");
}

TEST(EmarFormulaTest, NonFiniteScoreIsUndefined) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("benchmark_normalized"));
  EmarValue v = f.Evaluate({0.5, 0.6, std::nan(""), 0.5});
  EXPECT_FALSE(v.value.has_value());
  EXPECT_THAT(v.undefined_reason, HasSubstr("score 'B0' is not finite (nan)"));
  // A non-finite score the formula does not use does not matter.
  ASSERT_OK_AND_ASSIGN(EmarFormula g, EmarFormula::Parse("dT"));
  v = g.Evaluate({0.5, 0.75, std::nan(""), INFINITY});
  ASSERT_TRUE(v.value.has_value()) << v.undefined_reason;
  EXPECT_EQ(*v.value, 0.25);
}

TEST(EmarFormulaTest, DeltasAreCandidateMinusBase) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("dT * 10 + dB"));
  EmarValue v = f.Evaluate({0.5, 0.75, 0.5, 0.25});
  ASSERT_TRUE(v.value.has_value());
  EXPECT_DOUBLE_EQ(*v.value, 2.5 - 0.25);
}

TEST(EmarFormulaTest, ParseErrorsAreInvalidArgument) {
  EXPECT_THAT(
      EmarFormula::Parse("relative_gainz"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown name 'relative_gainz'")));
  EXPECT_THAT(EmarFormula::Parse("(T1 - "),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "bad formula '(T1 - ': expected an operand at column 7"));
  EXPECT_THAT(EmarFormula::Parse(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST(EmarFormulaTest, CopiesEvaluateIndependently) {
  ASSERT_OK_AND_ASSIGN(EmarFormula f, EmarFormula::Parse("max(dT, dB) / T0"));
  EmarFormula copy = f;
  f = *EmarFormula::Parse("relative_gain");
  EmarValue v = copy.Evaluate({0.5, 0.6, 0.5, 0.75});
  ASSERT_TRUE(v.value.has_value());
  EXPECT_DOUBLE_EQ(*v.value, 0.5);
}

}  // namespace
}  // namespace emar
