#include "eval/metrics/multiple_choice_scorer.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "eval/input/harness_samples.h"
#include "eval/metrics/metric_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::ScoreCorpus;
using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

TEST(HarnessArgmaxTest, FirstMaximumAndNanAsNumpy) {
  EXPECT_EQ(HarnessArgmax(std::vector<double>{-1, -0.5, -0.5}), 1u);
  EXPECT_EQ(HarnessArgmax(std::vector<double>{-kInf, -kInf}), 0u);
  EXPECT_EQ(HarnessArgmax(std::vector<double>{-kInf, -3}), 1u);
  EXPECT_EQ(HarnessArgmax(std::vector<double>{-1, kNan, 0, kNan}), 1u);
  EXPECT_EQ(HarnessArgmax(std::vector<double>{kNan, 0}), 0u);
}

TEST(HarnessGoldTest, IndexListOrText) {
  const std::vector<std::string> choices = {"A", "B", "7", "B"};
  EXPECT_THAT(HarnessGoldIndices("2", choices), ElementsAre(2));  // an index, not the text "7"
  EXPECT_THAT(HarnessGoldIndices("4", choices), ElementsAre(-1));
  EXPECT_THAT(HarnessGoldIndices("-1", choices), ElementsAre(-1));
  EXPECT_THAT(HarnessGoldIndices("B", choices), ElementsAre(1));  // the first equal choice
  EXPECT_THAT(HarnessGoldIndices("b", choices), ElementsAre(-1));
  EXPECT_THAT(HarnessGoldIndices("[0, 3]", choices), ElementsAre(0, 3));
  EXPECT_THAT(HarnessGoldIndices("[1, 9]", choices), ElementsAre(1, -1));
  EXPECT_THAT(HarnessGoldIndices("[]", choices), ElementsAre());
  EXPECT_THAT(HarnessGoldIndices("[x]", choices), ElementsAre(-1));  // not a list of ints: text
}

Prediction Mc(std::vector<double> lls, std::vector<std::string> choices) {
  Prediction p;
  p.choice_loglikelihoods = std::move(lls);
  p.choices = std::move(choices);
  return p;
}

double Row(const Metric& m, const Prediction& p, const std::string& target) {
  std::vector<double> row(1, -1);
  EXPECT_OK(m.ScoreExample(p, Reference{{target}}, nullptr, absl::MakeSpan(row)));
  return row[0];
}

TEST(MultipleChoiceMetricTest, AccAndAccNorm) {
  const MultipleChoiceMetric acc(false), norm(true);
  // Raw argmax picks the short choice; per character the long one is likelier.
  const Prediction p = Mc({-5, -6, -9}, {"Paris", "Copenhagen", "Rome"});
  EXPECT_EQ(Row(acc, p, "0"), 1);
  EXPECT_EQ(Row(norm, p, "0"), 0);
  EXPECT_EQ(Row(norm, p, "1"), 1);
  EXPECT_EQ(Row(norm, p, "Copenhagen"), 1);
  // Lengths are code points: "thé" is 3 characters (4 bytes).
  const Prediction q = Mc({-12, -3.3}, {"café au lait", "thé"});
  EXPECT_EQ(Row(norm, q, "0"), 1);
  EXPECT_EQ(Row(acc, q, "1"), 1);
  // Several gold texts: correct if any matches.
  std::vector<double> row(1);
  ASSERT_OK(acc.ScoreExample(p, Reference{{"Rome", "Paris"}}, nullptr, absl::MakeSpan(row)));
  EXPECT_EQ(row[0], 1);
  EXPECT_TRUE(acc.is_binary());
  EXPECT_EQ(norm.name(), "mc_acc_norm");
  EXPECT_EQ(norm.signature(),
            "mc_acc_norm|lm-eval:acc_norm|len:chars|argmax:first|version:emar-0.1");
}

TEST(MultipleChoiceMetricTest, ErrorsNameTheField) {
  const MultipleChoiceMetric acc(false);
  std::vector<double> row(1);
  EXPECT_THAT(acc.ScoreExample(Prediction{"A"}, Reference{{"0"}}, nullptr, absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("filtered_resps")));
  EXPECT_THAT(acc.ScoreExample(Mc({-1, -2, -3}, {"a", "b"}), Reference{{"0"}}, nullptr,
                               absl::MakeSpan(row)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("choices: 2 choice texts for 3 log-likelihoods")));
}

// Harness-shaped samples files, one per task, in the shapes several harness versions write.
// Each line's `doc` carries what doc_to_choice and doc_to_target read; harness_mc_reference.py
// scores the docs by process_results' rules and the test compares per-task numbers.
struct Task {
  const char* name;
  const char* choices_key;  // in the doc, for the reference script
  const char* gold_key;
  HarnessSampleFields fields;
  std::vector<std::string> lines;
  double hand_acc, hand_acc_norm;  // computed by hand from the lines below
};

