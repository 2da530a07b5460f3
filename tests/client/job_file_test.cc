// client/job_file.h: YAML and JSON job files, path resolution, errors naming file and line.
#include "client/job_file.h"

#include <google/protobuf/util/message_differencer.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/system/process.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kYaml[] = R"(# a comment
name: sentiment
target:    {name: reviews, references: data/target.jsonl,    metric: accuracy}
benchmark: {name: qa,      references: data/benchmark.jsonl, metric: exact_match,
            fields: {id_field: qid, reference_field: answers}}
base:      {name: base, target_outputs: out/base.target.jsonl, benchmark_outputs: out/base.benchmark.jsonl}
candidates:
  - {name: r16, target_outputs: out/r16.target.jsonl, benchmark_outputs: out/r16.benchmark.jsonl}
  - name: r32
    target_outputs: out/r32.target.jsonl
    benchmark_outputs: out/base.benchmark.jsonl
formula: "(T1 - T0) / T0"
bootstrap: {resamples: 500, confidence: 0.9, seed: 7}
gates: {min_emar: 0.05}
)";

constexpr char kJson[] = R"({
  "name": "sentiment",
  "target": {"name": "reviews", "references": "data/target.jsonl", "metric": "accuracy"},
  "benchmark": {"name": "qa", "references": "data/benchmark.jsonl", "metric": "exact_match",
                "fields": {"id_field": "qid", "reference_field": "answers"}},
  "base": {"name": "base", "target_outputs": "out/base.target.jsonl",
           "benchmark_outputs": "out/base.benchmark.jsonl"},
  "candidates": [
    {"name": "r16", "target_outputs": "out/r16.target.jsonl", "benchmark_outputs": "out/r16.benchmark.jsonl"},
    {"name": "r32", "target_outputs": "out/r32.target.jsonl", "benchmark_outputs": "out/base.benchmark.jsonl"}
  ],
  "formula": "(T1 - T0) / T0",
  "bootstrap": {"resamples": 500, "confidence": 0.9, "seed": 7},
  "gates": {"min_emar": 0.05}
})";

TEST(JobFileTest, YamlAndJsonGiveTheSameSpec) {
  ASSERT_OK_AND_ASSIGN(emar::testing::TempDir dir, emar::testing::TempDir::Create("jobfile"));
  ASSERT_OK(emar::testing::WriteFile(dir.Join("job.yaml"), kYaml));
  ASSERT_OK(emar::testing::WriteFile(dir.Join("job.json"), kJson));
  ASSERT_OK_AND_ASSIGN(JobFile yaml, LoadJobFile(dir.Join("job.yaml")));
  ASSERT_OK_AND_ASSIGN(JobFile json, LoadJobFile(dir.Join("job.json")));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(yaml.spec, json.spec))
      << yaml.spec.DebugString() << "\nvs\n"
      << json.spec.DebugString();

  const emar::v1::JobSpec& s = yaml.spec;
  EXPECT_EQ(s.name(), "sentiment");
  EXPECT_EQ(s.target().metric(), "accuracy");
  EXPECT_EQ(s.benchmark().fields().id_field(), "qid");
  EXPECT_EQ(s.benchmark().fields().reference_field(), "answers");
  ASSERT_EQ(s.candidates_size(), 2);
  EXPECT_EQ(s.candidates(1).name(), "r32");
  EXPECT_EQ(s.formula(), "(T1 - T0) / T0");
  EXPECT_EQ(s.bootstrap().resamples(), 500);
  EXPECT_DOUBLE_EQ(s.bootstrap().confidence(), 0.9);
  EXPECT_TRUE(s.bootstrap().has_seed());
  EXPECT_EQ(s.bootstrap().seed(), 7u);
  ASSERT_TRUE(s.gates().has_min_emar());
  EXPECT_DOUBLE_EQ(s.gates().min_emar(), 0.05);
  EXPECT_FALSE(s.gates().has_max_benchmark_regression());
}

