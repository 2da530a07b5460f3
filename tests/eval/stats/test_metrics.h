// Small Metric implementations for the statistics tests and benchmarks, so eval/stats can be
// tested without the real scorers (eval/metrics). They follow metric.h's contracts:
//   BinaryMeanMetric   one 0/1 column, is_binary(), value = mean          (accuracy-like)
//   MeanMetric         one real column, additive, value = mean            (not binary)
//   RatioMetric        (correct, total) columns, value = sum correct / sum total, undefined
//                      when the total is 0                                (BLEU-ish corpus metric)
//   MacroF1Metric      (predicted id, gold id), uses_labels(), confusion-count accumulator,
//                      value = sklearn macro-F1 over the labels that occur
//   TestBleuMetric     sacrebleu corpus BLEU (13a, exp smoothing, order 4) from 10 columns
//                      (4 matches, 4 totals, hyp_len, ref_len), on a 0-100 scale like sacrebleu;
//                      TestBleuRow() computes a row for plain sentences (letters, digits,
//                      spaces and a final '.'), which is all the significance vectors use.
#ifndef EMAR_TESTS_EVAL_STATS_TEST_METRICS_H_
#define EMAR_TESTS_EVAL_STATS_TEST_METRICS_H_

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "eval/metrics/metric.h"
#include "eval/stats/dataset_rows.h"

namespace emar::stats_test {

class BinaryMeanMetric : public Metric {
 public:
  absl::string_view name() const override { return "test_binary_mean"; }
  Direction direction() const override { return Direction::kHigherIsBetter; }
  std::string signature() const override { return "test_binary_mean"; }
  size_t stats_width() const override { return 1; }
  bool is_binary() const override { return true; }
  absl::Status ScoreExample(const Prediction& p, const Reference& r, LabelTable*,
                            absl::Span<double> row) const override {
    row[0] = (!r.texts.empty() && p.text == r.texts[0]) ? 1.0 : 0.0;
    return absl::OkStatus();
  }
  MetricValue Finalize(absl::Span<const double> acc, size_t, double n) const override {
    if (n <= 0) return MetricValue::Undefined("no examples");
    return MetricValue::Of(acc[0] / n);
  }
};

class MeanMetric : public BinaryMeanMetric {
 public:
  absl::string_view name() const override { return "test_mean"; }
  std::string signature() const override { return "test_mean"; }
  bool is_binary() const override { return false; }
};

class RatioMetric : public Metric {
 public:
  absl::string_view name() const override { return "test_ratio"; }
  Direction direction() const override { return Direction::kHigherIsBetter; }
  std::string signature() const override { return "test_ratio"; }
  size_t stats_width() const override { return 2; }
  absl::Status ScoreExample(const Prediction& p, const Reference& r, LabelTable*,
                            absl::Span<double> row) const override {
    row[0] = (!r.texts.empty() && p.text == r.texts[0]) ? 1.0 : 0.0;
    row[1] = 1.0;
    return absl::OkStatus();
  }
  MetricValue Finalize(absl::Span<const double> acc, size_t, double) const override {
    if (acc[1] == 0) return MetricValue::Undefined("total is 0");
    return MetricValue::Of(acc[0] / acc[1]);
  }
};

class MacroF1Metric : public Metric {
 public:
  absl::string_view name() const override { return "test_macro_f1"; }
  Direction direction() const override { return Direction::kHigherIsBetter; }
  std::string signature() const override { return "test_macro_f1"; }
  size_t stats_width() const override { return 2; }
  bool uses_labels() const override { return true; }
  // Labels here are written as their decimal ids ("0", "1", ...), so no LabelTable (and no
  // link dependency on eval/metrics) is needed.
  absl::Status ScoreExample(const Prediction& p, const Reference& r, LabelTable*,
                            absl::Span<double> row) const override {
    uint32_t pred = 0, gold = 0;
    if (r.texts.size() != 1 || !absl::SimpleAtoi(p.text, &pred) ||
        !absl::SimpleAtoi(r.texts[0], &gold)) {
      return absl::InvalidArgumentError("test_macro_f1 takes decimal label ids");
    }
    row[0] = pred;
    row[1] = gold;
    return absl::OkStatus();
  }
  size_t AccumulatorWidth(size_t num_labels) const override { return num_labels * num_labels; }
  void Accumulate(absl::Span<const double> row, double weight, size_t num_labels,
                  absl::Span<double> acc) const override {
    acc[static_cast<size_t>(row[0]) * num_labels + static_cast<size_t>(row[1])] += weight;
  }
  MetricValue Finalize(absl::Span<const double> acc, size_t num_labels, double n) const override {
    if (n <= 0) return MetricValue::Undefined("no examples");
    double sum = 0;
    int present = 0;
    for (size_t k = 0; k < num_labels; ++k) {
      double tp = acc[k * num_labels + k], predicted = 0, actual = 0;
      for (size_t j = 0; j < num_labels; ++j) {
        predicted += acc[k * num_labels + j];
        actual += acc[j * num_labels + k];
      }
      if (predicted == 0 && actual == 0) continue;
      ++present;
      const double p = predicted > 0 ? tp / predicted : 0;
      const double r = actual > 0 ? tp / actual : 0;
      sum += (p + r > 0) ? 2 * p * r / (p + r) : 0;
    }
    return MetricValue::Of(sum / present);
  }
};

class TestBleuMetric : public Metric {
 public:
  absl::string_view name() const override { return "test_bleu"; }
  Direction direction() const override { return Direction::kHigherIsBetter; }
  std::string signature() const override { return "test_bleu|tok:plain|smooth:exp"; }
  size_t stats_width() const override { return 10; }
  absl::Status ScoreExample(const Prediction& p, const Reference& r, LabelTable*,
                            absl::Span<double> row) const override;
  MetricValue Finalize(absl::Span<const double> acc, size_t, double) const override {
    const double sys_len = acc[8], ref_len = acc[9];
    bool any = false;
    for (int k = 0; k < 4; ++k) any = any || acc[k] > 0;
    if (!any) return MetricValue::Of(0.0);
    double log_sum = 0, smooth = 1;
    for (int k = 0; k < 4; ++k) {
      double p = 0;
      if (acc[4 + k] == 0) break;
      if (acc[k] == 0) {
        smooth *= 2;
        p = 100.0 / (smooth * acc[4 + k]);
      } else {
        p = 100.0 * acc[k] / acc[4 + k];
      }
      log_sum += std::log(p);
    }
    for (int k = 0; k < 4; ++k) {
      if (acc[4 + k] == 0) log_sum += -9999999999.0;
    }
    const double bp = sys_len < ref_len ? (sys_len > 0 ? std::exp(1 - ref_len / sys_len) : 0) : 1;
    return MetricValue::Of(bp * std::exp(log_sum / 4));
  }
};

// Tokens of a plain sentence as sacrebleu's 13a tokenizer gives them: words split on spaces,
// a final '.' after a non-digit becomes its own token. Sentences with anything else are outside
// this helper's contract (false).
inline bool PlainTokens(absl::string_view s, std::vector<std::string>* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' ||
          (c == '.' && i + 1 == s.size() && i > 0 && !std::isdigit(s[i - 1])))) {
      return false;
    }
  }
  out->clear();
  for (absl::string_view w : absl::StrSplit(s, ' ', absl::SkipEmpty())) {
    if (w.size() > 1 && w.back() == '.') {
      out->emplace_back(w.substr(0, w.size() - 1));
      out->emplace_back(".");
    } else {
      out->emplace_back(w);
    }
  }
  return true;
}

