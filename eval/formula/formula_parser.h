// Compiles an EMAR expression (see emar_formula.h for the language) into a reverse-Polish
// program that FormulaProgram::Run evaluates with a fixed-size stack and no allocation.
//
//   absl::StatusOr<FormulaProgram> p = CompileFormula("(T1 - T0) / T0");
//   double vars[kFormulaVarCount] = {t0, t1, b0, b1, t1 - t0, b1 - b0};
//   FormulaFault fault;
//   double x;
//   if (p->Run(vars, &x, &fault)) use(x); else explain(p->source_text(fault.instr), fault);
//
// This is the implementation layer of EmarFormula; callers outside eval/formula should use
// EmarFormula. A FormulaProgram is immutable after compilation and safe to Run concurrently.
#ifndef EMAR_EVAL_FORMULA_FORMULA_PARSER_H_
#define EMAR_EVAL_FORMULA_FORMULA_PARSER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace emar {

// Variables, in the order of the `vars` array given to Run.
enum FormulaVar : uint8_t { kVarT0, kVarT1, kVarB0, kVarB1, kVarDT, kVarDB, kFormulaVarCount };
// "T0", "T1", "B0", "B1", "dT", "dB".
absl::string_view FormulaVarName(int var);

// A dataset's own score in a suite's formula: `T1[mmlu]` is {kVarT1, "mmlu"}. dT[x] and dB[x]
// are the dataset's deltas.
struct FormulaDatasetRef {
  FormulaVar var;
  std::string dataset;
};

// Why Run stopped. `instr` indexes the instruction whose result is undefined.
struct FormulaFault {
  enum Kind { kNone, kDivisionByZero, kNonFinite } kind = kNone;
  size_t instr = 0;
  double divisor = 0;  // kDivisionByZero: the offending divisor
  double result = 0;   // kNonFinite: the non-finite value produced
};

class FormulaProgram {
 public:
  enum class Op : uint8_t {
    kConst,
    kVar,
    kRef,  // a dataset's score: refs[ref] given to Run
    kAdd,
    kSub,
    kMul,
    kDiv,
    kNeg,
    kAbs,
    kMin,
    kMax
  };
  struct Instr {
    Op op;
    uint8_t var;       // kVar: a FormulaVar
    uint32_t text;     // index into spans_: the subexpression this instruction computes
    uint32_t divisor;  // kDiv: index into spans_ of the divisor's subexpression
    double constant;   // kConst
    uint32_t ref = 0;  // kRef: index into dataset_refs()
  };
  // Expressions needing a deeper evaluation stack are rejected by CompileFormula.
  static constexpr int kMaxStackDepth = 64;

  // Evaluates the program. Returns false and fills `fault` on a divisor within
  // `division_epsilon` of zero or a non-finite intermediate value; `vars` must be finite.
  // `refs` holds one value per dataset_refs() entry (may be null when there are none).
  bool Run(const double* vars, const double* refs, double division_epsilon, double* result,
           FormulaFault* fault) const;
  bool Run(const double* vars, double division_epsilon, double* result, FormulaFault* fault) const {
    return Run(vars, nullptr, division_epsilon, result, fault);
  }

  // Source text of subexpression `index` (an Instr's `text` or `divisor`): a view into the
  // program's one copy of the formula, so memory stays linear in the formula's length.
  absl::string_view text(uint32_t index) const {
    return absl::string_view(source_).substr(spans_[index].first, spans_[index].second);
  }
  const std::vector<Instr>& code() const { return code_; }
  // Bit i set when variable i (FormulaVar) appears; dT/dB also set their two scores' bits.
  uint32_t used_vars() const { return used_vars_; }
  // The distinct dataset scores the formula names, in order of first appearance.
  const std::vector<FormulaDatasetRef>& dataset_refs() const { return refs_; }

 private:
  friend class FormulaCompiler;
  std::vector<Instr> code_;
  std::string source_;
  std::vector<std::pair<uint32_t, uint32_t>> spans_;  // (offset, length) into source_
  uint32_t used_vars_ = 0;
  std::vector<FormulaDatasetRef> refs_;
};

// The longest formula CompileFormula accepts, in bytes.
inline constexpr size_t kMaxFormulaLength = 4096;

// Parses `text` (an expression, not a preset name). Errors are INVALID_ARGUMENT:
//   bad formula '<text>': <what went wrong> at column <1-based column in text>
// where a formula longer than 80 characters is shown as an excerpt around the column.
absl::StatusOr<FormulaProgram> CompileFormula(absl::string_view text);

}  // namespace emar

#endif  // EMAR_EVAL_FORMULA_FORMULA_PARSER_H_
