#include "eval/input/json_field_extractor.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "eval/input/jsonl_line_cursor.h"

namespace emar {
namespace {

namespace od = simdjson::ondemand;
using Node = JsonFieldExtractor::Node;

constexpr int kMaxNodes = 64;  // the "seen" mask is a uint64_t

absl::string_view TypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "unknown";
}

absl::Status FieldError(const Node& node, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("field '", node.path, "': ", what));
}

bool IsJsonInteger(absl::string_view raw) {
  if (absl::ConsumePrefix(&raw, "-") && raw.empty()) return false;
  if (raw.empty()) return false;
  for (char c : raw) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

// True when `raw` has the syntax of a JSON number (RFC 8259): -?int frac? exp?, no '+' or
// leading zeros, whatever its magnitude.
bool IsJsonNumberSyntax(absl::string_view raw) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < raw.size() && absl::ascii_isdigit(raw[i])) ++i;
    return i - start;
  };
  if (i < raw.size() && raw[i] == '-') ++i;
  const size_t int_start = i;
  const size_t int_digits = digits();
  if (int_digits == 0 || (int_digits > 1 && raw[int_start] == '0')) return false;
  if (i < raw.size() && raw[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < raw.size() && (raw[i] == 'e' || raw[i] == 'E')) {
    ++i;
    if (i < raw.size() && (raw[i] == '+' || raw[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == raw.size();
}

// Explains a line simdjson found unbalanced (INCOMPLETE_ARRAY_OR_OBJECT, which it reports at
// column 1 whatever the cause): the line ends inside an object or array, or one JSON value is
// complete and something follows it (a NUL byte, a second value, a stray bracket). OK when the
// line is neither (simdjson's own message stands).
absl::Status DiagnoseUnbalanced(absl::string_view line) {
  size_t i = 0;
  while (i < line.size() && IsJsonWhitespace(line[i])) ++i;
  if (i == line.size() || (line[i] != '{' && line[i] != '[')) return absl::OkStatus();
  std::string open;  // the brackets not yet closed
  bool in_string = false;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      open.push_back(c);
    } else if (c == '}' || c == ']') {
      if (open.back() != (c == '}' ? '{' : '[')) return absl::OkStatus();  // mismatched
      open.pop_back();
      if (open.empty()) break;
    }
  }
  if (!open.empty() || in_string) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON at column ", line.size() + 1, ": the line ends inside ",
                     in_string ? "a string"
                               : (open.back() == '{' ? "an object (a '}' is missing)"
                                                     : "an array (a ']' is missing)")));
  }
  ++i;
  while (i < line.size() && IsJsonWhitespace(line[i])) ++i;
  if (i == line.size()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("malformed JSON at column ", i + 1, ": ",
                                                 line[i] == '\0' ? "a NUL byte" : "content",
                                                 " after the JSON object"));
}

// The value's JSON text as written (a number's digits), without trailing whitespace.
absl::string_view RawToken(od::value& value) {
  const std::string_view raw = value.raw_json_token();
  return absl::StripTrailingAsciiWhitespace(absl::string_view(raw.data(), raw.size()));
}

// The key of `field` read in place when it has no escape sequence (nearly always), saving
// simdjson's copy into its string buffer; a null view when it has one, for unescaped_key().
// Stage 1 has validated the string, so its closing quote exists (within the padded input).
std::string_view RawKeyWithoutEscapes(od::field& field) {
  const char* const begin = field.key().raw();
  const char* p = begin;
  while (*p != '"' && *p != '\\') ++p;
  if (*p != '"') return std::string_view();
  return std::string_view(begin, static_cast<size_t>(p - begin));
}

// Per-line state of one Extract call.
class LineWalk {
 public:
  LineWalk(const char* base, size_t size, std::string* id, Prediction* prediction,
           Reference* reference)
      : base_(base), size_(size), id_(id), prediction_(prediction), reference_(reference) {}

