// `emarctl score` as a library call (client/local_scorer.h): real files in a temp dir, scored by
// the worker's join and scorer code; values counted by hand.
#include "client/local_scorer.h"

#include <fstream>
#include <string>

#include "common/status_matchers.h"
#include "tests/common/gzip.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::Gzip;
using ::emar::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class LocalScorerTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  TempDir dir_;
};

constexpr char kRefs[] = R"({"id": "a", "reference": "pos"}
{"id": "b", "reference": "neg"}
{"id": "c", "reference": "pos"}
{"id": "d", "reference": "neg"}
)";
// Right on a, b and d (3 of 4), in another order than the references.
constexpr char kPreds[] = R"({"id": "d", "prediction": "neg"}
{"id": "a", "prediction": "pos"}
{"id": "c", "prediction": "neg"}
{"id": "b", "prediction": "neg"}
)";

TEST_F(LocalScorerTest, AccuracyIsCountedOverEveryReference) {
  ASSERT_OK_AND_ASSIGN(LocalScore s, ScoreFiles("accuracy", Write("p.jsonl", kPreds),
                                                Write("r.jsonl", kRefs), emar::v1::FieldNames()));
  EXPECT_EQ(s.metric, "accuracy");
  ASSERT_TRUE(s.value.value.has_value()) << s.value.undefined_reason;
  EXPECT_DOUBLE_EQ(*s.value.value, 0.75);
  EXPECT_EQ(s.n, 4);
  EXPECT_EQ(s.direction, "higher_is_better");
  EXPECT_FALSE(s.signature.empty());
}

TEST_F(LocalScorerTest, GzippedInputsScoreTheSame) {
  ASSERT_OK_AND_ASSIGN(LocalScore plain,
                       ScoreFiles("accuracy", Write("p.jsonl", kPreds), Write("r.jsonl", kRefs),
                                  emar::v1::FieldNames()));
  ASSERT_OK_AND_ASSIGN(LocalScore gz,
                       ScoreFiles("accuracy", Write("p.jsonl.gz", Gzip(kPreds)),
                                  Write("r.jsonl.gz", Gzip(kRefs)), emar::v1::FieldNames()));
  EXPECT_EQ(*gz.value.value, *plain.value.value);
  EXPECT_EQ(gz.n, plain.n);
  EXPECT_EQ(gz.signature, plain.signature);
}

TEST_F(LocalScorerTest, FieldNamesAreTaken) {
  emar::v1::FieldNames fields;
  fields.set_id_field("doc");
  fields.set_prediction_field("output");
  fields.set_reference_field("gold");
  ASSERT_OK_AND_ASSIGN(
      LocalScore s,
      ScoreFiles("exact_match", Write("p.jsonl", "{\"doc\": 1, \"output\": \"Paris\"}\n"),
                 Write("r.jsonl", "{\"doc\": 1, \"gold\": \"Paris\"}\n"), fields));
  EXPECT_DOUBLE_EQ(*s.value.value, 1.0);
  EXPECT_EQ(s.n, 1);
}

TEST_F(LocalScorerTest, AMissingPredictionNamesTheFileTheIdAndTheReferenceLine) {
  const std::string preds = Write("p.jsonl", R"({"id": "a", "prediction": "pos"}
{"id": "b", "prediction": "neg"}
{"id": "d", "prediction": "neg"}
)");
  EXPECT_THAT(ScoreFiles("accuracy", preds, Write("r.jsonl", kRefs), emar::v1::FieldNames()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(preds), HasSubstr("missing prediction for id 'c'"),
                             HasSubstr("r.jsonl:3"))));
}

TEST_F(LocalScorerTest, BadInputsAreErrorsNamingThem) {
  const std::string refs = Write("r.jsonl", kRefs);
  EXPECT_THAT(ScoreFiles("acuracy", Write("p.jsonl", kPreds), refs, emar::v1::FieldNames()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("acuracy")));
  EXPECT_THAT(ScoreFiles("accuracy", dir_.path() + "/none.jsonl", refs, emar::v1::FieldNames()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.jsonl")));
  const std::string broken = Write("broken.jsonl", "{\"id\": \"a\", \"prediction\": \n");
  EXPECT_THAT(ScoreFiles("accuracy", broken, refs, emar::v1::FieldNames()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("broken.jsonl:1")));
}

}  // namespace
}  // namespace emar
