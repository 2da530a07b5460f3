// Flips and slices through the whole job path (planner, workers on shards, stored results,
// report builder, ListFlips), run by the embedded coordinator and read with the real client.
// Every expectation is recomputed here from the generated files by brute force.
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/evaluation_client.h"
#include "client/flips_command.h"
#include "client/job_file.h"
#include "client/report_document.h"
#include "client/report_flips.h"
#include "client/report_format.h"
#include "common/status_matchers.h"
#include "embedded/embedded_coordinator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/small_job.h"
#include "tests/server/temp_dir.h"

namespace emar {
namespace {

using ::emar::testing::StatusIs;
using ::testing::HasSubstr;

// 60 sentiment items in three languages (40 en, 15 de, 5 fr) and 30 QA items. The candidate
// improves English, loses German; item 1's candidate answer is wrong and very long.
struct Item {
  std::string id, ref, lang, base, cand;
};

std::vector<Item> Reviews() {
  std::vector<Item> items;
  for (int i = 0; i < 60; ++i) {
    Item it;
    it.id = absl::StrCat("r", i);
    it.ref = i % 2 ? "pos" : "neg";
    it.lang = i < 40 ? "en" : i < 55 ? "de" : "fr";
    const std::string wrong = i % 2 ? "neg" : "pos";
    it.base = (i % 5 == 0 || i % 7 == 0) ? wrong : it.ref;
    if (it.lang == "en") {
      it.cand = i % 7 == 0 && i % 5 != 0 ? it.ref : it.base;  // learns the i%7 items
    } else if (it.lang == "de") {
      it.cand = i % 3 == 0 ? wrong : it.base;  // forgets some
    } else {
      it.cand = it.base;
    }
    if (i == 1) it.cand = it.ref + std::string(200, '!');  // wrong, and long
    items.push_back(it);
  }
  return items;
}

std::vector<Item> Questions() {
  std::vector<Item> items;
  for (int i = 0; i < 30; ++i) {
    Item it;
    it.id = absl::StrCat("q", i);
    it.ref = absl::StrCat("answer ", i);
    it.base = i % 4 == 0 ? "nope" : it.ref;
    it.cand = i % 6 == 0 ? "nope" : it.ref;
    items.push_back(it);
  }
  return items;
}

void WriteDataset(const std::string& dir, const std::string& name, const std::vector<Item>& items) {
  std::string refs, base, cand;
  for (const Item& it : items) {
    absl::StrAppend(&refs, "{\"id\": \"", it.id, "\", \"reference\": \"", it.ref, "\"",
                    it.lang.empty() ? "" : absl::StrCat(", \"lang\": \"", it.lang, "\""), "}\n");
  }
  for (size_t k = 0; k < items.size(); ++k) {  // outputs in reverse order
    const Item& it = items[items.size() - 1 - k];
    absl::StrAppend(&base, "{\"id\": \"", it.id, "\", \"prediction\": \"", it.base, "\"}\n");
    absl::StrAppend(&cand, "{\"id\": \"", it.id, "\", \"prediction\": \"", it.cand, "\"}\n");
  }
  Write(dir + "/" + name + ".jsonl", refs);
  Write(dir + "/base." + name + ".jsonl", base);
  Write(dir + "/cand." + name + ".jsonl", cand);
}

// Runs dir_/job.yaml to success on an embedded coordinator with 7-row shards, so that every
// dataset spans several shards.
class EmbeddedJobTest : public ::testing::Test {
 protected:
  void RunJob() {
    ASSERT_OK_AND_ASSIGN(embedded_,
                         EmbeddedCoordinator::Start({.worker_threads = 2, .rows_per_shard = 7}));
    client_ = std::make_unique<EvaluationClient>(embedded_->channel());
    ASSERT_OK_AND_ASSIGN(JobFile job, LoadJobFile(dir_.path() + "/job.yaml"));
    ASSERT_OK_AND_ASSIGN(emar::v1::Job created, client_->Submit(job, ""));
    ASSERT_OK_AND_ASSIGN(emar::v1::Job done, client_->Watch(created.job_id(), nullptr));
    ASSERT_EQ(done.state(), emar::v1::JOB_STATE_SUCCEEDED) << done.error();
    job_id_ = done.job_id();
  }

