#include "eval/input/harness_samples.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "eval/input/json_field_extractor.h"

namespace emar {
namespace {

namespace dom = simdjson::dom;

absl::Status FieldError(absl::string_view path, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("field '", path, "': ", problem));
}

absl::string_view TypeName(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY:
      return "array";
    case dom::element_type::OBJECT:
      return "object";
    case dom::element_type::STRING:
      return "string";
    case dom::element_type::BOOL:
      return "boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
    default:
      return "number";
  }
}

bool IsNumber(dom::element e) { return e.is_double() || e.is_int64() || e.is_uint64(); }

// Accessors whose preconditions (the element's type) the callers checked.
absl::string_view Str(dom::element e) {
  std::string_view v;
  if (e.get_string().get(v)) return {};
  return absl::string_view(v.data(), v.size());
}

dom::array Arr(dom::element e) {
  dom::array a;
  if (e.get_array().get(a)) return {};
  return a;
}

double Num(dom::element e) {
  double v = 0;
  if (e.get_double().get(v)) return 0;
  return v;
}

// The element at dotted `path` under `root`; a missing part is an error naming the path.
absl::StatusOr<dom::element> Lookup(dom::element root, absl::string_view path) {
  dom::element cur = root;
  std::string walked;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    absl::StrAppend(&walked, walked.empty() ? "" : ".", part);
    uint32_t index;
    if (cur.is_array() && absl::SimpleAtoi(part, &index)) {
      dom::element next;
      if (cur.at(index).get(next)) return FieldError(walked, "missing (index past the end)");
      cur = next;
    } else if (cur.is_object()) {
      dom::element next;
      if (cur.at_key(std::string_view(part.data(), part.size())).get(next)) {
        return FieldError(walked, "missing");
      }
      cur = next;
    } else {
      return FieldError(walked,
                        absl::StrCat("missing (its parent is a ", TypeName(cur.type()), ")"));
    }
  }
  return cur;
}

// A log-likelihood: a JSON number or a string Python's str(float) wrote ("-1.5", "-inf").
absl::StatusOr<double> ReadNumber(dom::element e, absl::string_view path) {
  if (IsNumber(e)) return Num(e);
  if (e.is_string()) {
    const std::string text(Str(e));
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size()) return v;
    return FieldError(path, absl::StrCat("\"", text, "\" is not a number"));
  }
  return FieldError(path, absl::StrCat("expected a number, got ", TypeName(e.type())));
}

absl::Status ReadResponses(dom::element root, const std::string& path, Prediction* p) {
  ASSIGN_OR_RETURN(dom::element responses, Lookup(root, path));
  if (!responses.is_array()) {
    return FieldError(path, absl::StrCat("expected an array of [loglikelihood, is_greedy], got ",
                                         TypeName(responses.type())));
  }
  p->choice_loglikelihoods.clear();
  size_t i = 0;
  for (dom::element r : Arr(responses)) {
    const std::string item = absl::StrCat(path, ".", i++);
    // [[ll, greedy]] (one level deeper, as `resps`) -> [ll, greedy] -> ll.
    dom::element first;
    while (r.is_array() && !r.at(0).get(first) && first.is_array()) r = first;
    if (r.is_array()) {
      if (r.at(0).get(first)) return FieldError(item, "empty response");
      r = first;
    }
    ASSIGN_OR_RETURN(double ll, ReadNumber(r, item));
    p->choice_loglikelihoods.push_back(ll);
  }
  if (p->choice_loglikelihoods.empty()) return FieldError(path, "no responses");
  return absl::OkStatus();
}

absl::Status ReadChoiceArray(dom::element root, const std::string& path, Prediction* p) {
  ASSIGN_OR_RETURN(dom::element choices, Lookup(root, path));
  if (!choices.is_array()) {
    return FieldError(
        path, absl::StrCat("expected an array of choice texts, got ", TypeName(choices.type())));
  }
  size_t i = 0;
  for (dom::element c : Arr(choices)) {
    if (!c.is_string()) {
      return FieldError(absl::StrCat(path, ".", i),
                        absl::StrCat("expected a string, got ", TypeName(c.type())));
    }
    p->choices.emplace_back(Str(c));
    ++i;
  }
  return absl::OkStatus();
}

// A continuation minus the default target delimiter.
absl::Status AddContinuation(dom::element cont, absl::string_view path, Prediction* p) {
  if (!cont.is_string()) {
    return FieldError(
        path, absl::StrCat("expected the continuation string, got ", TypeName(cont.type())));
  }
  absl::string_view text = Str(cont);
  if (absl::StartsWith(text, " ")) text.remove_prefix(1);
  p->choices.emplace_back(text);
  return absl::OkStatus();
}

