// lm-evaluation-harness output directories written by tests, as the harness's EvaluationTracker
// writes them: results_<date>.json (configs.<task>.output_type, a NaN as Python's json.dumps
// writes one) and samples_<task>_<date>.jsonl (doc_id, doc, target as str(), arguments as
// gen_args_i/arg_j, resps, filtered_resps, per-metric fields as the harness computes them).
#ifndef EMAR_TESTS_CLIENT_HARNESS_DIRS_H_
#define EMAR_TESTS_CLIENT_HARNESS_DIRS_H_

#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace emar::testing {

constexpr char kHarnessDate[] = "2026-11-30T09-15-02.123456";

struct HarnessTask {
  std::string name;
  std::string output_type;  // generate_until or multiple_choice (others: an empty samples line)
  // multiple_choice: the choices' texts (default "red", "blue", "green"), which the samples carry
  // in doc.choices.text and as the continuations " <choice>" of `arguments`.
  std::vector<std::string> choices = {};
};

// Model `model` answers doc i wrongly when (i + model) % (model + 2) == 0: the base (0) gets half
// right, model 1 two thirds, model 2 three quarters.
inline bool AnswersRight(int model, int doc) { return (doc + model) % (model + 2) != 0; }

// A generation sample: the gold answer is "4"; a wrong model says "5".
inline std::string GenerationSample(int id, bool right) {
  const std::string answer = right ? "4" : "5";
  return absl::StrCat(R"({"doc_id": )", id, R"(, "doc": {"question": "q)", id,
                      R"(", "answer": "#### 4"}, "target": "4", "arguments": {"gen_args_0": )",
                      R"({"arg_0": "Question: q?\nAnswer:", "arg_1": {"until": ["Question:"]}}}, )",
                      R"("resps": [[")", answer, R"("]], "filtered_resps": [")", answer,
                      R"("], "exact_match": )", right ? "1.0" : "0.0", "}\n");
}

// Python's len(str): code points of UTF-8 text.
inline double PythonLen(const std::string& text) {
  double n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

// numpy.argmax of values[k] / lengths[k] (the first maximum wins).
inline int HarnessArgmaxOver(const std::vector<double>& values,
                             const std::vector<double>& lengths) {
  int best = 0;
  for (int k = 1; k < static_cast<int>(values.size()); ++k) {
    if (values[k] / lengths[k] > values[best] / lengths[best]) best = k;
  }
  return best;
}

// The harness's per-sample multiple-choice numbers (ConfigurableTask.process_results): acc is the
// argmax of the log-likelihoods, acc_norm of them divided by len(choice) (code points), and
// acc_bytes (a metric EMAR does not offer, kept to show the two lengths differ) by UTF-8 bytes.
struct ChoiceScores {
  double acc = 0, acc_norm = 0, acc_bytes = 0;
};

// A multiple-choice sample over `choices` with gold index id % size. The log-likelihoods vary
// with the doc and the choice; a right model adds 4 to the gold choice's, a wrong one to the next
// choice's. They are written as harness 0.4 writes them (str of each [ll, is_greedy] pair) and
// the scores are computed from the values as written.
inline std::string ChoiceSample(int id, bool right, const std::vector<std::string>& choices,
                                ChoiceScores* scores) {
  const int n = static_cast<int>(choices.size());
  const int gold = id % n, favoured = right ? gold : (gold + 1) % n;
  std::vector<double> ll(n), chars(n), bytes(n), ones(n, 1.0);
  std::vector<std::string> written(n);
  for (int k = 0; k < n; ++k) {
    const double raw = -(2.0 + ((id * 7 + k * 5) % 11) * 0.75) + (k == favoured ? 4.0 : 0.0);
    written[k] = absl::StrCat(raw);
    ll[k] = std::strtod(written[k].c_str(), nullptr);
    chars[k] = PythonLen(choices[k]);
    bytes[k] = static_cast<double>(choices[k].size());
  }
  const int best = HarnessArgmaxOver(ll, ones);
  scores->acc = best == gold;
  scores->acc_norm = HarnessArgmaxOver(ll, chars) == gold;
  scores->acc_bytes = HarnessArgmaxOver(ll, bytes) == gold;
  std::vector<std::string> args, resps, filtered, quoted;
  for (int k = 0; k < n; ++k) {
    quoted.push_back(absl::StrCat("\"", choices[k], "\""));
    args.push_back(absl::StrCat("\"gen_args_", k, "\": {\"arg_0\": \"Sky?\", \"arg_1\": \" ",
                                choices[k], "\"}"));
    const std::string pair =
        absl::StrCat("[\"", written[k], "\", \"", k == best ? "True" : "False", "\"]");
    resps.push_back(absl::StrCat("[", pair, "]"));
    filtered.push_back(pair);
  }
  return absl::StrCat(R"({"doc_id": )", id, R"(, "doc": {"choices": {"text": [)",
                      absl::StrJoin(quoted, ", "), R"(]}}, "target": ")", gold,
                      R"(", "arguments": {)", absl::StrJoin(args, ", "), R"(}, "resps": [)",
                      absl::StrJoin(resps, ", "), R"(], "filtered_resps": [)",
                      absl::StrJoin(filtered, ", "), R"(], "acc": )", scores->acc,
                      R"(, "acc_norm": )", scores->acc_norm, "}\n");
}

