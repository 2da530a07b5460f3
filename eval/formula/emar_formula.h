// The EMAR formula: a named preset or a small arithmetic expression over the four scores of one
// metric (docs/formulas.md), parsed once and evaluated many times (once per bootstrap
// resample).
//
//   absl::StatusOr<EmarFormula> f = EmarFormula::Parse("relative_gain");       // a preset
//   absl::StatusOr<EmarFormula> g = EmarFormula::Parse("dT / max(B0, 0.5)");   // an expression
//   EmarValue v = f->Evaluate({/*t0=*/0.70, /*t1=*/0.85, /*b0=*/0.75, /*b1=*/0.75});
//   if (v.value) Print(*v.value); else Print(v.undefined_reason);
//
// The expression language: the variables T0 T1 B0 B1 dT (= T1 - T0) dB (= B1 - B0), decimal
// numbers (0.5, 2, 1e-3), binary + - * /, unary minus and plus, parentheses, and the functions
// abs(x), min(x, y), max(x, y). Usual precedence: * and / bind tighter than + and -, all four are
// left-associative, and unary minus binds tighter than any binary operator. Names are
// case-sensitive.
//
// Suites: T0 T1 B0 B1 dT dB are the aggregates (each side's weighted mean of its datasets'
// primary scores), and a dataset's own primary scores are the same names followed by the
// dataset's name in brackets: `T1[support-tickets]`, `B0[gsm8k]`, `dB[mmlu]`. The name is the
// text between the brackets, spaces around it removed. Which names exist is the job's business
// (the planner checks them); EmarFormula only lists them (dataset_refs) and takes their values.
//
// Undefined results: a division whose divisor is within kEmarDivisionEpsilon of zero, any
// non-finite intermediate or final value, or a non-finite input score. Evaluate never returns
// inf or NaN; it returns a reason naming the cause and the place instead.
//
// Thread safety: an EmarFormula is immutable after Parse; Evaluate is const and may be called
// from many threads at once. Copies are independent.
#ifndef EMAR_EVAL_FORMULA_EMAR_FORMULA_H_
#define EMAR_EVAL_FORMULA_EMAR_FORMULA_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "eval/formula/formula_parser.h"

namespace emar {

// A divisor whose absolute value is at most this makes the result undefined.
inline constexpr double kEmarDivisionEpsilon = 1e-12;
// The preset used when a job names no formula.
inline constexpr char kDefaultEmarPreset[] = "relative_gain";

// The four scores of one metric: base (0) and candidate (1) on the target (T) and benchmark (B)
// datasets, as fractions (accuracy 0.85, not 85).
struct EmarScores {
  double t0 = 0;
  double t1 = 0;
  double b0 = 0;
  double b1 = 0;
};

// Exactly one of `value` (finite) and `undefined_reason` (non-empty) is set.
struct EmarValue {
  std::optional<double> value;
  std::string undefined_reason;
};

class EmarFormula {
 public:
  // A preset name (see EmarPresetNames()) or an expression. Surrounding whitespace is ignored.
  // Errors are INVALID_ARGUMENT naming the formula text and the 1-based column, e.g.
  //   bad formula '(T1 - ': expected an operand at column 7
  static absl::StatusOr<EmarFormula> Parse(absl::string_view preset_or_expression);

  // The preset name, or "custom" for an expression.
  const std::string& name() const { return name_; }
  // The expression text: the preset's expansion, or the expression as given (trimmed).
  const std::string& expression() const { return expression_; }
  bool is_preset() const { return is_preset_; }

  // Evaluates the formula on one set of scores; `refs` holds the value of each dataset_refs()
  // entry (dT[x] and dB[x] as differences). Does not allocate unless the result is undefined
  // (building the reason allocates).
  EmarValue Evaluate(const EmarScores& s, absl::Span<const double> refs = {}) const;

  // The dataset scores the formula names (`T1[mmlu]`), distinct, in order of first appearance.
  const std::vector<FormulaDatasetRef>& dataset_refs() const { return program_.dataset_refs(); }

 private:
  EmarFormula() = default;

  std::string name_;
  std::string expression_;
  bool is_preset_ = false;
  FormulaProgram program_;
};

// The preset names, in the order of docs/formulas.md's preset table (the default first).
std::vector<std::string> EmarPresetNames();
// The expansion of a preset, or nullopt when `name` is not one.
std::optional<std::string> EmarPresetExpression(absl::string_view name);

}  // namespace emar

#endif  // EMAR_EVAL_FORMULA_EMAR_FORMULA_H_