  // A simdjson error as our message; `doc` gives the column when simdjson knows it.
  absl::Status JsonError(simdjson::error_code e) {
    if (e == simdjson::UTF8_ERROR) return absl::InvalidArgumentError("invalid UTF-8");
    if (e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
      RETURN_IF_ERROR(DiagnoseUnbalanced(absl::string_view(base_, size_)));
    }
    std::string where;
    if (doc_ != nullptr) {
      const char* at = nullptr;
      if (!doc_->current_location().get(at) && at >= base_ && at <= base_ + size_) {
        where = absl::StrCat(" at column ", at - base_ + 1);
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("malformed JSON", where, ": ", simdjson::error_message(e)));
  }

  absl::Status Run(od::parser& parser, simdjson::padded_string_view json, const Node& root) {
    od::document doc;
    if (auto e = parser.iterate(json).get(doc)) return JsonError(e);
    doc_ = &doc;
    od::json_type type;
    if (auto e = doc.type().get(type)) return JsonError(e);
    if (type != od::json_type::object) {
      // simdjson types a value by its first byte: make sure "nonsense" is not called null.
      simdjson::error_code e = simdjson::SUCCESS;
      if (type == od::json_type::null) {
        bool is_null = false;
        e = doc.is_null().get(is_null);
        if (!e && !is_null) e = simdjson::N_ATOM_ERROR;
      } else if (type == od::json_type::boolean) {
        e = doc.get_bool().error();
      } else if (type == od::json_type::number) {
        e = doc.get_number().error();
      } else if (type == od::json_type::string) {
        e = doc.get_string().error();
      }
      if (e) return JsonError(e);
      return absl::InvalidArgumentError(
          absl::StrCat("expected a JSON object, got ", TypeName(type)));
    }
    od::object object;
    if (auto e = doc.get_object().get(object)) return JsonError(e);
    RETURN_IF_ERROR(WalkObject(object, root));
    const char* rest = nullptr;
    if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
      return absl::InvalidArgumentError(rest ? absl::StrCat("malformed JSON at column ",
                                                            rest - base_ + 1,
                                                            ": content after the JSON object")
                                             : "malformed JSON: content after the JSON object");
    }
    return absl::OkStatus();
  }

  bool Seen(uint8_t bit) const { return seen_ >> bit & 1; }
  bool Seen(const Node& node) const { return Seen(node.bit); }
  size_t num_references() const { return num_references_; }

 private:
  absl::Status MarkSeen(const Node& node) {
    if (Seen(node)) return FieldError(node, "appears twice in the line");
    seen_ |= uint64_t{1} << node.bit;
    return absl::OkStatus();
  }