TEST(JobFileTest, InputsResolveAgainstTheJobFilesDirectory) {
  ASSERT_OK_AND_ASSIGN(JobFile job, ParseJobFile(kYaml, "some/where/job.yaml", "some/where"));
  // Spec order, each distinct path once (out/base.benchmark.jsonl is used twice).
  ASSERT_EQ(job.inputs.size(), 7u);
  EXPECT_EQ(job.inputs[0].field, "target.references");
  EXPECT_EQ(job.inputs[0].spec_path, "data/target.jsonl");
  EXPECT_EQ(job.inputs[0].local_path, "some/where/data/target.jsonl");
  EXPECT_EQ(job.inputs[6].field, "candidates[1].target_outputs");
  EXPECT_EQ(job.inputs[6].spec_path, "out/r32.target.jsonl");
  EXPECT_EQ(job.inputs[6].local_path, "some/where/out/r32.target.jsonl");
  // The spec keeps the paths as written: they are the keys the server sees.
  EXPECT_EQ(job.spec.target().references(), "data/target.jsonl");
}

TEST(JobFileTest, AbsolutePathsStayAbsolute) {
  std::string text = kYaml;
  const std::string from = "references: data/target.jsonl";
  text.replace(text.find(from), from.size(), "references: /abs/target.jsonl");
  ASSERT_OK_AND_ASSIGN(JobFile job, ParseJobFile(text, "dir/job.yaml", "dir"));
  EXPECT_EQ(job.inputs[0].local_path, "/abs/target.jsonl");
  EXPECT_EQ(job.inputs[0].spec_path, "/abs/target.jsonl");
}

TEST(JobFileTest, TheExampleLoadsFromTheRepoRoot) {
  const std::string path =
      "examples/restaurant-sentiment/job.yaml";  // tests run from the repo root
  ASSERT_OK_AND_ASSIGN(JobFile job, LoadJobFile(path));
  EXPECT_EQ(job.spec.name(), "restaurant-sentiment-lora");
  EXPECT_EQ(job.spec.formula(), "relative_gain");
  ASSERT_EQ(job.inputs.size(), 6u);
  for (const JobFileInput& in : job.inputs) {
    EXPECT_EQ(in.local_path, "examples/restaurant-sentiment/" + in.spec_path);
    EXPECT_OK(emar::testing::ReadFile(in.local_path).status()) << in.local_path;
  }
}

TEST(JobFileTest, UnknownFieldIsAnErrorNamingTheFile) {
  const std::string text = std::string(kYaml) + "colour: blue\n";
  EXPECT_THAT(ParseJobFile(text, "jobs/typo.yaml", "jobs"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("jobs/typo.yaml"), HasSubstr("colour"))));
  // Nested too.
  std::string nested = kYaml;
  nested.replace(nested.find("metric: accuracy"), 16, "metric: accuracy, metrc: x");
  EXPECT_THAT(ParseJobFile(nested, "jobs/nested.yaml", "jobs"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("jobs/nested.yaml"), HasSubstr("metrc"))));
}

TEST(JobFileTest, YamlSyntaxErrorNamesFileAndLine) {
  const std::string text =
      "name: x\ntarget: {name: t, references: a.jsonl\nbase: {name: b}\n";  // unclosed flow map
  auto job = ParseJobFile(text, "bad.yaml", ".");
  EXPECT_THAT(job, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.yaml:")));
  const std::string tabs =
      "name: x\ncandidates:\n  - name: a\n   - name: b\n";  // bad indentation on line 4
  EXPECT_THAT(ParseJobFile(tabs, "indent.yaml", "."),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("indent.yaml:4:")));
}

TEST(JobFileTest, JsonSyntaxErrorNamesTheFile) {
  EXPECT_THAT(ParseJobFile("{\"name\": \"x\",", "bad.json", "."),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.json")));
}

TEST(JobFileTest, WrongTypesAndNonMappingsAreErrors) {
  EXPECT_THAT(ParseJobFile("- a\n- b\n", "list.yaml", "."),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("list.yaml")));
  EXPECT_THAT(ParseJobFile("name: x\ncandidates: [[a]]\n", "type.yaml", "."),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type.yaml")));
  EXPECT_THAT(ParseJobFile("name: x\nbootstrap: {resamples: many}\n", "num.yaml", "."),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("num.yaml")));
}

