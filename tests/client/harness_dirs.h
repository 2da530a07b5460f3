// lm-evaluation-harness output directories written by tests, as the harness's EvaluationTracker
// writes them: results_<date>.json (configs.<task>.output_type, a NaN as Python's json.dumps
// writes one) and samples_<task>_<date>.jsonl (doc_id, doc, target as str(), arguments as
// gen_args_i/arg_j, resps, filtered_resps, per-metric fields as the harness computes them).
#ifndef EMAR_TESTS_CLIENT_HARNESS_DIRS_H_
#define EMAR_TESTS_CLIENT_HARNESS_DIRS_H_

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

// A multiple-choice sample over "red", "blue", "green" with gold index id % 3. Right: the gold
// choice has the highest log-likelihood; wrong: the next choice has. `acc` and `acc_norm` are the
// harness's (argmax of the log-likelihoods, and of them divided by the choice's length).
inline std::string ChoiceSample(int id, bool right, double* acc, double* acc_norm) {
  const std::vector<std::string> choices = {"red", "blue", "green"};
  const int gold = id % 3, other = (gold + 1) % 3;
  std::vector<double> ll(3, -3.0);
  ll[gold] = right ? -0.5 : -2.0;
  ll[other] = right ? -2.5 : -1.0;
  int best = 0, best_norm = 0;
  for (int k = 1; k < 3; ++k) {
    if (ll[k] > ll[best]) best = k;
    if (ll[k] / choices[k].size() > ll[best_norm] / choices[best_norm].size()) best_norm = k;
  }
  *acc = best == gold;
  *acc_norm = best_norm == gold;
  std::vector<std::string> args, resps, filtered;
  for (int k = 0; k < 3; ++k) {
    args.push_back(absl::StrCat("\"gen_args_", k, "\": {\"arg_0\": \"Sky?\", \"arg_1\": \" ",
                                choices[k], "\"}"));
    const std::string pair =
        absl::StrCat("[\"", ll[k], "\", \"", k == best ? "True" : "False", "\"]");
    resps.push_back(absl::StrCat("[", pair, "]"));
    filtered.push_back(pair);
  }
  return absl::StrCat(R"({"doc_id": )", id,
                      R"(, "doc": {"choices": {"text": ["red", "blue", "green"]}}, "target": ")",
                      gold, R"(", "arguments": {)", absl::StrJoin(args, ", "), R"(}, "resps": [)",
                      absl::StrJoin(resps, ", "), R"(], "filtered_resps": [)",
                      absl::StrJoin(filtered, ", "), R"(], "acc": )", *acc, R"(, "acc_norm": )",
                      *acc_norm, "}\n");
}

// Writes one model's directory with `docs` docs per task; returns the harness's score of each
// (task, metric) ("gsm8k/exact_match", "arc_easy/mc_acc", "arc_easy/mc_acc_norm").
inline absl::StatusOr<std::map<std::string, double>> WriteHarnessDir(
    const std::string& dir, const std::vector<HarnessTask>& tasks, int model = 0, int docs = 3,
    const std::string& date = kHarnessDate) {
  RETURN_IF_ERROR(MakeDirs(dir));
  std::map<std::string, double> scores;
  std::vector<std::string> configs;
  for (const HarnessTask& t : tasks) {
    configs.push_back(absl::StrCat("\"", t.name, "\": {\"task\": \"", t.name,
                                   "\", \"output_type\": \"", t.output_type,
                                   "\", \"num_fewshot\": 0}"));
    std::string samples;
    double sum = 0, sum_norm = 0;
    for (int id = 0; id < docs; ++id) {
      const bool right = AnswersRight(model, id);
      if (t.output_type == "multiple_choice") {
        double acc, acc_norm;
        samples += ChoiceSample(id, right, &acc, &acc_norm);
        sum += acc;
        sum_norm += acc_norm;
      } else {
        samples += GenerationSample(id, right);
        sum += right;
      }
    }
    if (t.output_type == "multiple_choice") {
      scores[t.name + "/mc_acc"] = sum / docs;
      scores[t.name + "/mc_acc_norm"] = sum_norm / docs;
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
