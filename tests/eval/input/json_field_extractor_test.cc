#include "eval/input/json_field_extractor.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eval/input/input_test_util.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct PredictionLine {
  std::string id;
  Prediction prediction;
};

absl::StatusOr<PredictionLine> ExtractPrediction(const std::string& line,
                                                 const FieldConfig& config = {}) {
  ASSIGN_OR_RETURN(JsonFieldExtractor ex,
                   JsonFieldExtractor::Create(config, JsonFieldExtractor::Mode::kPredictions));
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(line);
  PredictionLine out;
  RETURN_IF_ERROR(ex.Extract(parser, padded, &out.id, &out.prediction, nullptr));
  return out;
}

absl::StatusOr<std::vector<std::string>> ExtractReferences(const std::string& line,
                                                           const FieldConfig& config = {}) {
  ASSIGN_OR_RETURN(JsonFieldExtractor ex,
                   JsonFieldExtractor::Create(config, JsonFieldExtractor::Mode::kReferences));
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(line);
  std::string id;
  Reference ref;
  RETURN_IF_ERROR(ex.Extract(parser, padded, &id, nullptr, &ref));
  return ref.texts;
}

std::string PredictionText(const std::string& json_value) {
  absl::StatusOr<PredictionLine> p =
      ExtractPrediction("{\"id\": 1, \"prediction\": " + json_value + "}");
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? p->prediction.text : "<error>";
}

std::string IdText(const std::string& json_value) {
  absl::StatusOr<PredictionLine> p =
      ExtractPrediction("{\"id\": " + json_value + ", \"prediction\": \"x\"}");
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? p->id : "<error>";
}

TEST(JsonFieldExtractorTest, PlainPrediction) {
  ASSERT_OK_AND_ASSIGN(PredictionLine p,
                       ExtractPrediction(R"({"id": "r17", "prediction": "positive"})"));
  EXPECT_EQ(p.id, "r17");
  EXPECT_EQ(p.prediction.text, "positive");
  EXPECT_FALSE(p.prediction.has_logprobs);
}

TEST(JsonFieldExtractorTest, StringsAreUnescaped) {
  EXPECT_EQ(PredictionText(R"("caf\u00e9 \"ok\"\n\ud83d\ude00")"),
            "caf\xC3\xA9 \"ok\"\n\xF0\x9F\x98\x80");
  EXPECT_EQ(PredictionText("\"\""), "");
}

TEST(JsonFieldExtractorTest, CanonicalNumbersAndBooleans) {
  EXPECT_EQ(PredictionText("1"), "1");
  EXPECT_EQ(PredictionText("1.0"), "1");
  EXPECT_EQ(PredictionText("1e0"), "1");
  EXPECT_EQ(PredictionText("1E2"), "100");
  EXPECT_EQ(PredictionText("-3"), "-3");
  EXPECT_EQ(PredictionText("-0.0"), "0");
  EXPECT_EQ(PredictionText("2.5"), "2.5");
  EXPECT_EQ(PredictionText("0.1"), "0.1");
  EXPECT_EQ(PredictionText("2.50"), "2.5");
  EXPECT_EQ(PredictionText("0.30000000000000004"), "0.30000000000000004");
  EXPECT_EQ(PredictionText("1e20"), "1e+20");
  EXPECT_EQ(PredictionText("18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(PredictionText("123456789012345678901234567890"), "123456789012345678901234567890");
  EXPECT_EQ(PredictionText("true"), "true");
  EXPECT_EQ(PredictionText("false"), "false");
}

TEST(JsonFieldExtractorTest, AppendCanonicalNumber) {
  std::string s;
  AppendCanonicalNumber(3.0, &s);
  EXPECT_EQ(s, "3");
  s.clear();
  AppendCanonicalNumber(1.0 / 3, &s);
  EXPECT_EQ(std::stod(s), 1.0 / 3);
  EXPECT_EQ(s, "0.3333333333333333");
}

TEST(JsonFieldExtractorTest, IdsAreStringsOrIntegers) {
  EXPECT_EQ(IdText("\"r1\""), "r1");
  EXPECT_EQ(IdText("17"), "17");
  EXPECT_EQ(IdText("-4"), "-4");
  EXPECT_EQ(IdText("18446744073709551615"), "18446744073709551615");
  EXPECT_THAT(ExtractPrediction(R"({"id": 1.5, "prediction": "x"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'id': expected a string or integer, got number 1.5"));
  EXPECT_THAT(ExtractPrediction(R"({"id": true, "prediction": "x"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'id': expected a string or integer, got boolean"));
  EXPECT_THAT(ExtractPrediction(R"({"id": null, "prediction": "x"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got null")));
}

TEST(JsonFieldExtractorTest, PredictionOfWrongType) {
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": {"text": "x"}})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'prediction': expected a string, number or boolean, got object"));
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": ["x"]})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got array")));
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": null})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got null")));
}