TEST(JobFileTest, ComplexMappingKeysAreErrorsNamingFileLineAndColumn) {
  // YAML allows sequences and mappings as keys; a job file does not. These used to escape as
  // YAML::TypedBadConversion and abort emarctl (found by tests/fuzz/fuzz_job_file).
  EXPECT_THAT(ParseJobFile("name: x\n? [a, b]\n: 1\n", "jobs/seq.yaml", "jobs"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("jobs/seq.yaml:2:3:"),
                                        HasSubstr("key must be a field name, not a sequence"))));
  EXPECT_THAT(
      ParseJobFile("name: x\ntarget: {{a: b}: c}\n", "jobs/map.yaml", "jobs"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               ::testing::AllOf(HasSubstr("jobs/map.yaml:2:10:"), HasSubstr("not a mapping"))));
  EXPECT_THAT(ParseJobFile("{{}}", "jobs/fuzz.json", "jobs"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("jobs/fuzz.json:1:2:")));
  EXPECT_THAT(ParseJobFile("~: x\n", "jobs/null.yaml", "jobs"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("jobs/null.yaml:1:1:")));
}

TEST(JobFileTest, AliasesThatExpandWithoutBoundAreErrors) {
  // An alias inside the node it names would recurse forever (a stack overflow before).
  EXPECT_THAT(
      ParseJobFile("name: x\ncandidates: &c [*c]\n", "jobs/cycle.yaml", "jobs"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               ::testing::AllOf(HasSubstr("jobs/cycle.yaml:2:"), HasSubstr("levels deep"))));
  // "Billion laughs": 9 levels of 8 aliases each stand for 8^9 strings, gigabytes of JSON.
  std::string laughs = "name: x\nl0: &l0 [aaaaaaaaaaaaaaaa, aaaaaaaaaaaaaaaa]\n";
  for (int i = 1; i < 10; ++i) {
    absl::StrAppend(&laughs, "l", i, ": &l", i, " [");
    for (int j = 0; j < 8; ++j) absl::StrAppend(&laughs, j ? ", " : "", "*l", i - 1);
    absl::StrAppend(&laughs, "]\n");
  }
  EXPECT_THAT(ParseJobFile(laughs, "jobs/laughs.yaml", "jobs"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("jobs/laughs.yaml:"), HasSubstr("expands"))));
  // Aliases within the bounds still work.
  ASSERT_OK_AND_ASSIGN(
      JobFile job,
      ParseJobFile("name: x\nbase: &m {name: b, target_outputs: o.jsonl}\ncandidates: [*m, *m]\n",
                   "jobs/alias.yaml", "jobs"));
  EXPECT_EQ(job.spec.candidates_size(), 2);
  EXPECT_EQ(job.spec.candidates(1).target_outputs(), "o.jsonl");
}

TEST(JobFileTest, QuotedScalarsStayStringsAndPlainNumbersAreNumbers) {
  ASSERT_OK_AND_ASSIGN(
      JobFile job,
      ParseJobFile("name: \"2024\"\nformula: \"true\"\nbootstrap: {seed: 42, confidence: 0.9}\n",
                   "q.yaml", "."));
  EXPECT_EQ(job.spec.name(), "2024");
  EXPECT_EQ(job.spec.formula(), "true");
  EXPECT_EQ(job.spec.bootstrap().seed(), 42u);
  EXPECT_DOUBLE_EQ(job.spec.bootstrap().confidence(), 0.9);
}

TEST(JobFileTest, YamlFloatsThatAreNotJsonNumbersStillParse) {
  // `.9`, `5.` and `+.5` are YAML floats but not JSON numbers; the YAML->JSON step must not copy
  // them verbatim into the JSON text.
  for (const char* confidence : {".9", "0.9", "+.9", "9e-1"}) {
    SCOPED_TRACE(confidence);
    auto job = ParseJobFile(absl::StrCat("name: x\nbootstrap: {confidence: ", confidence, "}\n"),
                            "f.yaml", ".");
    ASSERT_OK(job.status());
    EXPECT_DOUBLE_EQ(job->spec.bootstrap().confidence(), 0.9);
  }
  auto resamples = ParseJobFile("name: x\nbootstrap: {resamples: 500.}\n", "g.yaml", ".");
  ASSERT_OK(resamples.status());
  EXPECT_EQ(resamples->spec.bootstrap().resamples(), 500);
}

TEST(JobFileTest, MissingFileNamesThePath) {
  auto job = LoadJobFile("/nonexistent/dir/job.yaml");
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(std::string(job.status().message()), HasSubstr("/nonexistent/dir/job.yaml"));
}

