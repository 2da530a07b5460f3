#include "tests/system/reference_scores.h"

#include <cctype>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace emar::testing {
namespace {

// Calls `row` with each parsed line; errors name the file and line.
template <typename Fn>
absl::Status ForEachLine(const std::string& path, Fn row) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  simdjson::dom::parser parser;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    simdjson::dom::object obj;
    if (parser.parse(line).get_object().get(obj) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": not a JSON object"));
    }
    if (absl::Status s = row(obj); !s.ok())
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": ", s.message()));
  }
  return absl::OkStatus();
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

absl::StatusOr<ReferenceMap> ReadReferences(const std::string& path) {
  ReferenceMap out;
  absl::Status s = ForEachLine(path, [&](simdjson::dom::object obj) -> absl::Status {
    std::string_view id;
    if (obj["id"].get_string().get(id) != simdjson::SUCCESS)
      return absl::InvalidArgumentError("no string id");
    std::vector<std::string>& refs = out[std::string(id)];
    std::string_view one;
    simdjson::dom::array many;
    if (obj["reference"].get_string().get(one) == simdjson::SUCCESS) {
      refs.emplace_back(one);
    } else if (obj["references"].get_array().get(many) == simdjson::SUCCESS) {
      for (simdjson::dom::element e : many) {
        if (e.get_string().get(one) != simdjson::SUCCESS)
          return absl::InvalidArgumentError("non-string reference");
        refs.emplace_back(one);
      }
    } else {
      return absl::InvalidArgumentError("no reference");
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<PredictionMap> ReadPredictions(const std::string& path) {
  PredictionMap out;
  absl::Status s = ForEachLine(path, [&](simdjson::dom::object obj) -> absl::Status {
    std::string_view id, prediction;
    if (obj["id"].get_string().get(id) != simdjson::SUCCESS)
      return absl::InvalidArgumentError("no string id");
    if (obj["prediction"].get_string().get(prediction) != simdjson::SUCCESS) {
      return absl::InvalidArgumentError("no string prediction");
    }
    out[std::string(id)] = std::string(prediction);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

std::string SquadNormalize(const std::string& s) {
  std::string text;
  for (unsigned char c : s) {
    if (std::ispunct(c)) continue;
    text.push_back(static_cast<char>(std::tolower(c)));
  }
  std::string out, word;
  auto flush = [&] {
    if (!word.empty() && word != "a" && word != "an" && word != "the") {
      if (!out.empty()) out.push_back(' ');
      out += word;
    }
    word.clear();
  };
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      flush();
    } else {
      word.push_back(c);
    }
  }
  flush();
  return out;
}

double AccuracyOf(const PredictionMap& predictions, const ReferenceMap& references) {
  if (references.empty()) return 0;
  size_t right = 0;
  for (const auto& [id, refs] : references) {
    auto it = predictions.find(id);
    if (it != predictions.end() && !refs.empty() && Trim(it->second) == Trim(refs[0])) ++right;
  }
  return static_cast<double>(right) / static_cast<double>(references.size());
}

double ExactMatchOf(const PredictionMap& predictions, const ReferenceMap& references) {
  if (references.empty()) return 0;
  size_t right = 0;
  for (const auto& [id, refs] : references) {
    auto it = predictions.find(id);
    if (it == predictions.end()) continue;
    const std::string p = SquadNormalize(it->second);
    for (const std::string& r : refs) {
      if (SquadNormalize(r) == p) {
        ++right;
        break;
      }
    }
  }
  return static_cast<double>(right) / static_cast<double>(references.size());
}

}  // namespace emar::testing
