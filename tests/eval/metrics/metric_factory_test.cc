#include "eval/metrics/metric_factory.h"

#include <string>
#include <vector>

#include "common/status_matchers.h"
#include "eval/metrics/metric_registry.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/eval/metrics/metric_vectors.h"

namespace emar {
namespace {

using ::emar::testing::JsonNumber;
using ::emar::testing::JsonNumbers;
using ::emar::testing::JsonStrings;
using ::emar::testing::ReferenceLists;
using ::emar::testing::ScoreCorpus;
using ::emar::testing::StatusIs;
using ::emar::testing::TextPredictions;
using ::emar::testing::VectorLine;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The vector line's metric name and "spec" object (MetricSpec's JSON mapping).
emar::v1::MetricSpec SpecOf(const VectorLine& v) {
  emar::v1::MetricSpec spec;
  const std::string json = simdjson::minify(v["spec"]);
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &spec).ok()) << json;
  spec.set_name(std::string(v["metric"].get_string().value()));
  return spec;
}

ReferenceCounts CountsOf(const std::vector<Reference>& refs) {
  ReferenceCounts counts;
  for (const Reference& r : refs) counts.Add(r.texts.size());
  return counts;
}

// testdata/metrics/sacrebleu_options.jsonl: every BLEU and chrF option through MakeMetric and
// the Metric interface, against sacrebleu 2.6.0's corpus score and printed signature, on data
// with one, two and a varying number of references.
class SacrebleuOptionsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SacrebleuOptionsTest, ScoreAndSignatureMatchSacrebleu) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> m, MakeMetric(SpecOf(*v)));
  const std::vector<Reference> refs = ReferenceLists((*v)["references"]);
  ASSERT_OK_AND_ASSIGN(MetricValue value,
                       ScoreCorpus(*m, TextPredictions(JsonStrings((*v)["predictions"])), refs));
  ASSERT_TRUE(value.value.has_value()) << value.undefined_reason;
  EXPECT_CLOSE(*value.value, JsonNumber((*v)["expected"]["score"]) / 100, 1e-9);
  EXPECT_EQ(m->signature_for(CountsOf(refs)),
            std::string_view((*v)["expected"]["signature"].get_string().value()));
}

INSTANTIATE_TEST_SUITE_P(Vectors, SacrebleuOptionsTest,
                         ::testing::ValuesIn(testing::VectorLines("sacrebleu_options.jsonl")),
                         testing::VectorTestName);

// testdata/metrics/rouge_options.jsonl: rouge1/2/L/Lsum with and without the stemmer.
class RougeOptionsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RougeOptionsTest, MatchesRougeScore) {
  ASSERT_OK_AND_ASSIGN(auto v, VectorLine::Parse(GetParam()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> m, MakeMetric(SpecOf(*v)));
  std::vector<std::vector<double>> rows;
  ASSERT_OK_AND_ASSIGN(MetricValue value,
                       ScoreCorpus(*m, TextPredictions(JsonStrings((*v)["predictions"])),
                                   ReferenceLists((*v)["references"]), &rows));
  const std::vector<double> f = JsonNumbers((*v)["expected"]["fmeasure"]);
  ASSERT_EQ(rows.size(), f.size());
  for (size_t i = 0; i < f.size(); ++i) EXPECT_CLOSE(rows[i][0], f[i], 1e-12) << "example " << i;
  EXPECT_CLOSE(*value.value, JsonNumber((*v)["expected"]["mean_fmeasure"]), 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Vectors, RougeOptionsTest,
                         ::testing::ValuesIn(testing::VectorLines("rouge_options.jsonl")),
                         testing::VectorTestName);

emar::v1::MetricSpec Spec(const std::string& name) {
  emar::v1::MetricSpec spec;
  spec.set_name(name);
  return spec;
}

TEST(MetricFactoryTest, NameOnlyRegistryIsTheFactoryWithDefaults) {
  for (const std::string& name : MetricNames()) {
    if (name == "pass_at_k") continue;  // its spec requires k (below)
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> by_name, MakeMetric(name));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> by_spec, MakeMetric(Spec(name)));
    EXPECT_EQ(by_name->name(), name);
    EXPECT_EQ(by_spec->signature(), by_name->signature());
    EXPECT_EQ(by_spec->stats_width(), by_name->stats_width());
    EXPECT_EQ(MetricKey(Spec(name)).value(), name);
  }
}

