#include "eval/formula/formula_parser.h"

#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace emar {
namespace {

constexpr absl::string_view kVarNames[kFormulaVarCount] = {"T0", "T1", "B0", "B1", "dT", "dB"};
constexpr char kAllowedNames[] =
    "allowed names: T0, T1, B0, B1, dT, dB, a dataset's own scores as T1[name] and the functions "
    "abs(x), min(x, y), max(x, y)";
// Bounds the parser's recursion so a hostile formula cannot overflow the call stack.
constexpr int kMaxNesting = 100;

enum class Tok {
  kNumber,
  kName,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kLParen,
  kRParen,
  kComma,
  kLBracket,
  kEnd
};

struct Token {
  Tok kind;
  size_t pos;  // 0-based offset in the formula text
  absl::string_view text;
};

bool IsNameStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

// The formula as error messages show it: whole when short, else ~70 characters around `pos`.
std::string Excerpt(absl::string_view text, size_t pos) {
  constexpr size_t kShow = 80, kHalf = 35;
  if (text.size() <= kShow) return std::string(text);
  const size_t begin = pos > kHalf ? pos - kHalf : 0;
  const size_t end = std::min(text.size(), begin + 2 * kHalf);
  return absl::StrCat(begin > 0 ? "..." : "", text.substr(begin, end - begin),
                      end < text.size() ? "..." : "");
}

// A source span [begin, end) of a parsed subexpression.
struct Span {
  size_t begin;
  size_t end;
};

}  // namespace

// Recursive-descent parser that emits reverse-Polish code while it parses:
//   expr  := term (('+' | '-') term)*
//   term  := unary (('*' | '/') unary)*
//   unary := ('-' | '+') unary | primary
//   primary := number | variable | function '(' expr (',' expr)* ')' | '(' expr ')'
class FormulaCompiler {
 public:
  explicit FormulaCompiler(absl::string_view text) : text_(text) {}

  absl::StatusOr<FormulaProgram> Compile() {
    if (absl::StripAsciiWhitespace(text_).empty()) return Error("the formula is empty", 0);
    RETURN_IF_ERROR(Advance());
    Span span;
    RETURN_IF_ERROR(ParseExpr(&span));
    if (tok_.kind != Tok::kEnd) {
      return Error(absl::StrCat("unexpected '", tok_.text, "' after a complete expression"),
                   tok_.pos);
    }
    program_.source_ = std::string(text_);
    return std::move(program_);
  }

 private:
  using Op = FormulaProgram::Op;

  // "bad formula '<text>': <what> at column <pos + 1>", then ", found '<x>'" when `found` is a
  // token other than the end of the formula (a column past the text already says "the end").
  absl::Status Error(absl::string_view what, size_t pos, const Token* found = nullptr) const {
    std::string message =
        absl::StrCat("bad formula '", Excerpt(text_, pos), "': ", what, " at column ", pos + 1);
    if (found != nullptr && found->kind != Tok::kEnd) {
      absl::StrAppend(&message, ", found '", found->text, "'");
    }
    return absl::InvalidArgumentError(message);
  }

