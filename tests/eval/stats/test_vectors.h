// Loads testdata/metrics/significance.jsonl (one JSON object per line, see its README) for the
// statistics tests, and turns its fields into the rows and index lists eval/stats takes.
//
//   ASSERT_OK_AND_ASSIGN(SignificanceVectors v, SignificanceVectors::Load());
//   const simdjson::dom::element& line = v.Get("mcnemar_b10_c3");
//   std::vector<std::vector<double>> rows = AccuracyRows(line);   // one 0/1 column per system
#ifndef EMAR_TESTS_EVAL_STATS_TEST_VECTORS_H_
#define EMAR_TESTS_EVAL_STATS_TEST_VECTORS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"
#include "tests/eval/stats/test_metrics.h"

namespace emar::stats_test {

class SignificanceVectors {
 public:
  static absl::StatusOr<SignificanceVectors> Load() {
    const std::string path = std::string(EMAR_TESTDATA_DIR) + "/metrics/significance.jsonl";
    simdjson::padded_string text;
    if (simdjson::padded_string::load(path).get(text) != simdjson::SUCCESS) {
      return absl::NotFoundError(absl::StrCat("cannot read ", path));
    }
    SignificanceVectors out;
    std::string_view rest(text.data(), text.size());
    while (!rest.empty()) {
      const size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      if (line.empty()) continue;
      auto parser = std::make_unique<simdjson::dom::parser>();
      simdjson::dom::element element;
      if (parser->parse(line.data(), line.size()).get(element) != simdjson::SUCCESS) {
        return absl::DataLossError(absl::StrCat("bad JSON line in ", path));
      }
      out.parsers_.push_back(std::move(parser));
      out.lines_.push_back(element);
    }
    return out;
  }

  const std::vector<simdjson::dom::element>& lines() const { return lines_; }
  // The line named `name`; a default element (type checks fail) when absent.
  simdjson::dom::element Get(std::string_view name) const {
    for (const simdjson::dom::element& e : lines_) {
      if (Name(e) == name) return e;
    }
    return simdjson::dom::element();
  }
  static std::string Name(const simdjson::dom::element& e) {
    std::string_view s;
    if (e["name"].get(s) != simdjson::SUCCESS) return "";
    return std::string(s);
  }

 private:
  std::vector<std::unique_ptr<simdjson::dom::parser>> parsers_;
  std::vector<simdjson::dom::element> lines_;
};

inline double Num(simdjson::dom::element e) {
  double d = 0;
  if (e.get(d) == simdjson::SUCCESS) return d;
  int64_t i = 0;
  if (e.get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  uint64_t u = 0;
  if (e.get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  return std::nan("");
}

inline std::vector<double> Doubles(simdjson::dom::element array) {
  std::vector<double> out;
  for (simdjson::dom::element x : array.get_array()) out.push_back(Num(x));
  return out;
}

// The 0/1 correctness column of every system: predictions[s][i] == references[i].
inline std::vector<std::vector<double>> AccuracyRows(simdjson::dom::element line) {
  const std::vector<double> refs = Doubles(line["references"]);
  std::vector<std::vector<double>> out;
  for (simdjson::dom::element sys : line["predictions"].get_array()) {
    std::vector<double> preds = Doubles(sys);
    std::vector<double> rows;
    for (size_t i = 0; i < preds.size(); ++i) rows.push_back(preds[i] == refs[i] ? 1.0 : 0.0);
    out.push_back(std::move(rows));
  }
  return out;
}

// TestBleuMetric rows (10 per sentence) of every system; empty if a sentence is not plain.
inline std::vector<std::vector<double>> BleuRows(simdjson::dom::element line) {
  std::vector<std::string> refs;
  for (simdjson::dom::element r : line["references"].get_array()) {
    std::string_view s = r.get_array().at(0).get_string();
    refs.emplace_back(s);
  }
  std::vector<std::vector<double>> out;
  for (simdjson::dom::element sys : line["predictions"].get_array()) {
    std::vector<double> rows;
    size_t i = 0;
    for (simdjson::dom::element hyp : sys.get_array()) {
      double row[10];
      const std::string_view text = hyp.get_string().value();
      if (!TestBleuRow(absl::string_view(text.data(), text.size()), refs[i++], row)) return {};
      rows.insert(rows.end(), row, row + 10);
    }
    out.push_back(std::move(rows));
  }
  return out;
}

inline std::vector<std::vector<uint32_t>> IndexMatrix(simdjson::dom::element matrix) {
  std::vector<std::vector<uint32_t>> out;
  for (simdjson::dom::element row : matrix.get_array()) {
    std::vector<uint32_t> r;
    for (simdjson::dom::element x : row.get_array()) r.push_back(static_cast<uint32_t>(Num(x)));
    out.push_back(std::move(r));
  }
  return out;
}

inline std::vector<std::vector<uint8_t>> MaskMatrix(simdjson::dom::element matrix) {
  std::vector<std::vector<uint8_t>> out;
  for (const std::vector<uint32_t>& row : IndexMatrix(matrix)) {
    out.emplace_back(row.begin(), row.end());
  }
  return out;
}

}  // namespace emar::stats_test

#endif  // EMAR_TESTS_EVAL_STATS_TEST_VECTORS_H_