TEST(JsonFieldExtractorTest, MissingFields) {
  EXPECT_THAT(ExtractPrediction(R"({"prediction": "x"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, "missing field 'id'"));
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "predictions": "x"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, "missing field 'prediction'"));
  EXPECT_THAT(ExtractPrediction("{}"),
              StatusIs(absl::StatusCode::kInvalidArgument, "missing field 'id'"));
}

TEST(JsonFieldExtractorTest, MalformedJson) {
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": "x")"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed JSON")));
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": "x)"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed JSON")));
  EXPECT_THAT(ExtractPrediction(R"({"id": "a" "prediction": "x"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed JSON")));
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": tru})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed JSON")));
  EXPECT_THAT(ExtractPrediction("not json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("malformed JSON")));
}

TEST(JsonFieldExtractorTest, ContentAfterTheObject) {
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": "x"} {"id": "b"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed JSON at column 32: content after the JSON object"));
  // simdjson calls these "ended early in the middle of an object or array" at column 1.
  for (const std::string& tail : {" garbage", "x", " 5", "]", ",", " [1]", "}"}) {
    EXPECT_THAT(
        ExtractPrediction(R"({"id": "a", "prediction": "x"})" + tail),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("content after the JSON object")))
        << tail;
  }
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": "x"} garbage)"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed JSON at column 32: content after the JSON object"));
  EXPECT_THAT(ExtractPrediction(std::string(R"({"id": "a", "prediction": "x"})") + '\0'),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed JSON at column 31: a NUL byte after the JSON object"));
  EXPECT_THAT(ExtractPrediction(std::string(R"({"id": "a", "prediction": "x"} )") + '\0' + "zz"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed JSON at column 32: a NUL byte after the JSON object"));
}

TEST(JsonFieldExtractorTest, LineEndingInsideAnObjectSaysWhatIsMissing) {
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": "x")"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "malformed JSON at column 30: the line ends inside an object (a '}' is "
                       "missing)"));
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": ["x")"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the line ends inside an array (a ']' is missing)")));
}

TEST(JsonFieldExtractorTest, NotAnObject) {
  EXPECT_THAT(ExtractPrediction(R"(["a", "x"])"),
              StatusIs(absl::StatusCode::kInvalidArgument, "expected a JSON object, got array"));
  EXPECT_THAT(ExtractPrediction("\"a\""),
              StatusIs(absl::StatusCode::kInvalidArgument, "expected a JSON object, got string"));
}