  // Reads the next token into tok_.
  absl::Status Advance() {
    while (pos_ < text_.size() && absl::ascii_isspace(text_[pos_])) ++pos_;
    const size_t start = pos_;
    if (pos_ >= text_.size()) {
      tok_ = {Tok::kEnd, start, "end of formula"};
      return absl::OkStatus();
    }
    const char c = text_[pos_];
    if (absl::ascii_isdigit(c) || c == '.') {
      while (pos_ < text_.size() && (absl::ascii_isdigit(text_[pos_]) || text_[pos_] == '.')) {
        ++pos_;
      }
      if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
        ++pos_;
        if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
        while (pos_ < text_.size() && absl::ascii_isdigit(text_[pos_])) ++pos_;
      }
      tok_ = {Tok::kNumber, start, text_.substr(start, pos_ - start)};
      return absl::OkStatus();
    }
    if (IsNameStart(c)) {
      while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
      tok_ = {Tok::kName, start, text_.substr(start, pos_ - start)};
      return absl::OkStatus();
    }
    Tok kind;
    switch (c) {
      case '+':
        kind = Tok::kPlus;
        break;
      case '-':
        kind = Tok::kMinus;
        break;
      case '*':
        kind = Tok::kStar;
        break;
      case '/':
        kind = Tok::kSlash;
        break;
      case '(':
        kind = Tok::kLParen;
        break;
      case ')':
        kind = Tok::kRParen;
        break;
      case ',':
        kind = Tok::kComma;
        break;
      case '[':
        kind = Tok::kLBracket;
        break;
      default:
        return Error(absl::StrCat("unexpected character '", text_.substr(start, 1), "'"), start);
    }
    ++pos_;
    tok_ = {kind, start, text_.substr(start, 1)};
    return absl::OkStatus();
  }

  uint32_t AddText(Span span) {
    program_.spans_.emplace_back(static_cast<uint32_t>(span.begin),
                                 static_cast<uint32_t>(span.end - span.begin));
    return static_cast<uint32_t>(program_.spans_.size() - 1);
  }

  // Appends one instruction, tracking the evaluation stack depth it needs.
  absl::Status Emit(FormulaProgram::Instr instr, int stack_effect, size_t pos) {
    if (program_.code_.size() >= 60000) return Error("the formula is too long", pos);
    depth_ += stack_effect;
    if (depth_ > FormulaProgram::kMaxStackDepth) {
      return Error("the formula needs too deep an evaluation stack", pos);
    }
    program_.code_.push_back(instr);
    return absl::OkStatus();
  }

  absl::Status EmitBinary(Op op, Span whole, Span rhs, size_t pos) {
    FormulaProgram::Instr instr{op, 0, AddText(whole), 0, 0};
    if (op == Op::kDiv) instr.divisor = AddText(rhs);
    return Emit(instr, -1, pos);
  }

  absl::Status ParseExpr(Span* span) {
    if (++nesting_ > kMaxNesting) return Error("the formula is nested too deeply", tok_.pos);
    RETURN_IF_ERROR(ParseTerm(span));
    while (tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus) {
      const Op op = tok_.kind == Tok::kPlus ? Op::kAdd : Op::kSub;
      const size_t op_pos = tok_.pos;
      RETURN_IF_ERROR(Advance());
      Span rhs;
      RETURN_IF_ERROR(ParseTerm(&rhs));
      span->end = rhs.end;
      RETURN_IF_ERROR(EmitBinary(op, *span, rhs, op_pos));
    }
    --nesting_;
    return absl::OkStatus();
  }

  absl::Status ParseTerm(Span* span) {
    RETURN_IF_ERROR(ParseUnary(span));
    while (tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash) {
      const Op op = tok_.kind == Tok::kStar ? Op::kMul : Op::kDiv;
      const size_t op_pos = tok_.pos;
      RETURN_IF_ERROR(Advance());
      Span rhs;
      RETURN_IF_ERROR(ParseUnary(&rhs));
      span->end = rhs.end;
      RETURN_IF_ERROR(EmitBinary(op, *span, rhs, op_pos));
    }
    return absl::OkStatus();
  }

  absl::Status ParseUnary(Span* span) {
    if (tok_.kind != Tok::kMinus && tok_.kind != Tok::kPlus) return ParsePrimary(span);
    if (++nesting_ > kMaxNesting) return Error("the formula is nested too deeply", tok_.pos);
    const bool negate = tok_.kind == Tok::kMinus;
    const size_t begin = tok_.pos;
    RETURN_IF_ERROR(Advance());
    RETURN_IF_ERROR(ParseUnary(span));
    span->begin = begin;
    if (negate) RETURN_IF_ERROR(Emit({Op::kNeg, 0, AddText(*span), 0, 0}, 0, begin));
    --nesting_;
    return absl::OkStatus();
  }

  absl::Status ParsePrimary(Span* span) {
    const Token t = tok_;
    span->begin = t.pos;
    switch (t.kind) {
      case Tok::kNumber: {
        double v;
        if (!absl::SimpleAtod(t.text, &v) || !std::isfinite(v)) {
          return Error(absl::StrCat("bad number '", t.text, "'"), t.pos);
        }
        RETURN_IF_ERROR(Advance());
        span->end = t.pos + t.text.size();
        return Emit({Op::kConst, 0, AddText(*span), 0, v}, +1, t.pos);
      }
      case Tok::kLParen: {
        RETURN_IF_ERROR(Advance());
        Span inner;
        RETURN_IF_ERROR(ParseExpr(&inner));
        if (tok_.kind != Tok::kRParen) {
          return Error(absl::StrCat("expected ')' to close the '(' of column ", t.pos + 1),
                       tok_.pos, &tok_);
        }
        span->end = tok_.pos + 1;
        // The parenthesised expression's last instruction now stands for the whole span, so
        // a reason about it quotes the parentheses the user wrote.
        program_.code_.back().text = AddText(*span);
        return Advance();
      }
      case Tok::kName:
        return ParseName(span);
      default:
        return Error("expected an operand", t.pos, &t);
    }
  }

  // `T1[dataset name]`: the name is the text up to ']' with surrounding spaces removed, so
  // dataset names with '-' or '.' need no quoting; it may not contain ']' or '['.
  absl::Status ParseDatasetRef(const Token& var_token, FormulaVar var, Span* span) {
    const size_t open = tok_.pos;
    const size_t close = text_.find(']', open + 1);
    if (close == absl::string_view::npos) {
      return Error(absl::StrCat("expected ']' to close the '[' of column ", open + 1),
                   text_.size());
    }
    const absl::string_view name =
        absl::StripAsciiWhitespace(text_.substr(open + 1, close - open - 1));
    if (name.empty() || name.find('[') != absl::string_view::npos) {
      return Error(absl::StrCat("expected a dataset name in '", var_token.text, "[...]'"),
                   open + 1);
    }
    uint32_t ref = 0;
    while (ref < program_.refs_.size() &&
           !(program_.refs_[ref].var == var && program_.refs_[ref].dataset == name)) {
      ++ref;
    }
    if (ref == program_.refs_.size()) program_.refs_.push_back({var, std::string(name)});
    pos_ = close + 1;
    RETURN_IF_ERROR(Advance());
    if (tok_.kind == Tok::kLParen) {
      return Error(absl::StrCat("'", var_token.text, "[...]' is a score, not a function"),
                   tok_.pos);
    }
    span->end = close + 1;
    FormulaProgram::Instr instr{Op::kRef, static_cast<uint8_t>(var), AddText(*span), 0, 0};
    instr.ref = ref;
    return Emit(instr, +1, var_token.pos);
  }

  absl::Status ParseName(Span* span) {
    const Token t = tok_;
    RETURN_IF_ERROR(Advance());
    for (int v = 0; v < kFormulaVarCount; ++v) {
      if (t.text != kVarNames[v]) continue;
      if (tok_.kind == Tok::kLBracket) return ParseDatasetRef(t, static_cast<FormulaVar>(v), span);
      if (tok_.kind == Tok::kLParen) {
        return Error(absl::StrCat("'", t.text, "' is a score, not a function"), tok_.pos);
      }
      span->end = t.pos + t.text.size();
      program_.used_vars_ |= 1u << v;
      if (v == kVarDT) program_.used_vars_ |= (1u << kVarT0) | (1u << kVarT1);
      if (v == kVarDB) program_.used_vars_ |= (1u << kVarB0) | (1u << kVarB1);
      return Emit({Op::kVar, static_cast<uint8_t>(v), AddText(*span), 0, 0}, +1, t.pos);
    }
    Op op;
    int arity;
    if (t.text == "abs") {
      op = Op::kAbs, arity = 1;
    } else if (t.text == "min") {
      op = Op::kMin, arity = 2;
    } else if (t.text == "max") {
      op = Op::kMax, arity = 2;
    } else {
      return Error(absl::StrCat("unknown name '", t.text, "' (", kAllowedNames, ")"), t.pos);
    }
    if (tok_.kind != Tok::kLParen) {
      return Error(absl::StrCat("expected '(' after the function '", t.text, "'"), tok_.pos, &tok_);
    }
    RETURN_IF_ERROR(Advance());
    int args = 0;
    if (tok_.kind != Tok::kRParen) {
      while (true) {
        Span arg;
        RETURN_IF_ERROR(ParseExpr(&arg));
        ++args;
        if (tok_.kind != Tok::kComma) break;
        RETURN_IF_ERROR(Advance());
      }
    }
    if (tok_.kind != Tok::kRParen) {
      return Error(absl::StrCat("expected ',' or ')' in the arguments of '", t.text, "'"), tok_.pos,
                   &tok_);
    }
    if (args != arity) {
      return Error(absl::StrCat("'", t.text, "' takes ", arity,
                                arity == 1 ? " argument" : " arguments", ", got ", args),
                   t.pos);
    }
    span->end = tok_.pos + 1;
    RETURN_IF_ERROR(Emit({op, 0, AddText(*span), 0, 0}, 1 - arity, t.pos));
    return Advance();
  }

  absl::string_view text_;
  size_t pos_ = 0;
  Token tok_{Tok::kEnd, 0, ""};
  int depth_ = 0;
  int nesting_ = 0;
  FormulaProgram program_;
};

