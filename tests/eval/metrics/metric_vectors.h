// Test helper: the shared metric vectors (testdata/metrics/*.jsonl) as parameterized tests.
// Each line of a file becomes one test case named after its "name" field.
//
//   class BleuVectorTest : public ::testing::TestWithParam<std::string> {};
//   TEST_P(BleuVectorTest, Matches) {
//     ASSERT_OK_AND_ASSIGN(VectorLine v, VectorLine::Parse(GetParam()));
//     ExpectClose(score, v.Number(v.expected()["score"]), "score");
//   }
//   INSTANTIATE_TEST_SUITE_P(Bleu, BleuVectorTest, ::testing::ValuesIn(VectorLines("bleu.jsonl")),
//                            VectorTestName);
#ifndef EMAR_TESTS_EVAL_METRICS_METRIC_VECTORS_H_
#define EMAR_TESTS_EVAL_METRICS_METRIC_VECTORS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/metrics/metric.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace emar::testing {

// The non-empty lines of testdata/metrics/<file>. A missing or empty file yields one line
// "MISSING <path>" so that the suite fails instead of silently running nothing.
std::vector<std::string> VectorLines(const std::string& file);

// gtest parameter name: the line's "name" with non-alphanumerics as '_', plus the index.
std::string VectorTestName(const ::testing::TestParamInfo<std::string>& info);

// One parsed vector line. Owns its parser, so elements stay valid while it lives.
class VectorLine {
 public:
  static absl::StatusOr<std::unique_ptr<VectorLine>> Parse(const std::string& line);

  simdjson::dom::element root() const { return root_; }
  simdjson::dom::element operator[](const char* key) const { return root_[key].value(); }
  std::string name() const;
  // The line's tolerance override (params.tolerance), else 1e-6.
  double relative_tolerance() const;

 private:
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

// A JSON number, or one of the strings "inf", "-inf", "nan".
double JsonNumber(simdjson::dom::element e);
std::vector<double> JsonNumbers(simdjson::dom::element array);
std::vector<std::string> JsonStrings(simdjson::dom::element array);
// A label rendered the way eval/input renders JSON scalars: strings as-is, integers in
// decimal, booleans as "true"/"false".
std::string JsonLabel(simdjson::dom::element e);

// |actual - expected| <= max(rel * |expected|, 1e-9); NaN matches NaN, inf matches inf.
bool Close(double actual, double expected, double rel = 1e-6);
#define EXPECT_CLOSE(actual, expected, rel)                        \
  EXPECT_TRUE(::emar::testing::Close((actual), (expected), (rel))) \
      << #actual << " = " << (actual) << ", expected " << (expected)

// Scores every example through the Metric interface (ScoreExample, Accumulate with weight 1,
// Finalize with n = number of examples), as the coordinator does. The rows are returned via
// *rows when non-null.
absl::StatusOr<MetricValue> ScoreCorpus(const Metric& metric,
                                        const std::vector<Prediction>& predictions,
                                        const std::vector<Reference>& references,
                                        std::vector<std::vector<double>>* rows = nullptr);

// Predictions with text only, and references from per-example lists of strings.
std::vector<Prediction> TextPredictions(const std::vector<std::string>& texts);
std::vector<Reference> ReferenceLists(simdjson::dom::element lists);

}  // namespace emar::testing

#endif  // EMAR_TESTS_EVAL_METRICS_METRIC_VECTORS_H_
