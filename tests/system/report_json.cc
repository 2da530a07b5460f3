#include "tests/system/report_json.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "absl/strings/str_cat.h"

namespace emar::testing {
namespace {

absl::Status ParseInto(const std::string& json, google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(json, message, opts);
  if (!st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a ", message->GetTypeName(), " in JSON: ",
                     std::string(st.message().data(), st.message().size()), "\n--- text:\n", json));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<emar::v1::Report> ParseReportJson(const std::string& json) {
  emar::v1::Report r;
  if (absl::Status s = ParseInto(json, &r); !s.ok()) return s;
  return r;
}

absl::StatusOr<emar::v1::Job> ParseJobJson(const std::string& json) {
  emar::v1::Job j;
  if (absl::Status s = ParseInto(json, &j); !s.ok()) return s;
  return j;
}

absl::StatusOr<emar::v1::ListJobsResponse> ParseJobListJson(const std::string& json) {
  emar::v1::ListJobsResponse l;
  if (absl::Status s = ParseInto(json, &l); !s.ok()) return s;
  return l;
}

absl::StatusOr<std::vector<std::string>> SplitJsonObjects(const std::string& text) {
  std::vector<std::string> out;
  int depth = 0;
  bool in_string = false, escaped = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      if (depth++ == 0) start = i;
    } else if (c == '}') {
      if (--depth < 0)
        return absl::InvalidArgumentError(absl::StrCat("unbalanced '}' at byte ", i));
      if (depth == 0) out.push_back(text.substr(start, i + 1 - start));
    } else if (depth == 0 && c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      return absl::InvalidArgumentError(absl::StrCat("text outside a JSON object at byte ", i));
    }
  }
  if (depth != 0 || in_string) return absl::InvalidArgumentError("truncated JSON object");
  return out;
}

std::string DiffIgnoringJobId(const emar::v1::Report& a, const emar::v1::Report& b) {
  emar::v1::Report x = a, y = b;
  x.clear_job_id();
  y.clear_job_id();
  google::protobuf::util::MessageDifferencer diff;
  std::string report;
  diff.ReportDifferencesToString(&report);
  if (diff.Compare(x, y)) return "";
  return report.empty() ? "differ" : report;
}

}  // namespace emar::testing
