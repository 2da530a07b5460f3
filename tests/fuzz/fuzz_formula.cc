// Fuzzes the EMAR formula language (eval/formula): EmarFormula::Parse on arbitrary text, then
// Evaluate on score sets that reach the undefined cases (zero divisors, huge magnitudes).
// Properties checked beyond "no crash": a parse error is INVALID_ARGUMENT quoting the formula;
// a parsed formula's expression() parses again; Evaluate sets exactly one of a finite value and
// a non-empty reason.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "eval/formula/emar_formula.h"
#include "tests/fuzz/fuzz_check.h"

namespace emar {
namespace {

constexpr EmarScores kScoreSets[] = {
    {0.70, 0.85, 0.75, 0.75},        // the article's example
    {0.0, 0.0, 0.0, 0.0},            // every divisor zero
    {1.0, 1.0, 1e-13, 1e-13},        // divisors inside kEmarDivisionEpsilon
    {1e300, -1e300, 1e300, 1e-300},  // products and quotients overflow to inf
    {1e308, -1e308, -1e308, 1e308},  // finite scores whose differences dT, dB overflow
    {0.5, 0.25, 1.0, 0.0},
};

void CheckValue(const EmarFormula& f, const EmarScores& s) {
  const EmarValue v = f.Evaluate(s);
  FUZZ_CHECK(v.value.has_value() != !v.undefined_reason.empty())
      << "'" << f.expression() << "': value and reason both set or both empty";
  if (v.value) {
    FUZZ_CHECK(std::isfinite(*v.value)) << "'" << f.expression() << "' gave " << *v.value;
  }
}

}  // namespace
}  // namespace emar

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using emar::EmarFormula;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<EmarFormula> f = EmarFormula::Parse(text);
  if (!f.ok()) {
    FUZZ_CHECK(f.status().code() == absl::StatusCode::kInvalidArgument) << f.status();
    FUZZ_CHECK(absl::StartsWith(f.status().message(), "bad formula '")) << f.status();
    return 0;
  }
  FUZZ_CHECK(!f->expression().empty()) << "parsed '" << text << "' has an empty expression";
  const absl::StatusOr<EmarFormula> again = EmarFormula::Parse(f->expression());
  FUZZ_CHECK(again.ok()) << "expression '" << f->expression()
                         << "' does not parse again: " << again.status();
  for (const emar::EmarScores& s : emar::kScoreSets) emar::CheckValue(*f, s);
  return 0;
}