std::vector<Task> Tasks() {
  HarnessSampleFields v04;  // harness 0.4: str() responses, gen_args arguments, str(target)
  HarnessSampleFields explicit_choices;
  explicit_choices.choices_field = "doc.options";
  return {
      {"arc_like",
       "choices.text",
       "gold",
       v04,
       {
           // acc_norm changes the argmax (Copenhagen is likelier per character); gold 1.
           R"({"doc_id": 0, "doc": {"choices": {"text": ["Paris", "Copenhagen", "Rome"]}, "gold": 1}, "target": "1", "arguments": {"gen_args_0": {"arg_0": "Q: ? A:", "arg_1": " Paris"}, "gen_args_1": {"arg_0": "Q: ? A:", "arg_1": " Copenhagen"}, "gen_args_2": {"arg_0": "Q: ? A:", "arg_1": " Rome"}}, "filtered_resps": [["-5.0", "True"], ["-6.0", "False"], ["-9.0", "False"]]})",
           // A raw tie: the first wins (gold 0); normalized, the long choice wins.
           R"({"doc_id": 1, "doc": {"choices": {"text": ["ab", "ab", "abcd"]}, "gold": 0}, "target": "0", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": " ab"}, "gen_args_1": {"arg_0": "c", "arg_1": " ab"}, "gen_args_2": {"arg_0": "c", "arg_1": " abcd"}}, "filtered_resps": [["-3.0", "True"], ["-3.0", "False"], ["-4.0", "False"]]})",
           R"({"doc_id": 2, "doc": {"choices": {"text": ["yes", "no"]}, "gold": 1}, "target": "1", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": " yes"}, "gen_args_1": {"arg_0": "c", "arg_1": " no"}}, "filtered_resps": [["-2.0", "False"], ["-1.0", "True"]]})",
           // A normalized tie (-1 and -1): the first wins, which is not the gold.
           R"({"doc_id": 3, "doc": {"choices": {"text": ["abcd", "ab"]}, "gold": 1}, "target": "1", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": " abcd"}, "gen_args_1": {"arg_0": "c", "arg_1": " ab"}}, "filtered_resps": [["-4.0", "False"], ["-2.0", "True"]]})",
           R"({"doc_id": 4, "doc": {"choices": {"text": ["x", "y"]}, "gold": 0}, "target": "0", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": " x"}, "gen_args_1": {"arg_0": "c", "arg_1": " y"}}, "filtered_resps": [["-inf", "False"], ["-0.5", "True"]]})",
           // A gold index past the choices never matches.
           R"({"doc_id": 5, "doc": {"choices": {"text": ["x", "y", "z"]}, "gold": 5}, "target": "5", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": " x"}, "gen_args_1": {"arg_0": "c", "arg_1": " y"}, "gen_args_2": {"arg_0": "c", "arg_1": " z"}}, "filtered_resps": [["-1.0", "True"], ["-2.0", "False"], ["-3.0", "False"]]})",
       },
       3.0 / 6,
       2.0 / 6},
      {"hellaswag_like",
       "endings",
       "label",
       v04,
       {
           // Harness 0.3-style: numbers, [[context, continuation], ...], integer target.
           R"({"doc_id": 0, "doc": {"endings": ["a long ending here", "short", "medium one", "x"], "label": 0}, "target": 0, "arguments": [["ctx", " a long ending here"], ["ctx", " short"], ["ctx", " medium one"], ["ctx", " x"]], "filtered_resps": [[-10.0, false], [-12.5, false], [-11.0, false], [-30.0, false]]})",
           R"({"doc_id": 1, "doc": {"endings": ["this ending is quite a bit longer than others", "no", "maybe so", "perhaps"], "label": 0}, "target": 0, "arguments": [["ctx", " this ending is quite a bit longer than others"], ["ctx", " no"], ["ctx", " maybe so"], ["ctx", " perhaps"]], "filtered_resps": [[-20.0, false], [-9.0, true], [-15.0, false], [-16.0, false]]})",
           // Responses nested one level deeper, as `resps`.
           R"({"doc_id": 2, "doc": {"endings": ["aa", "b"], "label": 1}, "target": 1, "arguments": [["ctx", " aa"], ["ctx", " b"]], "filtered_resps": [[[-1.0, true]], [[-2.0, false]]]})",
           // Lengths in code points: per byte the argmax would differ.
           R"({"doc_id": 3, "doc": {"endings": ["café au lait", "thé"], "label": 0}, "target": 0, "arguments": [["ctx", " café au lait"], ["ctx", " thé"]], "filtered_resps": [[-12.0, false], [-3.3, true]]})",
       },
       1.0 / 4,
       3.0 / 4},
      {"text_target",
       "options",
       "answer",
       explicit_choices,
       {
           R"({"doc_id": "a", "doc": {"options": ["red", "green", "blue"], "answer": "blue"}, "target": "blue", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": ": red"}, "gen_args_1": {"arg_0": "c", "arg_1": ": green"}, "gen_args_2": {"arg_0": "c", "arg_1": ": blue"}}, "filtered_resps": [["-3.0", "False"], ["-2.0", "False"], ["-1.0", "True"]]})",
           R"({"doc_id": "b", "doc": {"options": ["red", "green", "blue"], "answer": "purple"}, "target": "purple", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": ": red"}, "gen_args_1": {"arg_0": "c", "arg_1": ": green"}, "gen_args_2": {"arg_0": "c", "arg_1": ": blue"}}, "filtered_resps": [["-3.0", "False"], ["-2.0", "False"], ["-1.0", "True"]]})",
           R"({"doc_id": "c", "doc": {"options": ["red", "green", "blue"], "answer": "green"}, "target": "green", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": ": red"}, "gen_args_1": {"arg_0": "c", "arg_1": ": green"}, "gen_args_2": {"arg_0": "c", "arg_1": ": blue"}}, "filtered_resps": [["-1.0", "True"], ["-1.1", "False"], ["-5.0", "False"]]})",
       },
       1.0 / 3,
       2.0 / 3},
      {"multiple_targets",
       "choices",
       "golds",
       v04,
       {
           R"({"doc_id": 0, "doc": {"choices": ["p", "q", "r"], "golds": [0, 2]}, "target": "[0, 2]", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": " p"}, "gen_args_1": {"arg_0": "c", "arg_1": " q"}, "gen_args_2": {"arg_0": "c", "arg_1": " r"}}, "filtered_resps": [["-1.0", "False"], ["-2.0", "False"], ["-0.5", "True"]]})",
           R"({"doc_id": 1, "doc": {"choices": ["p", "q", "r"], "golds": [0, 2]}, "target": "[0, 2]", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": " p"}, "gen_args_1": {"arg_0": "c", "arg_1": " q"}, "gen_args_2": {"arg_0": "c", "arg_1": " r"}}, "filtered_resps": [["-3.0", "False"], ["-0.2", "True"], ["-0.5", "False"]]})",
       },
       1.0 / 2,
       1.0 / 2},
  };
}

