#include "eval/input/harness_samples.h"

#include <cmath>
#include <fstream>
#include <string>

#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<HarnessSample> Parse(const std::string& line,
                                    const HarnessSampleFields& fields = HarnessSampleFields()) {
  simdjson::dom::parser parser;
  HarnessSample sample;
  RETURN_IF_ERROR(ParseHarnessSample(parser, line, fields, &sample));
  return sample;
}

TEST(HarnessSamplesTest, HarnessV04Line) {
  ASSERT_OK_AND_ASSIGN(
      HarnessSample s,
      Parse(
          R"({"doc_id": 7, "target": "2", "arguments": {"gen_args_1": {"arg_0": "Q", "arg_1": " no"}, "gen_args_0": {"arg_0": "Q", "arg_1": " yes"}, "gen_args_2": {"arg_0": "Q", "arg_1": "  maybe"}}, "filtered_resps": [["-1.25", "False"], ["-inf", "False"], ["-0.5", "True"]]})"));
  EXPECT_EQ(s.id, "7");
  EXPECT_THAT(s.prediction.choice_loglikelihoods, ElementsAre(-1.25, -INFINITY, -0.5));
  // In gen_args order, one leading space (the default target delimiter) removed.
  EXPECT_THAT(s.prediction.choices, ElementsAre("yes", "no", " maybe"));
  EXPECT_THAT(s.reference.texts, ElementsAre("2"));
}

TEST(HarnessSamplesTest, OlderShapesAndExplicitChoices) {
  HarnessSampleFields fields;
  fields.choices_field = "doc.choices.text";
  fields.id_field = "doc.id";
  ASSERT_OK_AND_ASSIGN(
      HarnessSample s,
      Parse(
          R"({"doc": {"id": "Mercury_1", "choices": {"text": ["dry", "wet"]}}, "target": [0, 1], "arguments": [["c", " dry"], ["c", " wet"]], "filtered_resps": [[[-3, false]], [-2.5, true]]})",
          fields));
  EXPECT_EQ(s.id, "Mercury_1");
  EXPECT_THAT(s.prediction.choice_loglikelihoods, ElementsAre(-3, -2.5));
  EXPECT_THAT(s.prediction.choices, ElementsAre("dry", "wet"));
  EXPECT_THAT(s.reference.texts, ElementsAre("0", "1"));
  ASSERT_OK_AND_ASSIGN(
      HarnessSample bare,
      Parse(
          R"({"doc_id": 1, "target": "Paris", "arguments": [["c", " Paris"]], "filtered_resps": [-0.75]})"));
  EXPECT_THAT(bare.prediction.choice_loglikelihoods, ElementsAre(-0.75));
  EXPECT_THAT(bare.reference.texts, ElementsAre("Paris"));
}

TEST(HarnessSamplesTest, ErrorsNameTheField) {
  EXPECT_THAT(
      Parse(
          R"({"doc_id": 1, "target": "0", "arguments": [], "filtered_resps": [["-1", "x"], ["abc", "False"]]})"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("field 'filtered_resps.1': \"abc\" is not a number")));
  EXPECT_THAT(
      Parse(R"({"doc_id": 1, "target": "0", "filtered_resps": [[-1, true]]})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field 'arguments': missing")));
  EXPECT_THAT(
      Parse(
          R"({"doc_id": 1, "target": "0", "arguments": {"gen_args_1": {"arg_1": " a"}}, "filtered_resps": [[-1, true]]})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("arguments.gen_args_0")));
  EXPECT_THAT(
      Parse(
          R"({"doc_id": 1, "target": {"a": 1}, "arguments": [["c", " a"]], "filtered_resps": [[-1, true]]})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field 'target': expected")));
  EXPECT_THAT(
      Parse(R"({"doc_id": 1, "target": "0", "arguments": [["c", " a"]], "filtered_resps": "x"})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field 'filtered_resps'")));
  EXPECT_THAT(
      Parse(
          R"({"doc_id": 1.5, "target": "0", "arguments": [["c", " a"]], "filtered_resps": [[-1, true]]})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("field 'doc_id'")));
  HarnessSampleFields fields;
  fields.choices_field = "doc.choices";
  EXPECT_THAT(
      Parse(
          R"({"doc_id": 1, "doc": {"choices": ["a", 2]}, "target": "0", "filtered_resps": [[-1, true], [-2, false]]})",
          fields),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("field 'doc.choices.1': expected a string")));
  EXPECT_THAT(Parse("{\"doc_id\": 1,"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed JSON")));
}

TEST(HarnessSamplesTest, FileErrorsNameFileAndLine) {
  const std::string path = ::testing::TempDir() + "/samples_bad_2026.jsonl";
  {
    std::ofstream out(path);
    out << R"({"doc_id": 0, "target": "0", "arguments": [["c", " a"]], "filtered_resps": [[-1, true]]})"
        << "\n\n"
        << R"({"doc_id": 1, "target": "0", "arguments": [["c", " a"]]})"
        << "\n";
  }
  EXPECT_THAT(ReadHarnessSamples(path, HarnessSampleFields()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(path + ":3: field 'filtered_resps': missing")));
}

}  // namespace
}  // namespace emar