  TempDir dir_;
  std::unique_ptr<EmbeddedCoordinator> embedded_;
  std::unique_ptr<EvaluationClient> client_;
  std::string job_id_;
};

class FlipsSlicesTest : public EmbeddedJobTest {
 protected:
  void SetUp() override {
    WriteDataset(dir_.path(), "reviews", Reviews());
    WriteDataset(dir_.path(), "qa", Questions());
    const std::string yaml = R"(name: flips-and-slices
target: {name: reviews, references: reviews.jsonl, metric: accuracy, fields: {slice_field: lang}}
benchmark: {name: qa, references: qa.jsonl, metric: exact_match}
base: {name: base, target_outputs: base.reviews.jsonl, benchmark_outputs: base.qa.jsonl}
candidates:
  - {name: cand, target_outputs: cand.reviews.jsonl, benchmark_outputs: cand.qa.jsonl}
bootstrap: {resamples: 500}
gates: {max_slice_regression: 0.5, min_slice_items: 10}
)";
    Write(dir_.path() + "/job.yaml", yaml);
    RunJob();
    if (HasFatalFailure()) return;
    ASSERT_OK_AND_ASSIGN(report_, client_->GetReport(job_id_));
  }

  const emar::v1::DatasetComparison& Entry(const std::string& dataset) {
    for (const auto& d : report_.candidates(0).datasets()) {
      if (d.dataset() == dataset) return d;
    }
    ADD_FAILURE() << "no entry for " << dataset;
    return report_.candidates(0).datasets(0);
  }

  std::vector<emar::v1::FlipItem> List(emar::v1::ListFlipsRequest req) {
    req.set_job_id(job_id_);
    std::vector<emar::v1::FlipItem> items;
    EXPECT_OK(client_->ListFlips(req, [&](const emar::v1::FlipItem& i) { items.push_back(i); }));
    return items;
  }

