#include "client/job_file.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "eval/job/job_inputs.h"

namespace emar {
namespace {

void AppendJsonString(const std::string& s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

// Bounds of the YAML -> JSON step. YAML aliases let a short file repeat a node any number of
// times, or put a node inside itself, so the document a job file stands for is unbounded.
constexpr int kMaxJsonDepth = 100;  // protobuf's JSON parser allows no deeper nesting
constexpr size_t kMaxJsonBytes = size_t{4} << 20;  // far beyond any real job file

// INVALID_ARGUMENT "<file>:<line>:<column>: <what>" (1-based), without the position when
// yaml-cpp has none.
absl::Status ErrorAt(const std::string& display_name, const YAML::Mark& mark,
                     absl::string_view what) {
  if (mark.is_null()) return absl::InvalidArgumentError(absl::StrCat(display_name, ": ", what));
  return absl::InvalidArgumentError(
      absl::StrCat(display_name, ":", mark.line + 1, ":", mark.column + 1, ": ", what));
}

absl::string_view KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "a value";
  }
}

// YAML -> JSON text: plain scalars that read as numbers, booleans or null keep that type; quoted
// scalars stay strings. The proto JSON parser then checks every field. Mapping keys must be
// scalars (YAML also allows sequences and mappings as keys; JSON does not).
absl::Status ToJson(const YAML::Node& node, const std::string& display_name, int depth,
                    std::string* out) {
  if (depth > kMaxJsonDepth) {
    return ErrorAt(display_name, node.Mark(),
                   absl::StrCat("nested more than ", kMaxJsonDepth,
                                " levels deep (an alias inside the node it names?)"));
  }
  if (out->size() > kMaxJsonBytes) {
    return ErrorAt(display_name, node.Mark(),
                   absl::StrCat("the job expands to more than ", kMaxJsonBytes,
                                " bytes (aliases repeating large nodes?)"));
  }
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
          return ErrorAt(
              display_name, kv.first.Mark(),
              absl::StrCat("a mapping key must be a field name, not ", KindName(kv.first)));
        }
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(kv.first.Scalar(), out);
        out->push_back(':');
        RETURN_IF_ERROR(ToJson(kv.second, display_name, depth + 1, out));
      }
      out->push_back('}');
      return absl::OkStatus();
    }
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      bool first = true;
      for (const YAML::Node& element : node) {
        if (!first) out->push_back(',');
        first = false;
        RETURN_IF_ERROR(ToJson(element, display_name, depth + 1, out));
      }
      out->push_back(']');
      return absl::OkStatus();
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "?") {
        double d;
        if (s == "true" || s == "false") {
          out->append(s);
          return absl::OkStatus();
        }
        if (s == "null" || s == "~") {
          out->append("null");
          return absl::OkStatus();
        }
        const bool integer = !s.empty() &&
                             s.find_first_not_of("+-0123456789") == std::string::npos &&
                             s.find_first_of("0123456789") != std::string::npos &&
                             s.find_first_of("+-", 1) == std::string::npos;
        if (integer) {  // digits kept as written: a 64-bit seed must not pass through a double
          out->append(s[0] == '+' ? s.substr(1) : s);
          return absl::OkStatus();
        }
        if (s.find_first_not_of("+-.0123456789eE") == std::string::npos &&
            absl::SimpleAtod(s, &d) && std::isfinite(d)) {
          // YAML floats such as ".9", "5." or "+.5" are not JSON numbers: print them canonically.
          out->append(absl::StrFormat("%.17g", d));
          return absl::OkStatus();
        }
      }
      AppendJsonString(s, out);
      return absl::OkStatus();
    }
    default:
      out->append("null");
      return absl::OkStatus();
  }
}

// `metrics: [accuracy, {name: bleu, tokenize: intl}]`: a string entry stands for `{name: ...}`,
// which is what the proto JSON parser needs. Applies to `target`, `benchmark` and every entry
// of `targets` and `benchmarks`.
// `root` is a const handle: the nodes it reaches are edited through copies of theirs.
absl::Status NormalizeMetricEntries(const YAML::Node& root, const std::string& display_name) {
  // Lookups go through const nodes: a non-const operator[] may add the key it looks for.
  const YAML::Node& croot = root;
  std::vector<YAML::Node> datasets;
  for (const char* one : {"target", "benchmark"}) {
    if (croot[one] && croot[one].IsMap()) datasets.push_back(croot[one]);
  }
  for (const char* list : {"targets", "benchmarks"}) {
    if (!croot[list] || !croot[list].IsSequence()) continue;
    for (const YAML::Node& d : croot[list]) {
      if (d.IsMap()) datasets.push_back(d);
    }
  }
  for (YAML::Node d : datasets) {
    const YAML::Node& cd = d;
    if (!cd["metrics"]) continue;
    if (cd["metrics"].IsScalar()) {  // `metrics: bleu`: a list of one
      YAML::Node list(YAML::NodeType::Sequence);
      list.push_back(YAML::Clone(cd["metrics"]));
      d["metrics"] = list;
    }
    YAML::Node metrics = cd["metrics"];
    if (!metrics.IsSequence()) {
      return ErrorAt(display_name, metrics.Mark(),
                     absl::StrCat("`metrics` is a list of metric names or {name: ..., option: "
                                  "...} objects, not ",
                                  KindName(metrics)));
    }
    for (size_t i = 0; i < metrics.size(); ++i) {
      const YAML::Node& cmetrics = metrics;
      YAML::Node entry = cmetrics[i];
      if (entry.IsMap()) continue;
      if (!entry.IsScalar()) {
        return ErrorAt(display_name, entry.Mark(),
                       absl::StrCat("a `metrics` entry is a metric name or an object {name: "
                                    "..., option: ...}, not ",
                                    KindName(entry)));
      }
      YAML::Node object(YAML::NodeType::Map);
      object["name"] = entry.Scalar();
      entry = object;
    }
  }
  return absl::OkStatus();
}