TEST(JobFileTest, InputsByReferenceBecomeUrisWithStatedContentAndAreNotRead) {
  const std::string sha(64, 'a');
  const std::string yaml = absl::StrCat(
      "target: {name: t, metric: accuracy, references: {uri: \"https://h/t.jsonl?sig=x\", "
      "sha256: ",
      sha, ", size: 12}}\n", "benchmark: {name: b, metric: accuracy, references: data/b.jsonl}\n",
      "base: {name: base, target_outputs: {uri: \"file:///shared/o.jsonl\", sha256: ", sha,
      ", size: 3}, benchmark_outputs: out/b.jsonl}\n",
      "candidates:\n  - name: c\n    target_outputs: {uri: \"https://h/t.jsonl?sig=x\", sha256: ",
      sha, ", size: 12}\n    benchmark_outputs: out/c.jsonl\n");
  ASSERT_OK_AND_ASSIGN(JobFile job, ParseJobFile(yaml, "job.yaml", "/jobs"));
  EXPECT_EQ(job.spec.target().references(), "https://h/t.jsonl?sig=x");
  EXPECT_EQ(job.spec.base().target_outputs(), "file:///shared/o.jsonl");
  EXPECT_EQ(job.spec.candidates(0).target_outputs(), "https://h/t.jsonl?sig=x");
  ASSERT_EQ(job.spec.input_references().size(), 2u);
  EXPECT_EQ(job.spec.input_references().at("https://h/t.jsonl?sig=x").sha256(), sha);
  EXPECT_EQ(job.spec.input_references().at("file:///shared/o.jsonl").size(), 3);
  // Only the local files are inputs to upload.
  std::vector<std::string> paths;
  for (const JobFileInput& in : job.inputs) paths.push_back(in.spec_path);
  EXPECT_THAT(paths, ::testing::ElementsAre("data/b.jsonl", "out/b.jsonl", "out/c.jsonl"));
}

TEST(JobFileTest, SuiteOutputsAndReferencesTakeReferencesToo) {
  const std::string sha(64, 'b');
  const std::string ref =
      absl::StrCat("{uri: \"file:///shared/run42/", "X", "\", sha256: ", sha, ", size: 7}");
  auto at = [&](const std::string& name) { return absl::StrReplaceAll(ref, {{"X", name}}); };
  const std::string yaml = absl::StrCat(
      "targets: [{name: t, metrics: [accuracy], references: ", at("t.jsonl"), "}]\n",
      "benchmarks: [{name: b, metrics: [accuracy], references: data/b.jsonl}]\n",
      "base: {name: base, outputs: {t: ", at("base.t.jsonl"), ", b: out/base.b.jsonl}}\n",
      "candidates: [{name: c, outputs: {t: ", at("c.t.jsonl"), ", b: out/c.b.jsonl}}]\n");
  ASSERT_OK_AND_ASSIGN(JobFile job, ParseJobFile(yaml, "job.yaml", "/jobs"));
  EXPECT_EQ(job.spec.targets(0).references(), "file:///shared/run42/t.jsonl");
  EXPECT_EQ(job.spec.base().outputs().at("t"), "file:///shared/run42/base.t.jsonl");
  EXPECT_EQ(job.spec.candidates(0).outputs().at("t"), "file:///shared/run42/c.t.jsonl");
  EXPECT_EQ(job.spec.input_references().size(), 3u);
  EXPECT_EQ(job.inputs.size(), 3u);  // data/b.jsonl and the two local outputs
}

TEST(JobFileTest, AReferenceNeedsUriDigestAndSizeAndNothingElse) {
  EXPECT_THAT(ParseJobFile("target: {references: {uri: \"https://h/t\"}}\n", "job.yaml", "."),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("job.yaml:1:22: `references` by reference needs uri, sha256 "
                                 "and size")));
  EXPECT_THAT(
      ParseJobFile("target: {references: {uri: x, sha256: y, size: 1, path: z}}\n", "job.yaml",
                   "."),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("takes uri, sha256 and size, not "
                                                             "'path'")));
  EXPECT_THAT(ParseJobFile("target: {references: \"https://h/t\"}\n", "job.yaml", "."),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("target.references: an input by reference is {uri: ..., "
                                 "sha256: ..., size: ...}")));
}

}  // namespace
}  // namespace emar