TEST(MetricFactoryTest, PassAtKAndScoreCheckTheirOwnOptions) {
  emar::v1::MetricSpec pass = Spec("pass_at_k");
  EXPECT_THAT(MakeMetric(pass), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'k'")));
  pass.set_k(5);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Metric> m, MakeMetric(pass));
  EXPECT_EQ(m->name(), "pass_at_k");
  EXPECT_EQ(MetricKey(pass).value(), "pass_at_k|k=5");
  pass.set_use_stemmer(true);
  EXPECT_THAT(MakeMetric(pass),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("it takes k, field")));
  emar::v1::MetricSpec score = Spec("score");
  score.set_field("acc");
  score.add_range(0);
  score.add_range(1);
  score.set_direction("higher_is_better");
  EXPECT_EQ(MetricKey(score).value(), "score|field=acc|range=0,1");
  score.set_direction("sideways");
  EXPECT_THAT(MakeMetric(score), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MetricFactoryTest, RejectsOptionsTheMetricDoesNotTake) {
  emar::v1::MetricSpec s = Spec("rouge1");
  s.set_tokenize("13a");
  EXPECT_THAT(MakeMetric(s), StatusIs(absl::StatusCode::kInvalidArgument,
                                      AllOf(HasSubstr("\"rouge1\""), HasSubstr("tokenize"),
                                            HasSubstr("it takes use_stemmer"))));
  s = Spec("bleu");
  s.set_beta(1);
  EXPECT_THAT(MakeMetric(s), StatusIs(absl::StatusCode::kInvalidArgument,
                                      AllOf(HasSubstr("\"bleu\""), HasSubstr("option beta"))));
  s = Spec("chrf");
  s.set_use_stemmer(false);  // set, even to the default, is an option chrF does not take
  EXPECT_THAT(MakeMetric(s),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("use_stemmer")));
  s = Spec("accuracy");
  s.set_lowercase(true);
  EXPECT_THAT(MakeMetric(s),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("it takes no options")));
  s = Spec("mc_acc");
  s.add_range(0);
  EXPECT_THAT(MakeMetric(s), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("range")));
  s = Spec("bleu");
  s.set_normalized(true);
  EXPECT_THAT(ValidateMetricSpec(s),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("normalized")));
}

