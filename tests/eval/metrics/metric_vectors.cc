#include "tests/eval/metrics/metric_vectors.h"

#include <cmath>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace emar::testing {

std::vector<std::string> VectorLines(const std::string& file) {
  const std::string path = absl::StrCat(EMAR_TESTDATA_DIR, "/metrics/", file);
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) lines.push_back("MISSING " + path);
  return lines;
}

std::string VectorTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = "line";
  auto parsed = VectorLine::Parse(info.param);
  if (parsed.ok()) name = (*parsed)->name();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return absl::StrCat(name, "_", info.index);
}

absl::StatusOr<std::unique_ptr<VectorLine>> VectorLine::Parse(const std::string& line) {
  auto v = std::make_unique<VectorLine>();
  auto result = v->parser_.parse(line);
  if (result.error()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot parse vector line (",
                                                   simdjson::error_message(result.error()),
                                                   "): ", line.substr(0, 200)));
  }
  v->root_ = result.value();
  return v;
}

std::string VectorLine::name() const {
  std::string_view name;
  if (root_["name"].get(name)) return "unnamed";
  return std::string(name);
}

double VectorLine::relative_tolerance() const {
  double tol;
  if (!root_.at_pointer("/params/tolerance").get(tol)) return tol;
  return 1e-6;
}

double JsonNumber(simdjson::dom::element e) {
  std::string_view s;
  if (!e.get(s)) {
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    return std::numeric_limits<double>::quiet_NaN();
  }
  double d;
  if (!e.get(d)) return d;
  int64_t i;
  if (!e.get(i)) return static_cast<double>(i);
  return std::numeric_limits<double>::quiet_NaN();
}

std::vector<double> JsonNumbers(simdjson::dom::element array) {
  std::vector<double> out;
  for (simdjson::dom::element e : array.get_array()) out.push_back(JsonNumber(e));
  return out;
}

std::vector<std::string> JsonStrings(simdjson::dom::element array) {
  std::vector<std::string> out;
  for (simdjson::dom::element e : array.get_array()) {
    out.emplace_back(std::string_view(e.get_string().value()));
  }
  return out;
}

std::string JsonLabel(simdjson::dom::element e) {
  std::string_view s;
  if (!e.get(s)) return std::string(s);
  bool b;
  if (!e.get(b)) return b ? "true" : "false";
  int64_t i;
  if (!e.get(i)) return absl::StrCat(i);
  return simdjson::minify(e);
}

bool Close(double actual, double expected, double rel) {
  if (std::isnan(expected)) return std::isnan(actual);
  if (std::isinf(expected)) return actual == expected;
  return std::fabs(actual - expected) <= std::max(rel * std::fabs(expected), 1e-9);
}

absl::StatusOr<MetricValue> ScoreCorpus(const Metric& metric,
                                        const std::vector<Prediction>& predictions,
                                        const std::vector<Reference>& references,
                                        std::vector<std::vector<double>>* rows) {
  if (predictions.size() != references.size()) {
    return absl::InvalidArgumentError("predictions and references differ in length");
  }
  LabelTable labels;
  std::vector<std::vector<double>> all;
  for (size_t i = 0; i < predictions.size(); ++i) {
    std::vector<double> row(metric.stats_width());
    RETURN_IF_ERROR(
        metric.ScoreExample(predictions[i], references[i], &labels, absl::MakeSpan(row)));
    all.push_back(std::move(row));
  }
  std::vector<double> acc(metric.AccumulatorWidth(labels.size()));
  for (const auto& row : all) metric.Accumulate(row, 1.0, labels.size(), absl::MakeSpan(acc));
  if (rows != nullptr) *rows = all;
  return metric.Finalize(acc, labels.size(), static_cast<double>(predictions.size()));
}

std::vector<Prediction> TextPredictions(const std::vector<std::string>& texts) {
  std::vector<Prediction> out;
  for (const std::string& t : texts) out.push_back(Prediction{t});
  return out;
}

std::vector<Reference> ReferenceLists(simdjson::dom::element lists) {
  std::vector<Reference> out;
  for (simdjson::dom::element list : lists.get_array()) out.push_back(Reference{JsonStrings(list)});
  return out;
}

}  // namespace emar::testing