  absl::Status WalkObject(od::object& object, const Node& node) {
    for (auto field_result : object) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return JsonError(e);
      std::string_view key = RawKeyWithoutEscapes(field);
      if (key.data() == nullptr) {
        if (auto e = field.unescaped_key().get(key)) return JsonError(e);
      }
      for (const Node& child : node.children) {
        if (child.key.size() != key.size() || child.key != key) continue;
        RETURN_IF_ERROR(MarkSeen(child));
        RETURN_IF_ERROR(Visit(field.value(), child));
        break;
      }
    }
    return absl::OkStatus();
  }

  absl::Status WalkArray(od::array& array, const Node& node) {
    uint32_t index = 0;
    for (auto element_result : array) {
      od::value element;
      if (auto e = std::move(element_result).get(element)) return JsonError(e);
      for (const Node& child : node.children) {
        if (!child.is_index || child.index != index) continue;
        RETURN_IF_ERROR(MarkSeen(child));
        RETURN_IF_ERROR(Visit(element, child));
        break;
      }
      ++index;
    }
    return absl::OkStatus();
  }

  absl::Status Visit(od::value& value, const Node& node) {
    switch (node.slot) {
      case JsonFieldExtractor::kId:
        return ReadId(value, node);
      case JsonFieldExtractor::kPrediction:
        return ReadLabel(value, node, &prediction_->text, "");
      case JsonFieldExtractor::kReference:
      case JsonFieldExtractor::kReferenceList:
        return ReadReferences(value, node);
      case JsonFieldExtractor::kLogprobs:
        return ReadLogprobs(value, node);
      case JsonFieldExtractor::kNoSlot:
        break;
    }
    od::json_type type;
    if (auto e = value.type().get(type)) return JsonError(e);
    if (type == od::json_type::object) {
      od::object object;
      if (auto e = value.get_object().get(object)) return JsonError(e);
      return WalkObject(object, node);
    }
    if (type == od::json_type::array) {
      od::array array;
      if (auto e = value.get_array().get(array)) return JsonError(e);
      return WalkArray(array, node);
    }
    return FieldError(
        node, absl::StrCat("expected an object or array to look into, got ", TypeName(type)));
  }

  absl::Status ReadId(od::value& value, const Node& node) {
    od::json_type type;
    if (auto e = value.type().get(type)) return JsonError(e);
    if (type == od::json_type::string) {
      std::string_view s;
      if (auto e = value.get_string().get(s)) return JsonError(e);
      id_->assign(s.data(), s.size());
      return absl::OkStatus();
    }
    if (type == od::json_type::number) {
      od::number_type nt;
      if (!value.get_number_type().get(nt)) {
        char buf[24];
        char* end = buf;
        if (nt == od::number_type::signed_integer) {
          int64_t v;
          if (auto e = value.get_int64().get(v)) return JsonError(e);
          end = std::to_chars(buf, buf + sizeof(buf), v).ptr;
        } else if (nt == od::number_type::unsigned_integer) {
          uint64_t v;
          if (auto e = value.get_uint64().get(v)) return JsonError(e);
          end = std::to_chars(buf, buf + sizeof(buf), v).ptr;
        }
        if (end != buf) {
          id_->assign(buf, end);
          return absl::OkStatus();
        }
      }
      return FieldError(node,
                        absl::StrCat("expected a string or integer, got number ", RawToken(value)));
    }
    return FieldError(node, absl::StrCat("expected a string or integer, got ", TypeName(type)));
  }

  // A string, number or boolean as canonical text. `element` names the list element, if any.
  absl::Status ReadLabel(od::value& value, const Node& node, std::string* out,
                         absl::string_view element) {
    od::json_type type;
    if (auto e = value.type().get(type)) return JsonError(e);
    switch (type) {
      case od::json_type::string: {
        std::string_view s;
        if (auto e = value.get_string().get(s)) return JsonError(e);
        out->assign(s.data(), s.size());
        return absl::OkStatus();
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = value.get_bool().get(b)) return JsonError(e);
        out->assign(b ? "true" : "false");
        return absl::OkStatus();
      }
      case od::json_type::number:
        return ReadNumberLabel(value, out);
      default:
        return FieldError(node, absl::StrCat(element, "expected a string, number or boolean, got ",
                                             TypeName(type)));
    }
  }

  absl::Status ReadNumberLabel(od::value& value, std::string* out) {
    od::number_type nt;
    auto e = value.get_number_type().get(nt);
    if (!e && nt == od::number_type::signed_integer) {
      int64_t v;
      if (!(e = value.get_int64().get(v))) {
        char buf[24];
        out->assign(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
        return absl::OkStatus();
      }
    } else if (!e && nt == od::number_type::unsigned_integer) {
      uint64_t v;
      if (!(e = value.get_uint64().get(v))) {
        char buf[24];
        out->assign(buf, std::to_chars(buf, buf + sizeof(buf), v).ptr);
        return absl::OkStatus();
      }
    } else if (!e) {
      double v;
      if (!(e = value.get_double().get(v))) {
        out->clear();
        AppendCanonicalNumber(v, out);
        return absl::OkStatus();
      }
    }
    // An integer beyond 64 bits is still a fine label: keep its digits.
    const absl::string_view digits = RawToken(value);
    if (IsJsonInteger(digits)) {
      out->assign(digits.data(), digits.size());
      return absl::OkStatus();
    }
    return JsonError(e);
  }

  absl::Status ReadReferences(od::value& value, const Node& node) {
    if (num_references_ > 0) {
      return absl::InvalidArgumentError(
          "both 'reference' and 'references' are present; give one of them");
    }
    std::vector<std::string>& texts = reference_->texts;
    od::json_type type;
    if (auto e = value.type().get(type)) return JsonError(e);
    if (type != od::json_type::array) {
      if (texts.empty()) texts.emplace_back();
      num_references_ = 1;
      return ReadLabel(value, node, &texts[0], "");
    }
    od::array array;
    if (auto e = value.get_array().get(array)) return JsonError(e);
    // Lists are short; room for two up front spares a fresh Reference one regrowth.
    if (texts.capacity() < 2) texts.reserve(2);
    size_t n = 0;
    for (auto element_result : array) {
      od::value element;
      if (auto e = std::move(element_result).get(element)) return JsonError(e);
      if (n == texts.size()) texts.emplace_back();
      RETURN_IF_ERROR(ReadLabel(element, node, &texts[n], absl::StrCat("element ", n, ": ")));
      ++n;
    }
    if (n == 0) return FieldError(node, "empty reference list");
    num_references_ = n;
    return absl::OkStatus();
  }

  absl::Status ReadLogprobs(od::value& value, const Node& node) {
    std::vector<double>& out = prediction_->token_logprobs;
    out.clear();
    od::json_type type;
    if (auto e = value.type().get(type)) return JsonError(e);
    if (type == od::json_type::null) return absl::OkStatus();
    if (type != od::json_type::array) {
      return FieldError(node, absl::StrCat("expected an array of numbers, got ", TypeName(type)));
    }
    od::array array;
    if (auto e = value.get_array().get(array)) return JsonError(e);
    for (auto element_result : array) {
      od::value element;
      if (auto e = std::move(element_result).get(element)) return JsonError(e);
      double x;
      if (element.get_double().get(x)) {
        // Not a double: only Python's spelling of -inf (json.dumps(float("-inf"))) is one more.
        const absl::string_view raw = RawToken(element);
        if (raw != "-Infinity") return BadLogprob(element, raw, out.size(), node);
        x = -HUGE_VAL;
      }
      out.push_back(x);
    }
    prediction_->has_logprobs = true;
    return absl::OkStatus();
  }

  absl::Status BadLogprob(od::value& element, absl::string_view raw, size_t index,
                          const Node& node) {
    const std::string where = absl::StrCat("element ", index, ": ");
    if (IsJsonNumberSyntax(raw)) {
      return FieldError(node, absl::StrCat(where, raw,
                                           " is out of the range of a double (write -Infinity "
                                           "for a token of probability 0)"));
    }
    od::json_type t;
    if (element.type().get(t) || t == od::json_type::number) {
      return FieldError(node, absl::StrCat(where, raw,
                                           " is not a JSON number (-Infinity is the one "
                                           "non-number accepted)"));
    }
    return FieldError(node, absl::StrCat(where, "expected a number, got ", TypeName(t)));
  }

  const char* base_;
  size_t size_;
  od::document* doc_ = nullptr;
  std::string* id_;
  Prediction* prediction_;
  Reference* reference_;
  uint64_t seen_ = 0;
  size_t num_references_ = 0;
};

}  // namespace

