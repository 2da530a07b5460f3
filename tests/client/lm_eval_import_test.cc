// client/lm_eval_import.h: suite job files from lm-evaluation-harness output directories that
// the test writes in the harness's layout (results_<date>.json, samples_<task>_<date>.jsonl).
#include "client/lm_eval_import.h"

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/job_file.h"
#include "common/file_util.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/harness_dirs.h"
#include "tests/system/process.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::emar::testing::TempDir;
using ::testing::HasSubstr;

constexpr const char* kDate = ::emar::testing::kHarnessDate;

// A model's output directory with `tasks` ({name, output_type}) of three docs each.
void WriteModelDir(const std::string& dir, const std::vector<testing::HarnessTask>& tasks,
                   const std::string& date = kDate) {
  ASSERT_OK(testing::WriteHarnessDir(dir, tasks, /*model=*/0, /*docs=*/3, date).status());
}

const std::vector<testing::HarnessTask> kTasks = {{"gsm8k", "generate_until"},
                                                  {"arc_easy", "multiple_choice"},
                                                  {"mmlu_abstract_algebra", "multiple_choice"}};

class LmEvalImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("lm-eval");
    ASSERT_OK(dir.status());
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    WriteModelDir(dir_->Join("runs/base"), kTasks);
    WriteModelDir(dir_->Join("runs/lora"), kTasks);
    // The harness's own layout: --output_path out/ puts the files under out/<model_sanitized>/.
    WriteModelDir(dir_->Join("runs/full/org__model-full"), kTasks);
  }

  LmEvalImport Spec() const {
    LmEvalImport spec;
    spec.base = {"base", dir_->Join("runs/base")};
    spec.candidates = {{"lora", dir_->Join("runs/lora")}, {"full", dir_->Join("runs/full")}};
    spec.targets = {"gsm8k"};
    spec.benchmarks = {"arc_easy", "mmlu_abstract_algebra"};
    spec.job_dir = dir_->path();
    return spec;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(LmEvalImportTest, ReadsTasksWithUnderscoresAndTheirOutputTypes) {
  ASSERT_OK_AND_ASSIGN(auto tasks, ReadLmEvalDir(dir_->Join("runs/base")));
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks.at("mmlu_abstract_algebra").output_type, "multiple_choice");
  EXPECT_EQ(tasks.at("gsm8k").output_type, "generate_until");
  EXPECT_EQ(tasks.at("gsm8k").samples_path,
            dir_->Join(absl::StrCat("runs/base/samples_gsm8k_", kDate, ".jsonl")));
}

TEST_F(LmEvalImportTest, TheJobIsASuiteOfTheSamplesFilesAsTheyAre) {
  ASSERT_OK_AND_ASSIGN(const std::string yaml, LmEvalJobYaml(Spec()));
  const std::string path = dir_->Join("job.yaml");
  ASSERT_OK(WriteFileAtomically(path, yaml));
  ASSERT_OK_AND_ASSIGN(const JobFile job, LoadJobFile(path));
  const emar::v1::JobSpec& s = job.spec;
  ASSERT_EQ(s.targets_size(), 1);
  ASSERT_EQ(s.benchmarks_size(), 2);
  const emar::v1::DatasetSpec& gsm8k = s.targets(0);
  EXPECT_EQ(gsm8k.name(), "gsm8k");
  EXPECT_EQ(gsm8k.references(), absl::StrCat("runs/base/samples_gsm8k_", kDate, ".jsonl"));
  ASSERT_EQ(gsm8k.metrics_size(), 1);
  EXPECT_EQ(gsm8k.metrics(0).name(), "exact_match");
  EXPECT_EQ(gsm8k.fields().id_field(), "doc_id");
  EXPECT_EQ(gsm8k.fields().reference_field(), "target");
  EXPECT_EQ(gsm8k.fields().prediction_field(), "filtered_resps.0");
  const emar::v1::DatasetSpec& mmlu = s.benchmarks(1);
  EXPECT_EQ(mmlu.name(), "mmlu_abstract_algebra");
  ASSERT_EQ(mmlu.metrics_size(), 2);
  EXPECT_EQ(mmlu.metrics(0).name(), "mc_acc");  // the primary metric
  EXPECT_EQ(mmlu.metrics(1).name(), "mc_acc_norm");
  EXPECT_EQ(mmlu.fields().prediction_field(), "filtered_resps");
  EXPECT_EQ(mmlu.fields().reference_field(), "target");
  // Every model has an output per dataset; the candidate in the harness's nested layout too.
  EXPECT_EQ(s.base().name(), "base");
  ASSERT_EQ(s.candidates_size(), 2);
  EXPECT_EQ(s.candidates(1).name(), "full");
  for (const auto* m : {&s.base(), &s.candidates(0), &s.candidates(1)}) {
    EXPECT_EQ(m->outputs_size(), 3) << m->name();
  }
  EXPECT_EQ(s.candidates(1).outputs().at("arc_easy"),
            absl::StrCat("runs/full/org__model-full/samples_arc_easy_", kDate, ".jsonl"));
  // Paths are relative to the job file, and every one of them exists.
  for (const auto& [task, rel] : s.candidates(0).outputs()) {
    EXPECT_TRUE(std::filesystem::exists(dir_->Join(rel))) << rel;
  }
}