absl::Status ReadChoicesFromArguments(dom::element root, Prediction* p) {
  ASSIGN_OR_RETURN(dom::element args, Lookup(root, "arguments"));
  if (args.is_array()) {  // [[context, continuation], ...]
    size_t i = 0;
    for (dom::element request : Arr(args)) {
      const std::string path = absl::StrCat("arguments.", i++, ".1");
      dom::element cont;
      if (!request.is_array() || request.at(1).get(cont)) {
        return FieldError(path, "missing: expected [context, continuation]");
      }
      RETURN_IF_ERROR(AddContinuation(cont, path, p));
    }
    return absl::OkStatus();
  }
  if (!args.is_object()) {
    return FieldError("arguments",
                      absl::StrCat("expected an object or array, got ", TypeName(args.type())));
  }
  // {"gen_args_0": {"arg_0": context, "arg_1": continuation}, ...}, in index order.
  dom::object object;
  if (args.get_object().get(object)) return FieldError("arguments", "expected an object");
  const size_t n = object.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string key = absl::StrCat("gen_args_", i);
    dom::element request, cont;
    if (args.at_key(key).get(request)) {
      return FieldError(absl::StrCat("arguments.", key),
                        "missing (gen_args_N must count up from 0)");
    }
    const std::string path = absl::StrCat("arguments.", key, ".arg_1");
    if (!request.is_object() || request.at_key("arg_1").get(cont)) {
      return FieldError(path, "missing: expected the continuation");
    }
    RETURN_IF_ERROR(AddContinuation(cont, path, p));
  }
  return absl::OkStatus();
}

// Renders a scalar target (string as is, integral number without ".0").
absl::Status AppendTarget(dom::element t, absl::string_view path, Reference* r) {
  if (t.is_string()) {
    r->texts.emplace_back(Str(t));
  } else if (IsNumber(t)) {
    std::string text;
    AppendCanonicalNumber(Num(t), &text);
    r->texts.push_back(std::move(text));
  } else {
    return FieldError(path, absl::StrCat("expected a string, an integer or a list of them, got ",
                                         TypeName(t.type())));
  }
  return absl::OkStatus();
}

absl::Status ReadTarget(dom::element root, const std::string& path, Reference* r) {
  ASSIGN_OR_RETURN(dom::element t, Lookup(root, path));
  r->texts.clear();
  if (!t.is_array()) return AppendTarget(t, path, r);
  size_t i = 0;
  for (dom::element item : Arr(t)) {
    RETURN_IF_ERROR(AppendTarget(item, absl::StrCat(path, ".", i++), r));
  }
  if (r->texts.empty()) return FieldError(path, "empty list of targets");
  return absl::OkStatus();
}

absl::Status ReadId(dom::element root, const std::string& path, std::string* id) {
  ASSIGN_OR_RETURN(dom::element e, Lookup(root, path));
  int64_t i;
  uint64_t u;
  if (e.is_string()) {
    *id = std::string(Str(e));
  } else if (!e.get_int64().get(i)) {
    *id = absl::StrCat(i);
  } else if (!e.get_uint64().get(u)) {
    *id = absl::StrCat(u);
  } else {
    return FieldError(path,
                      absl::StrCat("expected a string or an integer, got ", TypeName(e.type())));
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

absl::StatusOr<dom::element> ParseObject(dom::parser& parser, absl::string_view line) {
  dom::element root;
  if (auto e = parser.parse(line.data(), line.size()).get(root)) {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", simdjson::error_message(e)));
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object, got ", TypeName(root.type())));
  }
  return root;
}

absl::Status ReadPrediction(dom::element root, const HarnessSampleFields& fields, std::string* id,
                            Prediction* prediction) {
  RETURN_IF_ERROR(ReadId(root, fields.id_field, id));
  RETURN_IF_ERROR(ReadResponses(root, fields.responses_field, prediction));
  prediction->choices.clear();
  if (fields.choices_field.empty()) return ReadChoicesFromArguments(root, prediction);
  return ReadChoiceArray(root, fields.choices_field, prediction);
}

}  // namespace

absl::Status ParseHarnessPrediction(dom::parser& parser, absl::string_view line,
                                    const HarnessSampleFields& fields, std::string* id,
                                    Prediction* prediction) {
  ASSIGN_OR_RETURN(dom::element root, ParseObject(parser, line));
  return ReadPrediction(root, fields, id, prediction);
}

absl::Status ParseHarnessSample(dom::parser& parser, absl::string_view line,
                                const HarnessSampleFields& fields, HarnessSample* out) {
  ASSIGN_OR_RETURN(dom::element root, ParseObject(parser, line));
  RETURN_IF_ERROR(ReadPrediction(root, fields, &out->id, &out->prediction));
  return ReadTarget(root, fields.target_field, &out->reference);
}

absl::StatusOr<std::vector<HarnessSample>> ReadHarnessSamples(const std::string& path,
                                                              const HarnessSampleFields& fields) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  dom::parser parser;
  std::vector<HarnessSample> samples;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    HarnessSample sample;
    absl::Status s = ParseHarnessSample(parser, line, fields, &sample);
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": ", s.message()));
    }
    samples.push_back(std::move(sample));
  }
  if (samples.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  return samples;
}

}  // namespace emar