// `references: {uri: "https://...", sha256: "...", size: 123}` (any input path field): an input
// named by reference (docs/inputs.md). The field keeps the URI, which becomes a key of the
// spec's `input_references` map with the stated sha256 and size; the client reads no file.
absl::Status NormalizeReferenceAt(YAML::Node parent, const std::string& key, YAML::Node root,
                                  const std::string& display_name) {
  const YAML::Node& cparent = parent;
  if (!cparent.IsMap() || !cparent[key] || !cparent[key].IsMap()) return absl::OkStatus();
  YAML::Node ref = cparent[key];
  const YAML::Node& cref = ref;
  for (const auto& kv : cref) {
    const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (name != "uri" && name != "sha256" && name != "size") {
      return ErrorAt(
          display_name, kv.first.Mark(),
          absl::StrCat("`", key, "` by reference takes uri, sha256 and size, not '", name, "'"));
    }
  }
  if (!cref["uri"] || !cref["uri"].IsScalar() || !cref["sha256"] || !cref["size"]) {
    return ErrorAt(display_name, ref.Mark(),
                   absl::StrCat("`", key,
                                "` by reference needs uri, sha256 and size (emarctl hash FILE "
                                "prints the last two)"));
  }
  const std::string uri = cref["uri"].Scalar();
  YAML::Node content(YAML::NodeType::Map);
  content["sha256"] = YAML::Clone(cref["sha256"]);
  content["size"] = YAML::Clone(cref["size"]);
  const YAML::Node& croot = root;
  if (!croot["input_references"]) root["input_references"] = YAML::Node(YAML::NodeType::Map);
  YAML::Node refs = croot["input_references"];
  const YAML::Node& crefs = refs;
  if (crefs[uri] &&
      (crefs[uri]["sha256"].as<std::string>() != content["sha256"].as<std::string>() ||
       crefs[uri]["size"].as<std::string>() != content["size"].as<std::string>())) {
    return ErrorAt(display_name, ref.Mark(),
                   "the same uri is named twice with different sha256 or size");
  }
  refs[uri] = content;
  parent[key] = uri;
  return absl::OkStatus();
}

absl::Status NormalizeInputReferences(const YAML::Node& root, const std::string& display_name) {
  const YAML::Node& croot = root;
  std::vector<YAML::Node> datasets, models;
  for (const char* one : {"target", "benchmark"}) {
    if (croot[one]) datasets.push_back(croot[one]);
  }
  if (croot["base"]) models.push_back(croot["base"]);
  for (const char* list : {"targets", "benchmarks", "candidates"}) {
    if (!croot[list] || !croot[list].IsSequence()) continue;
    for (const YAML::Node& d : croot[list]) (list[0] == 'c' ? models : datasets).push_back(d);
  }
  for (const YAML::Node& d : datasets) {
    RETURN_IF_ERROR(NormalizeReferenceAt(d, "references", root, display_name));
  }
  for (const YAML::Node& m : models) {
    for (const char* key : {"target_outputs", "benchmark_outputs"}) {
      RETURN_IF_ERROR(NormalizeReferenceAt(m, key, root, display_name));
    }
    const YAML::Node& cm = m;
    if (!cm.IsMap() || !cm["outputs"] || !cm["outputs"].IsMap()) continue;
    YAML::Node outputs = cm["outputs"];
    std::vector<std::string> names;
    for (const auto& kv : outputs) {
      if (kv.first.IsScalar()) names.push_back(kv.first.Scalar());
    }
    for (const std::string& name : names) {
      RETURN_IF_ERROR(NormalizeReferenceAt(outputs, name, root, display_name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JobFile> ParseJobFile(const std::string& text, const std::string& display_name,
                                     const std::string& base_dir) {
  // yaml-cpp reports problems by throwing; none may escape (emarctl would abort). Loading throws
  // on syntax errors, and reading the loaded nodes can throw too (a bad conversion, an invalid
  // node), so both run inside the try.
  std::string json;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(
          display_name,
          ": a job file is a mapping (name, target, benchmark, base, candidates, formula)"));
    }
    RETURN_IF_ERROR(NormalizeMetricEntries(root, display_name));
    RETURN_IF_ERROR(NormalizeInputReferences(root, display_name));
    RETURN_IF_ERROR(ToJson(root, display_name, /*depth=*/0, &json));
  } catch (const YAML::Exception& e) {
    return ErrorAt(display_name, e.mark, absl::StrCat("not valid YAML or JSON: ", e.msg));
  }
  JobFile out;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(json, &out.spec, opts);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(display_name, ": ", std::string(st.message().data(), st.message().size())));
  }
  std::set<std::string> seen;
  for (const JobInput& in : ListJobInputs(out.spec)) {
    if (in.path.empty() || !seen.insert(in.path).second) continue;
    if (out.spec.input_references().contains(in.path)) continue;  // read by the coordinator
    if (absl::StartsWith(in.path, "https://") || absl::StartsWith(in.path, "file://")) {
      return absl::InvalidArgumentError(absl::StrCat(
          display_name, ": ", in.field,
          ": an input by reference is {uri: ..., sha256: ..., size: ...} (emarctl hash FILE "
          "prints sha256 and size), not a bare URI"));
    }
    out.inputs.push_back(JobFileInput{in.field, in.path, JoinPath(base_dir, in.path)});
  }
  return out;
}

absl::StatusOr<JobFile> LoadJobFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseJobFile(text, path, DirName(path));
}

}  // namespace emar