TEST(MetricFactoryTest, RejectsValuesOutOfRange) {
  struct Case {
    void (*set)(emar::v1::MetricSpec*);
    const char* name;
    const char* expected;
  };
  const Case cases[] = {
      {[](auto* s) { s->set_tokenize("13b"); }, "bleu",
       "option tokenize: \"13b\" is not one of 13a, intl, char, none, zh"},
      {[](auto* s) { s->set_smooth("laplace"); }, "bleu",
       "option smooth: \"laplace\" is not one of exp, floor, add-k, none"},
      {[](auto* s) { s->set_smooth_value(0.5); }, "bleu",
       "option smooth_value: only smooth floor and add-k take a value"},
      {[](auto* s) {
         s->set_smooth("floor");
         s->set_smooth_value(-0.1);
       },
       "bleu", "option smooth_value: -0.1 is not a finite number >= 0"},
      {[](auto* s) { s->set_max_ngram_order(0); }, "bleu",
       "option max_ngram_order: 0 is out of range [1, 16]"},
      {[](auto* s) { s->set_max_ngram_order(17); }, "bleu",
       "option max_ngram_order: 17 is out of range [1, 16]"},
      {[](auto* s) { s->set_char_order(0); }, "chrf",
       "option char_order: 0 is out of range [1, 16]"},
      {[](auto* s) { s->set_word_order(-1); }, "chrf",
       "option word_order: -1 is out of range [0, 16]"},
      {[](auto* s) { s->set_beta(0); }, "chrf", "option beta: 0 is not > 0"},
      {[](auto* s) { s->set_beta(-2); }, "chrf", "option beta: -2 is not > 0"},
  };
  for (const Case& c : cases) {
    emar::v1::MetricSpec s = Spec(c.name);
    c.set(&s);
    EXPECT_THAT(MakeMetric(s), StatusIs(absl::StatusCode::kInvalidArgument,
                                        AllOf(HasSubstr(std::string("metric \"") + c.name + "\""),
                                              HasSubstr(c.expected))));
    EXPECT_THAT(MetricKey(s), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_THAT(MakeMetric(Spec("rougeLSum")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("unknown metric \"rougeLSum\""), HasSubstr("rougeLsum"))));
}

TEST(MetricFactoryTest, KeyIsCanonical) {
  // Options set to their defaults are the same metric as unset ones.
  emar::v1::MetricSpec defaults = Spec("bleu");
  defaults.set_tokenize("13a");
  defaults.set_lowercase(false);
  defaults.set_smooth("exp");
  defaults.set_max_ngram_order(4);
  defaults.set_effective_order(false);
  EXPECT_EQ(MetricKey(defaults).value(), "bleu");

  emar::v1::MetricSpec floor = Spec("bleu");
  floor.set_smooth("floor");
  emar::v1::MetricSpec floor_default = floor;
  floor_default.set_smooth_value(0.1);
  EXPECT_EQ(MetricKey(floor).value(), "bleu|smooth=floor");
  EXPECT_EQ(MetricKey(floor_default).value(), MetricKey(floor).value());
  floor.set_smooth_value(0.01);
  EXPECT_EQ(MetricKey(floor).value(), "bleu|smooth=floor|smooth_value=0.01");

  emar::v1::MetricSpec all = Spec("bleu");
  all.set_effective_order(true);  // set out of field order: the key is in field order
  all.set_tokenize("zh");
  all.set_max_ngram_order(2);
  all.set_smooth("add-k");
  all.set_smooth_value(1);
  all.set_lowercase(true);
  EXPECT_EQ(MetricKey(all).value(),
            "bleu|tokenize=zh|lowercase=true|smooth=add-k|max_ngram_order=2|effective_order=true");

  emar::v1::MetricSpec chrf = Spec("chrf");
  chrf.set_beta(2);
  chrf.set_char_order(6);
  chrf.set_word_order(0);
  EXPECT_EQ(MetricKey(chrf).value(), "chrf");
  chrf.set_word_order(2);
  chrf.set_beta(0.1);
  chrf.set_whitespace(true);
  EXPECT_EQ(MetricKey(chrf).value(), "chrf|word_order=2|beta=0.1|whitespace=true");

  emar::v1::MetricSpec rouge = Spec("rougeLsum");
  rouge.set_use_stemmer(false);
  EXPECT_EQ(MetricKey(rouge).value(), "rougeLsum");
  rouge.set_use_stemmer(true);
  EXPECT_EQ(MetricKey(rouge).value(), "rougeLsum|use_stemmer=true");
}

TEST(MetricFactoryTest, OptionsChangeTheRowWidth) {
  emar::v1::MetricSpec bleu = Spec("bleu");
  bleu.set_max_ngram_order(6);
  EXPECT_EQ(MakeMetric(bleu).value()->stats_width(), 14u);
  emar::v1::MetricSpec chrf = Spec("chrf");
  chrf.set_char_order(4);
  chrf.set_word_order(2);
  EXPECT_EQ(MakeMetric(chrf).value()->stats_width(), 18u);
}

TEST(ReferenceCountsTest, UniformOrVariable) {
  ReferenceCounts none;
  EXPECT_EQ(none.nrefs(), "var");  // sacrebleu: no segments is not one count
  ReferenceCounts one;
  one.Add(1);
  one.Add(1);
  EXPECT_EQ(one.nrefs(), "1");
  ReferenceCounts var = one;
  var.Add(2);
  EXPECT_EQ(var.nrefs(), "var");
  var.Add(1);
  EXPECT_EQ(var.nrefs(), "var");
  ReferenceCounts two;
  two.Add(2);
  ReferenceCounts merged = one;
  merged.Merge(ReferenceCounts());
  EXPECT_EQ(merged.nrefs(), "1");
  merged.Merge(two);
  EXPECT_EQ(merged.nrefs(), "var");
  ReferenceCounts from_empty;
  from_empty.Merge(two);
  EXPECT_EQ(from_empty.nrefs(), "2");
}

}  // namespace
}  // namespace emar