  emar::v1::Report report_;
};

TEST_F(FlipsSlicesTest, TheReportCountsWhatEachCandidateLearnedAndForgot) {
  for (const auto& [name, items] : {std::pair{"reviews", Reviews()}, {"qa", Questions()}}) {
    int learned = 0, forgot = 0;
    for (const Item& it : items) {
      // exact_match ignores case and punctuation, and "nope" never matches; accuracy is exact.
      const bool b = it.base == it.ref, c = it.cand == it.ref;
      learned += !b && c;
      forgot += b && !c;
    }
    const auto& d = Entry(name);
    ASSERT_TRUE(d.has_flips()) << name;
    EXPECT_EQ(d.flips().learned(), learned) << name;
    EXPECT_EQ(d.flips().forgot(), forgot) << name;
    EXPECT_EQ(d.flips().items(), static_cast<int64_t>(items.size())) << name;
  }
}

TEST_F(FlipsSlicesTest, ListFlipsStreamsEveryFlipWithIdReferenceAndBothPredictions) {
  emar::v1::ListFlipsRequest req;
  req.set_dataset("reviews");
  req.set_kind("forgot");
  const std::vector<emar::v1::FlipItem> forgot = List(req);
  const std::vector<Item> reviews = Reviews();
  std::vector<std::string> expected;
  for (const Item& it : reviews) {
    if (it.base == it.ref && it.cand != it.ref) expected.push_back(it.id);
  }
  ASSERT_EQ(forgot.size(), expected.size());
  for (size_t k = 0; k < forgot.size(); ++k) {
    const emar::v1::FlipItem& f = forgot[k];
    EXPECT_EQ(f.id(), expected[k]);  // references-file order
    const Item& it = reviews[std::stoi(f.id().substr(1))];
    EXPECT_EQ(f.kind(), "forgot");
    EXPECT_EQ(f.candidate(), "cand");
    ASSERT_EQ(f.references_size(), 1);
    EXPECT_EQ(f.references(0), it.ref);
    EXPECT_EQ(f.base_prediction(), it.base);
    EXPECT_EQ(f.candidate_prediction(), it.cand);  // whole: no max_chars
    EXPECT_EQ(f.reference_line(), static_cast<uint64_t>(std::stoi(f.id().substr(1)) + 1));
    EXPECT_EQ(f.base_line(), 60 - f.reference_line() + 1);  // outputs are written reversed
  }
  req.set_kind("");
  req.set_limit(2);
  req.set_max_chars(10);
  const std::vector<emar::v1::FlipItem> first = List(req);
  ASSERT_EQ(first.size(), 4u);  // 2 learned, then 2 forgot
  EXPECT_EQ(first[0].kind(), "learned");
  EXPECT_EQ(first[2].kind(), "forgot");
  EXPECT_EQ(first[2].id(), "r1");
  EXPECT_EQ(first[2].candidate_prediction(), "pos!!!!!!!…");  // 10 characters, then the mark
}

TEST_F(FlipsSlicesTest, ListFlipsNamesWhatIsWrong) {
  emar::v1::ListFlipsRequest req;
  req.set_job_id(job_id_);
  req.set_dataset("mmlu");
  auto ignore = [](const emar::v1::FlipItem&) {};
  EXPECT_THAT(client_->ListFlips(req, ignore),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown dataset 'mmlu'; the job's datasets: reviews, qa")));
  req.set_dataset("qa");
  req.set_candidate("nobody");
  EXPECT_THAT(client_->ListFlips(req, ignore), StatusIs(absl::StatusCode::kInvalidArgument,
                                                        HasSubstr("unknown candidate 'nobody'")));
  req.set_candidate("");
  req.set_kind("both");
  EXPECT_THAT(client_->ListFlips(req, ignore), StatusIs(absl::StatusCode::kInvalidArgument));
  req.set_kind("");
  req.set_job_id("no-such-job");
  EXPECT_THAT(client_->ListFlips(req, ignore), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(FlipsSlicesTest, SlicesHaveTheirOwnScoresSortedWorstFirstAndTheirGate) {
  std::map<std::string, std::array<double, 3>> counts;  // n, base right, cand right
  for (const Item& it : Reviews()) {
    auto& c = counts[it.lang];
    c[0] += 1;
    c[1] += it.base == it.ref;
    c[2] += it.cand == it.ref;
  }
  const auto& d = Entry("reviews");
  ASSERT_EQ(d.slices_size(), 3);
  double previous = -1;
  std::optional<double> worst;
  for (const emar::v1::SliceComparison& s : d.slices()) {
    const auto& c = counts.at(s.slice());
    EXPECT_EQ(s.n(), c[0]);
    EXPECT_DOUBLE_EQ(s.base().value(), c[1] / c[0]) << s.slice();
    EXPECT_DOUBLE_EQ(s.candidate().value(), c[2] / c[0]) << s.slice();
    EXPECT_NEAR(s.delta().value(), (c[2] - c[1]) / c[0], 1e-12);
    EXPECT_GE(s.delta().value(), previous) << "sorted by delta, worst first";
    previous = s.delta().value();
    EXPECT_EQ(s.gated(), c[0] >= 10) << s.slice();
    ASSERT_TRUE(s.delta().has_ci_low());
    if (s.gated() && (!worst || s.delta().ci_low() < *worst)) worst = s.delta().ci_low();
  }
  EXPECT_EQ(d.slices(0).slice(), "de");
  EXPECT_EQ(Entry("qa").slices_size(), 0);
  const emar::v1::GateResult* gate = nullptr;
  for (const auto& g : report_.candidates(0).gates()) {
    if (g.gate() == "max_slice_regression") gate = &g;
  }
  ASSERT_NE(gate, nullptr);
  EXPECT_EQ(gate->bound(), "reviews.slice[de].delta.ci_low");
  EXPECT_DOUBLE_EQ(gate->bound_value(), *worst);
  EXPECT_EQ(gate->passed(), *worst >= -0.5);
}

TEST_F(FlipsSlicesTest, ReportsRenderCountsListedFlipsAndSlices) {
  ASSERT_OK(FillReportFlips(*client_, 3, kFlipsReadableChars, &report_));
  EXPECT_EQ(Entry("reviews").flip_items_size(), 6);  // 3 learned + 3 forgot
  const std::string text = ReportToText(report_);
  EXPECT_THAT(text, HasSubstr(absl::StrCat("reviews              accuracy     learned ",
                                           Entry("reviews").flips().learned(), "  forgot ",
                                           Entry("reviews").flips().forgot())));
  EXPECT_THAT(text, HasSubstr("forgot  r1  reference \"pos\""));
  EXPECT_THAT(text, HasSubstr("slices of reviews (accuracy), worst delta first"));
  const std::string html = ReportToHtml(report_);
  EXPECT_THAT(html, HasSubstr("<a href=\"#flips-cand-reviews-accuracy\">reviews</a>"));
  EXPECT_THAT(html, HasSubstr("<h4 id=\"flips-cand-reviews-accuracy\">"));
  EXPECT_THAT(html, HasSubstr("Δ per slice of reviews"));
  const std::string md = ReportToMarkdown(report_);
  EXPECT_THAT(md, HasSubstr("| de | 15 |"));
  EXPECT_THAT(md, HasSubstr("Flipped items of reviews (accuracy):"));
}

TEST(SliceFieldTest, AReferenceWithoutItsSliceFailsCreateJobNamingFileLineAndField) {
  TempDir dir;
  SmallJob job(dir.path());
  Write(dir.path() + "/t.jsonl", R"({"id": "a", "reference": "pos", "lang": "en"}
{"id": "b", "reference": "neg", "lang": "de"}
{"id": "c", "reference": "pos"}
{"id": "d", "reference": "neg", "lang": "en"}
)");
  JobFile file = job.Load();
  file.spec.mutable_target()->mutable_fields()->set_slice_field("lang");
  ASSERT_OK_AND_ASSIGN(auto embedded, EmbeddedCoordinator::Start({}));
  EvaluationClient client(embedded->channel());
  EXPECT_THAT(client.Submit(file, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("t.jsonl:3: field 'lang' (slice_field): missing")));
}

// A judge's 1-5 grades of 3 samples per item on a dataset without references: the report counts
// flips of the per-item means (right at the range's midpoint 3), and ListFlips and `emarctl
// flips` list each item with both means, the samples per item and the first sample's answer
// (the item's first line in each outputs file), and an empty reference.
constexpr int kJudgeItems = 20, kJudgeSamples = 3;

int JudgeGrade(bool cand, int i, int s) {
  return cand ? 1 + (i * 11 + s * 2 + 1) % 5 : 1 + (i * 7 + s * 3) % 5;
}

std::string JudgeAnswer(bool cand, int i, int s) {
  return absl::StrCat(cand ? "cand" : "base", " answer ", i, "/", s);
}

class JudgeFlipsTest : public EmbeddedJobTest {
 protected:
  void SetUp() override {
    WriteDataset(dir_.path(), "reviews", Reviews());
    std::string base, cand;
    for (int line = 1; line <= kJudgeItems * kJudgeSamples; ++line) {
      const int b = line - 1, c = kJudgeItems * kJudgeSamples - line;  // the candidate reversed
      for (const auto& [is_cand, k, out] :
           {std::tuple{false, b, &base}, std::tuple{true, c, &cand}}) {
        const int i = k / kJudgeSamples, s = k % kJudgeSamples;
        absl::StrAppend(out, "{\"id\": \"j", i, "\", \"sample\": ", s, ", \"prediction\": \"",
                        JudgeAnswer(is_cand, i, s), "\", \"grade\": ", JudgeGrade(is_cand, i, s),
                        "}\n");
        uint64_t& first = first_line_[absl::StrCat("j", i)][is_cand ? 1 : 0];
        if (first == 0) first = static_cast<uint64_t>(line);
      }
    }
    Write(dir_.path() + "/base.judge.jsonl", base);
    Write(dir_.path() + "/cand.judge.jsonl", cand);
    Write(dir_.path() + "/job.yaml", R"(name: judge-flips
targets: [{name: reviews, references: reviews.jsonl, metrics: [accuracy]}]
benchmarks:
  - {name: judge, fields: {sample_field: sample}, metrics: [{name: score, field: grade, range: [1, 5]}]}
base: {name: base, outputs: {reviews: base.reviews.jsonl, judge: base.judge.jsonl}}
candidates: [{name: cand, outputs: {reviews: cand.reviews.jsonl, judge: cand.judge.jsonl}}]
bootstrap: {resamples: 200}
)");
    // Brute force: per-item means, right at >= 3.
    for (int i = 0; i < kJudgeItems; ++i) {
      const std::string id = absl::StrCat("j", i);
      for (const bool is_cand : {false, true}) {
        double sum = 0;
        for (int s = 0; s < kJudgeSamples; ++s) sum += JudgeGrade(is_cand, i, s);
        mean_[id][is_cand] = sum / kJudgeSamples;
      }
      const bool b = mean_[id][0] >= 3, c = mean_[id][1] >= 3;
      if (!b && c) learned_.push_back(id);
      if (b && !c) forgot_.push_back(id);
    }
    RunJob();
  }

  std::map<std::string, std::array<uint64_t, 2>> first_line_;  // id -> base, cand line
  std::map<std::string, std::array<double, 2>> mean_;          // id -> base, cand mean grade
  std::vector<std::string> learned_, forgot_;
};

TEST_F(JudgeFlipsTest, ListFlipsListsTheMeansSamplesAndFirstSampleOfEachItem) {
  ASSERT_FALSE(learned_.empty());
  ASSERT_FALSE(forgot_.empty());
  ASSERT_OK_AND_ASSIGN(emar::v1::Report report, client_->GetReport(job_id_));
  const emar::v1::DatasetComparison& d = report.candidates(0).datasets(1);
  ASSERT_EQ(d.dataset(), "judge");
  ASSERT_TRUE(d.has_flips());
  EXPECT_EQ(d.flips().learned(), static_cast<int64_t>(learned_.size()));
  EXPECT_EQ(d.flips().forgot(), static_cast<int64_t>(forgot_.size()));
  EXPECT_EQ(d.flips().items(), kJudgeItems);
  EXPECT_EQ(d.flips().right_at(), 3);
  emar::v1::ListFlipsRequest req;
  req.set_job_id(job_id_);
  req.set_dataset("judge");
  std::vector<std::string> ids;
  ASSERT_OK(client_->ListFlips(req, [&](const emar::v1::FlipItem& f) {
    ids.push_back(f.id());
    const int i = std::stoi(f.id().substr(1));
    EXPECT_EQ(f.references_size(), 0) << f.id();
    EXPECT_EQ(f.reference_line(), 0u) << f.id();
    EXPECT_EQ(f.base_samples(), kJudgeSamples);
    EXPECT_EQ(f.candidate_samples(), kJudgeSamples);
    EXPECT_DOUBLE_EQ(f.base_value(), mean_[f.id()][0]) << f.id();
    EXPECT_DOUBLE_EQ(f.candidate_value(), mean_[f.id()][1]) << f.id();
    EXPECT_EQ(f.base_line(), first_line_[f.id()][0]) << f.id();
    EXPECT_EQ(f.candidate_line(), first_line_[f.id()][1]) << f.id();
    EXPECT_EQ(f.base_prediction(), JudgeAnswer(false, i, 0));  // the base's first line: sample 0
    EXPECT_EQ(f.candidate_prediction(), JudgeAnswer(true, i, kJudgeSamples - 1));  // reversed
  }));
  std::vector<std::string> expected = learned_;
  expected.insert(expected.end(), forgot_.begin(), forgot_.end());
  EXPECT_EQ(ids, expected);
}

TEST_F(JudgeFlipsTest, EmarctlFlipsShowsBothMeansTheSamplesAndTheFirstSample) {
  ASSERT_FALSE(forgot_.empty());
  std::ostringstream out, err;  // emarctl flips JOB --dataset judge --kind forgot
  ASSERT_EQ(RunFlipsCommand(*client_, {.job_id = job_id_, .dataset = "judge", .kind = "forgot"},
                            out, err),
            0)
      << err.str();
  const std::string& first = forgot_.front();
  const int i = std::stoi(first.substr(1));
  EXPECT_THAT(out.str(), HasSubstr("cand forgot on judge (score):\n"));
  EXPECT_THAT(out.str(),
              HasSubstr(absl::StrFormat("    forgot  %s  reference –\n      base      mean %.4g of "
                                        "3 samples; first sample \"%s\"\n      candidate mean "
                                        "%.4g of 3 samples; first sample \"%s\"\n",
                                        first, mean_[first][0], JudgeAnswer(false, i, 0),
                                        mean_[first][1], JudgeAnswer(true, i, kJudgeSamples - 1))));
}

}  // namespace
}  // namespace emar