void AppendCanonicalNumber(double value, std::string* out) {
  char buf[32];
  char* end;
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    end = std::to_chars(buf, buf + sizeof(buf), static_cast<int64_t>(value)).ptr;
  } else {
    end = std::to_chars(buf, buf + sizeof(buf), value).ptr;
  }
  out->append(buf, end);
}

absl::StatusOr<JsonFieldExtractor> JsonFieldExtractor::Create(const FieldConfig& config,
                                                              Mode mode) {
  JsonFieldExtractor ex;
  ex.mode_ = mode;
  ex.id_path_ = config.id_field;
  ASSIGN_OR_RETURN(ex.id_bit_, ex.AddPath(config.id_field, kId));
  if (mode == Mode::kPredictions) {
    ex.prediction_path_ = config.prediction_field;
    ASSIGN_OR_RETURN(ex.prediction_bit_, ex.AddPath(config.prediction_field, kPrediction));
    if (!config.logprobs_field.empty()) {
      RETURN_IF_ERROR(ex.AddPath(config.logprobs_field, kLogprobs).status());
    }
  } else if (config.reference_field.empty()) {
    ex.default_references_ = true;
    RETURN_IF_ERROR(ex.AddPath("reference", kReference).status());
    RETURN_IF_ERROR(ex.AddPath("references", kReferenceList).status());
  } else {
    ex.reference_path_ = config.reference_field;
    RETURN_IF_ERROR(ex.AddPath(config.reference_field, kReference).status());
  }
  return ex;
}

absl::StatusOr<uint8_t> JsonFieldExtractor::AddPath(const std::string& path, Slot slot) {
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '.');
  Node* node = &root_;
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad field path '", path, "': empty name between dots"));
    }
    prefix = i == 0 ? std::string(parts[i]) : absl::StrCat(prefix, ".", parts[i]);
    Node* child = nullptr;
    for (Node& c : node->children) {
      if (c.key == parts[i]) child = &c;
    }
    const bool last = i + 1 == parts.size();
    if (child != nullptr && (child->slot != kNoSlot || last)) {
      return absl::InvalidArgumentError(
          absl::StrCat("field paths overlap: '", path, "' and another field use '", prefix, "'"));
    }
    if (child == nullptr) {
      if (num_nodes_ == kMaxNodes) {
        return absl::InvalidArgumentError("too many field path parts");
      }
      Node n;
      n.key = std::string(parts[i]);
      n.path = prefix;
      n.is_index = absl::SimpleAtoi(parts[i], &n.index) && absl::ascii_isdigit(parts[i][0]);
      n.bit = static_cast<uint8_t>(num_nodes_++);
      if (last) n.slot = slot;
      node->children.push_back(std::move(n));
      child = &node->children.back();
    }
    node = child;
  }
  return node->bit;
}

absl::Status JsonFieldExtractor::Extract(simdjson::ondemand::parser& parser,
                                         simdjson::padded_string_view json, std::string* id,
                                         Prediction* prediction, Reference* reference) const {
  if (mode_ == Mode::kPredictions) {
    prediction->has_logprobs = false;
    prediction->token_logprobs.clear();
  }
  LineWalk walk(json.data(), json.size(), id, prediction, reference);
  RETURN_IF_ERROR(walk.Run(parser, json, root_));
  // Required fields, in the order id, then prediction or reference.
  if (!walk.Seen(id_bit_)) {
    return absl::InvalidArgumentError(absl::StrCat("missing field '", id_path_, "'"));
  }
  if (mode_ == Mode::kPredictions) {
    if (!walk.Seen(prediction_bit_)) {
      return absl::InvalidArgumentError(absl::StrCat("missing field '", prediction_path_, "'"));
    }
    return absl::OkStatus();
  }
  if (walk.num_references() == 0) {
    return absl::InvalidArgumentError(default_references_
                                          ? "missing field 'reference' (or 'references' for a list)"
                                          : absl::StrCat("missing field '", reference_path_, "'"));
  }
  reference->texts.resize(walk.num_references());
  return absl::OkStatus();
}

}  // namespace emar