absl::string_view FormulaVarName(int var) { return kVarNames[var]; }

bool FormulaProgram::Run(const double* vars, const double* refs, double division_epsilon,
                         double* result, FormulaFault* fault) const {
  double stack[kMaxStackDepth];
  int top = 0;  // number of values on the stack
  for (size_t i = 0; i < code_.size(); ++i) {
    const Instr& in = code_[i];
    double x = 0;
    switch (in.op) {
      case Op::kConst:
        stack[top++] = in.constant;
        continue;
      case Op::kVar:
        // dT and dB are differences of finite scores and can still overflow (1e308 - -1e308).
        if (!std::isfinite(vars[in.var])) {
          *fault = {FormulaFault::kNonFinite, i, 0, vars[in.var]};
          return false;
        }
        stack[top++] = vars[in.var];
        continue;
      case Op::kRef:
        if (refs == nullptr || !std::isfinite(refs[in.ref])) {
          *fault = {FormulaFault::kNonFinite, i, 0, refs == nullptr ? NAN : refs[in.ref]};
          return false;
        }
        stack[top++] = refs[in.ref];
        continue;
      case Op::kNeg:
        stack[top - 1] = -stack[top - 1];
        continue;
      case Op::kAbs:
        stack[top - 1] = std::fabs(stack[top - 1]);
        continue;
      case Op::kAdd:
        x = stack[top - 2] + stack[top - 1];
        break;
      case Op::kSub:
        x = stack[top - 2] - stack[top - 1];
        break;
      case Op::kMul:
        x = stack[top - 2] * stack[top - 1];
        break;
      case Op::kMin:
        x = std::min(stack[top - 2], stack[top - 1]);
        break;
      case Op::kMax:
        x = std::max(stack[top - 2], stack[top - 1]);
        break;
      case Op::kDiv:
        if (std::fabs(stack[top - 1]) <= division_epsilon) {
          *fault = {FormulaFault::kDivisionByZero, i, stack[top - 1], 0};
          return false;
        }
        x = stack[top - 2] / stack[top - 1];
        break;
    }
    if (!std::isfinite(x)) {
      *fault = {FormulaFault::kNonFinite, i, 0, x};
      return false;
    }
    stack[top - 2] = x;
    --top;
  }
  *result = stack[0];
  return true;
}

absl::StatusOr<FormulaProgram> CompileFormula(absl::string_view text) {
  if (text.size() > kMaxFormulaLength) {
    return absl::InvalidArgumentError(absl::StrCat("bad formula '", Excerpt(text, 0),
                                                   "': ", text.size(), " characters, limit ",
                                                   kMaxFormulaLength));
  }
  return FormulaCompiler(text).Compile();
}

}  // namespace emar