// One sentence's 10 BLEU statistics against a single reference; false if either text is not
// plain (see PlainTokens).
inline bool TestBleuRow(absl::string_view hyp, absl::string_view ref, double* row) {
  std::vector<std::string> h, r;
  if (!PlainTokens(hyp, &h) || !PlainTokens(ref, &r)) return false;
  for (int n = 1; n <= 4; ++n) {
    std::map<std::vector<std::string>, int> hc, rc;
    for (size_t i = 0; i + n <= h.size(); ++i) ++hc[{h.begin() + i, h.begin() + i + n}];
    for (size_t i = 0; i + n <= r.size(); ++i) ++rc[{r.begin() + i, r.begin() + i + n}];
    int correct = 0;
    for (const auto& [gram, count] : hc) {
      auto it = rc.find(gram);
      if (it != rc.end()) correct += std::min(count, it->second);
    }
    row[n - 1] = correct;
    row[3 + n] = h.size() >= static_cast<size_t>(n) ? static_cast<double>(h.size() - n + 1) : 0;
  }
  row[8] = static_cast<double>(h.size());
  row[9] = static_cast<double>(r.size());
  return true;
}

inline absl::Status TestBleuMetric::ScoreExample(const Prediction& p, const Reference& r,
                                                 LabelTable*, absl::Span<double> row) const {
  if (r.texts.size() != 1 || !TestBleuRow(p.text, r.texts[0], row.data())) {
    return absl::InvalidArgumentError("test_bleu takes one plain reference and plain text");
  }
  return absl::OkStatus();
}

// Test data that is valid by construction: validated once, failing the test (an uncaught
// exception from StatusOr::value) if it is not.
inline ValidRows MustValidate(DatasetRows rows) {
  return ValidRows::Validate(std::move(rows), "test data").value();
}

}  // namespace emar::stats_test

#endif  // EMAR_TESTS_EVAL_STATS_TEST_METRICS_H_