// Writes one model's directory with `docs` docs per task; returns the harness's score of each
// (task, metric) ("gsm8k/exact_match", "arc_easy/mc_acc", "arc_easy/mc_acc_norm"). `acc_bytes`,
// when given, receives each multiple-choice task's acc_bytes.
inline absl::StatusOr<std::map<std::string, double>> WriteHarnessDir(
    const std::string& dir, const std::vector<HarnessTask>& tasks, int model = 0, int docs = 3,
    const std::string& date = kHarnessDate, std::map<std::string, double>* acc_bytes = nullptr) {
  RETURN_IF_ERROR(MakeDirs(dir));
  std::map<std::string, double> scores;
  std::vector<std::string> configs;
  for (const HarnessTask& t : tasks) {
    configs.push_back(absl::StrCat("\"", t.name, "\": {\"task\": \"", t.name,
                                   "\", \"output_type\": \"", t.output_type,
                                   "\", \"num_fewshot\": 0}"));
    std::string samples;
    double sum = 0, sum_norm = 0, sum_bytes = 0;
    const std::vector<std::string> choices =
        t.choices.empty() ? std::vector<std::string>{"red", "blue", "green"} : t.choices;
    for (int id = 0; id < docs; ++id) {
      const bool right = AnswersRight(model, id);
      if (t.output_type == "multiple_choice") {
        ChoiceScores scores;
        samples += ChoiceSample(id, right, choices, &scores);
        sum += scores.acc;
        sum_norm += scores.acc_norm;
        sum_bytes += scores.acc_bytes;
      } else {
        samples += GenerationSample(id, right);
        sum += right;
      }
    }
    if (t.output_type == "multiple_choice") {
      scores[t.name + "/mc_acc"] = sum / docs;
      scores[t.name + "/mc_acc_norm"] = sum_norm / docs;
      if (acc_bytes != nullptr) (*acc_bytes)[t.name] = sum_bytes / docs;
    } else {
      scores[t.name + "/exact_match"] = sum / docs;
    }
    RETURN_IF_ERROR(
        WriteFileAtomically(absl::StrCat(dir, "/samples_", t.name, "_", date, ".jsonl"), samples));
  }
  RETURN_IF_ERROR(WriteFileAtomically(
      absl::StrCat(dir, "/results_", date, ".json"),
      absl::StrCat("{\"results\": {\"gsm8k\": {\"exact_match,strict-match\": 0.5, "
                   "\"exact_match_stderr,strict-match\": NaN}}, \"configs\": {",
                   absl::StrJoin(configs, ", "), "}, \"model_name\": \"m\"}")));
  return scores;
}

}  // namespace emar::testing

#endif  // EMAR_TESTS_CLIENT_HARNESS_DIRS_H_
