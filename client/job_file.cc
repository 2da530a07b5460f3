#include "client/job_file.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

// YAML -> JSON text: plain scalars that read as numbers, booleans or null keep that type; quoted
// scalars stay strings. The proto JSON parser then checks every field.
void ToJson(const YAML::Node& node, std::string* out) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      out->push_back('{');
      bool first = true;
      for (const auto& kv : node) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(kv.first.as<std::string>(), out);
        out->push_back(':');
        ToJson(kv.second, out);
      }
      out->push_back('}');
      return;
    }
    case YAML::NodeType::Sequence: {
      out->push_back('[');
      for (size_t i = 0; i < node.size(); ++i) {
        if (i) out->push_back(',');
        ToJson(node[i], out);
      }
      out->push_back(']');
      return;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "?") {
        double d;
        if (s == "true" || s == "false") {
          out->append(s);
          return;
        }
        if (s == "null" || s == "~") {
          out->append("null");
          return;
        }
        const bool integer = !s.empty() &&
                             s.find_first_not_of("+-0123456789") == std::string::npos &&
                             s.find_first_of("0123456789") != std::string::npos &&
                             s.find_first_of("+-", 1) == std::string::npos;
        if (integer) {  // digits kept as written: a 64-bit seed must not pass through a double
          out->append(s[0] == '+' ? s.substr(1) : s);
          return;
        }
        if (s.find_first_not_of("+-.0123456789eE") == std::string::npos &&
            absl::SimpleAtod(s, &d) && std::isfinite(d)) {
          // YAML floats such as ".9", "5." or "+.5" are not JSON numbers: print them canonically.
          out->append(absl::StrFormat("%.17g", d));
          return;
        }
      }
      AppendJsonString(s, out);
      return;
    }
    default:
      out->append("null");
  }
}

}  // namespace

absl::StatusOr<JobFile> ParseJobFile(const std::string& text, const std::string& display_name,
                                     const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(display_name, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1,
                                                   ": not valid YAML or JSON: ", e.msg));
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(
        display_name,
        ": a job file is a mapping (name, target, benchmark, base, candidates, formula)"));
  }
  std::string json;
  ToJson(root, &json);
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
    out.inputs.push_back(JobFileInput{in.field, in.path, JoinPath(base_dir, in.path)});
  }
  return out;
}

absl::StatusOr<JobFile> LoadJobFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseJobFile(text, path, DirName(path));
}

}  // namespace emar