TEST_F(LmEvalImportTest, ATaskMissingForOneModelNamesTheDirectoryAndTheTask) {
  WriteModelDir(dir_->Join("runs/partial"), {{"gsm8k", "generate_until"}});
  LmEvalImport spec = Spec();
  spec.candidates.push_back({"partial", dir_->Join("runs/partial")});
  EXPECT_THAT(LmEvalJobYaml(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(dir_->Join("runs/partial"),
                                              " (partial): no samples file for task arc_easy "
                                              "(its tasks: gsm8k)"))));
}

TEST_F(LmEvalImportTest, TwoSamplesFilesForOneTaskAreRefused) {
  WriteModelDir(dir_->Join("runs/lora"), {{"arc_easy", "multiple_choice"}},
                "2026-12-01T10-00-00.000001");
  EXPECT_THAT(LmEvalJobYaml(Spec()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(dir_->Join("runs/lora"),
                                              ": task arc_easy has two samples files"))));
}

TEST_F(LmEvalImportTest, ASamplesFileWithoutItsResultsFileIsRefused) {
  std::filesystem::remove(dir_->Join(absl::StrCat("runs/lora/results_", kDate, ".json")));
  EXPECT_THAT(ReadLmEvalDir(dir_->Join("runs/lora")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(": task arc_easy: samples_arc_easy_", kDate,
                                              ".jsonl has no results_", kDate, ".json"))));
}

TEST_F(LmEvalImportTest, LoglikelihoodTasksAndNonSamplesAreRefusedNamingTheTask) {
  WriteModelDir(dir_->Join("runs/ppl"), {{"wikitext", "loglikelihood_rolling"}});
  LmEvalImport spec = Spec();
  spec.base.dir = dir_->Join("runs/ppl");
  spec.candidates = {{"c", dir_->Join("runs/ppl")}};
  spec.targets = {"wikitext"};
  spec.benchmarks = {};
  EXPECT_THAT(LmEvalJobYaml(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("task wikitext is a loglikelihood_rolling task: only "
                                 "generate_until and multiple_choice")));
  const std::string bad = dir_->Join(absl::StrCat("runs/lora/samples_gsm8k_", kDate, ".jsonl"));
  ASSERT_OK(WriteFileAtomically(bad, "{\"id\": 3, \"prediction\": \"4\"}\n"));
  EXPECT_THAT(ReadLmEvalDir(dir_->Join("runs/lora")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrCat(bad, ":1: field 'doc_id' missing"))));
}

TEST_F(LmEvalImportTest, DirectoriesWithoutOrWithSeveralModelsAreRefused) {
  EXPECT_THAT(ReadLmEvalDir(dir_->Join("nowhere")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no such directory")));
  EXPECT_THAT(ReadLmEvalDir(dir_->Join("runs")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("several models")));
  ASSERT_OK(MakeDirs(dir_->Join("empty")));
  EXPECT_THAT(ReadLmEvalDir(dir_->Join("empty")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no lm-evaluation-harness")));
}

TEST_F(LmEvalImportTest, CommandWritesTheJobAndRefusesBadUsage) {
  std::ostringstream out, err;
  const std::string job = dir_->Join("job.yaml");
  const std::vector<std::string> args = {"from-lm-eval",
                                         "--base",
                                         dir_->Join("runs/base"),
                                         "--candidate",
                                         "lora=" + dir_->Join("runs/lora"),
                                         "--candidate=full=" + dir_->Join("runs/full"),
                                         "--target",
                                         "gsm8k",
                                         "--benchmarks",
                                         "arc_easy,mmlu_abstract_algebra",
                                         "--out",
                                         job};
  ASSERT_EQ(LmEvalImportCommand(args, out, err), 0) << err.str();
  ASSERT_OK_AND_ASSIGN(const std::string written, ReadFileToString(job));
  ASSERT_OK_AND_ASSIGN(const std::string direct, LmEvalJobYaml(Spec()));
  EXPECT_EQ(written, direct);
  EXPECT_EQ(out.str(), "");

  std::ostringstream e2;
  EXPECT_EQ(LmEvalImportCommand({"from-lm-eval", "--base", "x", "--candidate", "nodir"}, out, e2),
            2);
  EXPECT_THAT(e2.str(), HasSubstr("--candidate takes NAME=DIR, not 'nodir'"));
  std::ostringstream e3;
  EXPECT_EQ(LmEvalImportCommand({"from-lm-eval", "--base", dir_->Join("runs/base"), "--candidate",
                                 "base=" + dir_->Join("runs/lora"), "--target", "gsm8k",
                                 "--benchmarks", "arc_easy"},
                                out, e3),
            1);
  EXPECT_THAT(e3.str(), HasSubstr("candidate name 'base' is used twice"));
  std::ostringstream e4;
  EXPECT_EQ(LmEvalImportCommand({"to-csv"}, out, e4), 2);
  EXPECT_THAT(e4.str(), HasSubstr("unknown job subcommand 'to-csv'"));
}

}  // namespace
}  // namespace emar