std::string WriteTask(const Task& task) {
  const std::string path = ::testing::TempDir() + "/samples_" + task.name + "_2026.jsonl";
  std::ofstream out(path);
  for (const std::string& line : task.lines) out << line << "\n";
  return path;
}

// Runs harness_mc_reference.py on the file; returns its {"acc", "acc_norm"}.
std::pair<double, double> HarnessNumbers(const std::string& path, const Task& task) {
  const std::string cmd = std::string("/usr/bin/python3 ") + EMAR_SOURCE_DIR +
                          "/tests/eval/metrics/harness_mc_reference.py " + path + " " +
                          task.choices_key + " " + task.gold_key;
  FILE* pipe = popen(cmd.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << cmd;
  std::string out;
  char buf[256];
  while (pipe != nullptr && fgets(buf, sizeof(buf), pipe) != nullptr) out += buf;
  EXPECT_EQ(pipe == nullptr ? -1 : pclose(pipe), 0) << cmd << "\n" << out;
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(out).get(e)) {
    ADD_FAILURE() << "unreadable output of " << cmd << ": " << out;
    return {-1, -1};
  }
  return {e["acc"].get_double().value(), e["acc_norm"].get_double().value()};
}

class HarnessTaskTest : public ::testing::TestWithParam<Task> {};

TEST_P(HarnessTaskTest, PerTaskNumbersEqualTheHarnesss) {
  const Task& task = GetParam();
  const std::string path = WriteTask(task);
  ASSERT_OK_AND_ASSIGN(std::vector<HarnessSample> samples, ReadHarnessSamples(path, task.fields));
  std::vector<Prediction> predictions;
  std::vector<Reference> references;
  for (const HarnessSample& s : samples) {
    predictions.push_back(s.prediction);
    references.push_back(s.reference);
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> acc, MakeMetric("mc_acc"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> norm, MakeMetric("mc_acc_norm"));
  ASSERT_OK_AND_ASSIGN(MetricValue acc_value, ScoreCorpus(*acc, predictions, references));
  ASSERT_OK_AND_ASSIGN(MetricValue norm_value, ScoreCorpus(*norm, predictions, references));
  const auto [harness_acc, harness_acc_norm] = HarnessNumbers(path, task);
  EXPECT_DOUBLE_EQ(*acc_value.value, harness_acc);
  EXPECT_DOUBLE_EQ(*norm_value.value, harness_acc_norm);
  EXPECT_DOUBLE_EQ(*acc_value.value, task.hand_acc);
  EXPECT_DOUBLE_EQ(*norm_value.value, task.hand_acc_norm);
}

INSTANTIATE_TEST_SUITE_P(Tasks, HarnessTaskTest, ::testing::ValuesIn(Tasks()),
                         [](const ::testing::TestParamInfo<Task>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace emar
