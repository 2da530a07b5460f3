#include "eval/formula/emar_formula.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace emar {
namespace {

struct Preset {
  const char* name;
  const char* expression;
};

// docs/formulas.md. The first is the default (kDefaultEmarPreset).
constexpr Preset kPresets[] = {
    {"relative_gain", "(T1 - T0) / T0"},
    {"worked_example", "(T1 - T0) / abs(T0 - B1)"},
    {"benchmark_normalized", "(T1 - T0) / B0"},
    {"retention_adjusted", "((T1 - T0) + min(0, B1 - B0)) / T0"},
};

// Shortest text that reads back as `x` ("0", "0.75", "1e-13", "inf").
std::string FormatNumber(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), x);
  return std::string(buf, end);
}

}  // namespace

std::vector<std::string> EmarPresetNames() {
  std::vector<std::string> names;
  for (const Preset& p : kPresets) names.emplace_back(p.name);
  return names;
}

std::optional<std::string> EmarPresetExpression(absl::string_view name) {
  for (const Preset& p : kPresets) {
    if (name == p.name) return std::string(p.expression);
  }
  return std::nullopt;
}

absl::StatusOr<EmarFormula> EmarFormula::Parse(absl::string_view preset_or_expression) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(preset_or_expression);
  EmarFormula f;
  if (std::optional<std::string> expansion = EmarPresetExpression(trimmed)) {
    f.name_ = std::string(trimmed);
    f.expression_ = *std::move(expansion);
    f.is_preset_ = true;
    ASSIGN_OR_RETURN(f.program_, CompileFormula(f.expression_));
    return f;
  }
  // Columns in errors refer to the text exactly as the user wrote it, so compile that.
  ASSIGN_OR_RETURN(f.program_, CompileFormula(preset_or_expression));
  f.name_ = "custom";
  f.expression_ = std::string(trimmed);
  return f;
}

EmarValue EmarFormula::Evaluate(const EmarScores& s, absl::Span<const double> refs) const {
  const double vars[kFormulaVarCount] = {s.t0, s.t1, s.b0, s.b1, s.t1 - s.t0, s.b1 - s.b0};
  for (int v = kVarT0; v <= kVarB1; ++v) {
    if ((program_.used_vars() >> v & 1) && !std::isfinite(vars[v])) {
      return {std::nullopt, absl::StrCat("score '", FormulaVarName(v), "' is not finite (",
                                         FormatNumber(vars[v]), ") in '", expression_, "'")};
    }
  }
  const std::vector<FormulaDatasetRef>& names = program_.dataset_refs();
  if (refs.size() != names.size()) {
    return {std::nullopt,
            absl::StrCat("'", expression_, "' names ", names.size(), " dataset scores (",
                         names.empty() ? "" : FormulaVarName(names[0].var),
                         names.empty() ? "" : absl::StrCat("[", names[0].dataset, "]"),
                         names.empty() ? "" : ", ...", ") but ", refs.size(), " were given")};
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (!std::isfinite(refs[i])) {
      return {std::nullopt, absl::StrCat("score '", FormulaVarName(names[i].var), "[",
                                         names[i].dataset, "]' is not finite (",
                                         FormatNumber(refs[i]), ") in '", expression_, "'")};
    }
  }
  double result;
  FormulaFault fault;
  if (program_.Run(vars, refs.data(), kEmarDivisionEpsilon, &result, &fault)) {
    return {result, ""};
  }

  const FormulaProgram::Instr& in = program_.code()[fault.instr];
  if (fault.kind == FormulaFault::kDivisionByZero) {
    const std::string divisor = FormatNumber(fault.divisor);
    std::string why = fault.divisor == 0
                          ? absl::StrCat("division by zero: divisor '", program_.text(in.divisor),
                                         "' = ", divisor)
                          : absl::StrCat("division by nearly zero: divisor '",
                                         program_.text(in.divisor), "' = ", divisor, " is within ",
                                         FormatNumber(kEmarDivisionEpsilon), " of zero");
    return {std::nullopt, absl::StrCat(why, " in '", expression_, "'")};
  }
  return {std::nullopt, absl::StrCat("non-finite value: '", program_.text(in.text), "' = ",
                                     FormatNumber(fault.result), " in '", expression_, "'")};
}

}  // namespace emar