TEST(JsonFieldExtractorTest, InvalidUtf8) {
  EXPECT_THAT(ExtractPrediction("{\"id\": \"a\", \"prediction\": \"caf\xE9\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument, "invalid UTF-8"));
  // Also in a field that is never read.
  EXPECT_THAT(ExtractPrediction("{\"id\": \"a\", \"prediction\": \"x\", \"n\": \"\xC3\x28\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument, "invalid UTF-8"));
}

TEST(JsonFieldExtractorTest, DuplicateConfiguredKey) {
  EXPECT_THAT(ExtractPrediction(R"({"id": "a", "prediction": "x", "prediction": "y"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'prediction': appears twice in the line"));
}

TEST(JsonFieldExtractorTest, OtherFieldsAreSkipped) {
  ASSERT_OK_AND_ASSIGN(
      PredictionLine p,
      ExtractPrediction(
          R"({"meta": {"a": [1, {"b": null}]}, "prediction": "y", "x": [[]], "id": "k"})"));
  EXPECT_EQ(p.id, "k");
  EXPECT_EQ(p.prediction.text, "y");
}

TEST(JsonFieldExtractorTest, DottedPathsIntoObjectsAndArrays) {
  FieldConfig config;
  config.id_field = "doc.id";
  config.prediction_field = "filtered_resps.0";
  ASSERT_OK_AND_ASSIGN(
      PredictionLine p,
      ExtractPrediction(R"({"doc": {"text": "t", "id": 7}, "filtered_resps": ["pos", "neg"]})",
                        config));
  EXPECT_EQ(p.id, "7");
  EXPECT_EQ(p.prediction.text, "pos");

  config.prediction_field = "resps.0.1";
  ASSERT_OK_AND_ASSIGN(
      p, ExtractPrediction(R"({"doc": {"id": "q"}, "resps": [["a", "b"], ["c"]]})", config));
  EXPECT_EQ(p.prediction.text, "b");

  // A numeric part also names an object key.
  config.prediction_field = "by_index.0";
  ASSERT_OK_AND_ASSIGN(p,
                       ExtractPrediction(R"({"doc": {"id": 1}, "by_index": {"0": 2.0}})", config));
  EXPECT_EQ(p.prediction.text, "2");
}

TEST(JsonFieldExtractorTest, DottedPathErrors) {
  FieldConfig config;
  config.prediction_field = "filtered_resps.0";
  EXPECT_THAT(ExtractPrediction(R"({"id": 1, "filtered_resps": []})", config),
              StatusIs(absl::StatusCode::kInvalidArgument, "missing field 'filtered_resps.0'"));
  EXPECT_THAT(ExtractPrediction(R"({"id": 1, "filtered_resps": "pos"})", config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'filtered_resps': expected an object or array to look into, "
                       "got string"));
  EXPECT_THAT(ExtractPrediction(R"({"id": 1, "filtered_resps": [["pos"]]})", config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'filtered_resps.0': expected a string, number or boolean, "
                       "got array"));
}

TEST(JsonFieldExtractorTest, BadFieldConfig) {
  FieldConfig config;
  config.prediction_field = "a..b";
  EXPECT_THAT(ExtractPrediction("{}", config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad field path 'a..b'")));
  config.prediction_field = "";
  EXPECT_THAT(ExtractPrediction("{}", config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad field path ''")));
  config.prediction_field = "id";
  EXPECT_THAT(ExtractPrediction("{}", config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlap")));
  config.prediction_field = "id.text";
  EXPECT_THAT(ExtractPrediction("{}", config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlap")));
  config.id_field = "doc.id";
  config.prediction_field = "doc";
  EXPECT_THAT(ExtractPrediction("{}", config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlap")));
}

TEST(JsonFieldExtractorTest, SharedPrefixesWork) {
  FieldConfig config;
  config.id_field = "doc.id";
  config.prediction_field = "doc.out.0";
  config.logprobs_field = "doc.lp";
  ASSERT_OK_AND_ASSIGN(
      PredictionLine p,
      ExtractPrediction(R"({"doc": {"lp": [-1, -0.5], "out": ["z"], "id": "s"}})", config));
  EXPECT_EQ(p.id, "s");
  EXPECT_EQ(p.prediction.text, "z");
  EXPECT_THAT(p.prediction.token_logprobs, ElementsAre(-1, -0.5));
}

TEST(JsonFieldExtractorTest, TokenLogprobs) {
  ASSERT_OK_AND_ASSIGN(
      PredictionLine p,
      ExtractPrediction(R"({"id": 1, "prediction": "x", "token_logprobs": [-0.25, 0, -3]})"));
  EXPECT_TRUE(p.prediction.has_logprobs);
  EXPECT_THAT(p.prediction.token_logprobs, ElementsAre(-0.25, 0.0, -3.0));

  ASSERT_OK_AND_ASSIGN(p,
                       ExtractPrediction(R"({"id": 1, "prediction": "x", "token_logprobs": []})"));
  EXPECT_TRUE(p.prediction.has_logprobs);
  EXPECT_TRUE(p.prediction.token_logprobs.empty());

  ASSERT_OK_AND_ASSIGN(
      p, ExtractPrediction(R"({"id": 1, "prediction": "x", "token_logprobs": null})"));
  EXPECT_FALSE(p.prediction.has_logprobs);
}

TEST(JsonFieldExtractorTest, MinusInfinityLogprobsAreKept) {
  ASSERT_OK_AND_ASSIGN(
      PredictionLine p,
      ExtractPrediction(
          R"({"id": 1, "prediction": "x", "token_logprobs": [-1, -Infinity, -0.5]})"));
  ASSERT_EQ(p.prediction.token_logprobs.size(), 3u);
  EXPECT_EQ(p.prediction.token_logprobs[0], -1);
  EXPECT_EQ(p.prediction.token_logprobs[1], -INFINITY);
  EXPECT_EQ(p.prediction.token_logprobs[2], -0.5);
}

// Python's spelling of -inf is the one non-number: other spellings, numbers beyond a double and
// what is not JSON are refused naming the element.
TEST(JsonFieldExtractorTest, LogprobsOutsideJsonNumbersAreRefused) {
  auto with = [](const std::string& element) {
    return ExtractPrediction(R"({"id": 1, "prediction": "x", "token_logprobs": [-1, )" + element +
                             "]}");
  };
  EXPECT_THAT(with("-1e999"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'token_logprobs': element 1: -1e999 is out of the range of a double "
                       "(write -Infinity for a token of probability 0)"));
  for (const std::string& bad : {"+5", "-inf", "-INFINITY", "NaN", "Infinity", "-0x10", "01"}) {
    EXPECT_THAT(with(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("field 'token_logprobs': element 1: ")))
        << bad;
  }
  EXPECT_THAT(with("+5"), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("element 1: +5 is not a JSON number")));
}

TEST(JsonFieldExtractorTest, BadLogprobs) {
  EXPECT_THAT(ExtractPrediction(R"({"id": 1, "prediction": "x", "token_logprobs": [-1, "-2"]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'token_logprobs': element 1: expected a number, got string"));
  EXPECT_THAT(ExtractPrediction(R"({"id": 1, "prediction": "x", "token_logprobs": [1e400]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("field 'token_logprobs': element 0: 1e400 is out of the range")));
  EXPECT_THAT(ExtractPrediction(R"({"id": 1, "prediction": "x", "token_logprobs": -1})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'token_logprobs': expected an array of numbers, got number"));
}

TEST(JsonFieldExtractorTest, ReusedOutputsAreReset) {
  ASSERT_OK_AND_ASSIGN(JsonFieldExtractor ex,
                       JsonFieldExtractor::Create({}, JsonFieldExtractor::Mode::kPredictions));
  simdjson::ondemand::parser parser;
  std::string id;
  Prediction p;
  simdjson::padded_string a(
      std::string(R"({"id": "a", "prediction": "long text", "token_logprobs": [-1]})"));
  ASSERT_OK(ex.Extract(parser, a, &id, &p, nullptr));
  simdjson::padded_string b(std::string(R"({"id": "b", "prediction": "s"})"));
  ASSERT_OK(ex.Extract(parser, b, &id, &p, nullptr));
  EXPECT_EQ(id, "b");
  EXPECT_EQ(p.text, "s");
  EXPECT_FALSE(p.has_logprobs);
  EXPECT_TRUE(p.token_logprobs.empty());
}

TEST(JsonFieldExtractorTest, ReferenceOrReferences) {
  EXPECT_THAT(*ExtractReferences(R"({"id": "r", "reference": "positive"})"),
              ElementsAre("positive"));
  EXPECT_THAT(*ExtractReferences(R"({"id": "r", "references": ["Paris", "paris, France", 3]})"),
              ElementsAre("Paris", "paris, France", "3"));
  EXPECT_THAT(*ExtractReferences(R"({"id": "r", "reference": 1.0})"), ElementsAre("1"));
  EXPECT_THAT(*ExtractReferences(R"({"id": "r", "reference": false})"), ElementsAre("false"));
}

TEST(JsonFieldExtractorTest, ReferenceErrors) {
  EXPECT_THAT(ExtractReferences(R"({"id": "r"})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "missing field 'reference' (or 'references' for a list)"));
  EXPECT_THAT(
      ExtractReferences(R"({"id": "r", "references": []})"),
      StatusIs(absl::StatusCode::kInvalidArgument, "field 'references': empty reference list"));
  EXPECT_THAT(
      ExtractReferences(R"({"id": "r", "reference": "a", "references": ["b"]})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("both 'reference' and 'references'")));
  EXPECT_THAT(ExtractReferences(R"({"id": "r", "references": ["a", {"b": 1}]})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "field 'references': element 1: expected a string, number or boolean, "
                       "got object"));
  EXPECT_THAT(ExtractReferences(R"({"id": "r", "reference": null})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got null")));
}

TEST(JsonFieldExtractorTest, ConfiguredReferenceField) {
  FieldConfig config;
  config.id_field = "doc_id";
  config.reference_field = "target";
  EXPECT_THAT(*ExtractReferences(R"({"doc_id": 3, "target": 3, "reference": "ignored"})", config),
              ElementsAre("3"));
  EXPECT_THAT(*ExtractReferences(R"({"doc_id": 3, "target": ["a", "b"]})", config),
              ElementsAre("a", "b"));
  EXPECT_THAT(ExtractReferences(R"({"doc_id": 3, "reference": "x"})", config),
              StatusIs(absl::StatusCode::kInvalidArgument, "missing field 'target'"));
}

}  // namespace
}  // namespace emar
