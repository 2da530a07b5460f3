#include "bench/load/job_mix.h"

#include <sys/stat.h>

#include <cmath>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tests/system/generated_job.h"
#include "tests/system/process.h"
#include "tests/system/reference_scores.h"

namespace emar::load {
namespace {

using emar::testing::ReadFile;
using emar::testing::WriteFile;

// The lines of a generated JSONL file (which ends with a newline), 1-based access.
class JsonlLines {
 public:
  static absl::StatusOr<JsonlLines> Read(const std::string& path) {
    auto text = ReadFile(path);
    if (!text.ok()) return text.status();
    JsonlLines f;
    f.path_ = path;
    f.lines_ = absl::StrSplit(*text, '\n');
    if (!f.lines_.empty() && f.lines_.back().empty()) f.lines_.pop_back();
    return f;
  }
  size_t size() const { return lines_.size(); }
  std::string& line(size_t n) { return lines_[n - 1]; }
  void Erase(size_t n) { lines_.erase(lines_.begin() + static_cast<long>(n - 1)); }
  void Append(std::string s) { lines_.push_back(std::move(s)); }
  absl::Status Write() const {
    return WriteFile(path_, absl::StrCat(absl::StrJoin(lines_, "\n"), "\n"));
  }

 private:
  std::string path_;
  std::vector<std::string> lines_;
};

// Re-scores the generated files with the plain scorers and requires the generator's counts.
absl::Status CheckGeneratorCounts(const std::string& dir, const emar::testing::GeneratedJob& g) {
  using namespace emar::testing;  // NOLINT: the reference scorers
  auto target = ReadReferences(dir + "/data/target.jsonl");
  auto bench = ReadReferences(dir + "/data/benchmark.jsonl");
  if (!target.ok()) return target.status();
  if (!bench.ok()) return bench.status();
  const std::pair<const char*, double> expected[] = {{"/out/base.target.jsonl", g.t0},
                                                     {"/out/cand.target.jsonl", g.t1},
                                                     {"/out/base.benchmark.jsonl", g.b0},
                                                     {"/out/cand.benchmark.jsonl", g.b1}};
  for (int i = 0; i < 4; ++i) {
    auto preds = ReadPredictions(dir + expected[i].first);
    if (!preds.ok()) return preds.status();
    const double got = i < 2 ? AccuracyOf(*preds, *target) : ExactMatchOf(*preds, *bench);
    if (got != expected[i].second) {
      return absl::InternalError(absl::StrFormat(
          "%s%s: the generator counted %.17g, the reference scorer %.17g; fix the harness first",
          dir, expected[i].first, expected[i].second, got));
    }
  }
  return absl::OkStatus();
}

// Alters one file of the job in `dir` so that `job` fails as its kind says; fills error_parts.
absl::Status MakeBad(const std::string& dir, std::mt19937_64& rng, PlannedJob& job) {
  auto pick_line = [&](size_t n) { return 1 + static_cast<size_t>(rng() % n); };
  switch (job.kind) {
    case JobKind::kMalformedJson: {
      // out/base.target.jsonl is in reverse order: line k holds id t(n - k).
      auto f = JsonlLines::Read(dir + "/out/base.target.jsonl");
      if (!f.ok()) return f.status();
      const size_t k = pick_line(f->size());
      f->line(k) = absl::StrFormat(R"({"id": "t%07d", "prediction": )", job.n_target - k);
      job.error_parts = {absl::StrCat("out/base.target.jsonl:", k, ":")};
      return f->Write();
    }
    case JobKind::kUnknownMetric: {
      auto yaml = ReadFile(job.job_file);
      if (!yaml.ok()) return yaml.status();
      const std::string altered =
          absl::StrReplaceAll(*yaml, {{"metric: accuracy}", "metric: accuracy_typo}"}});
      if (altered == *yaml) return absl::InternalError("job.yaml has no 'metric: accuracy}'");
      job.error_parts = {"target.metric", "accuracy_typo"};
      return WriteFile(job.job_file, altered);
    }
    case JobKind::kMissingId: {
      // Line k of the benchmark outputs and references holds id b(k - 1).
      auto f = JsonlLines::Read(dir + "/out/cand.benchmark.jsonl");
      if (!f.ok()) return f.status();
      const size_t k = pick_line(f->size());
      f->Erase(k);
      job.error_parts = {"out/cand.benchmark.jsonl", "missing prediction",
                         absl::StrFormat("id 'b%07d'", k - 1),
                         absl::StrCat("data/benchmark.jsonl:", k, ")")};
      return f->Write();
    }
    case JobKind::kUnknownId: {
      auto f = JsonlLines::Read(dir + "/out/base.benchmark.jsonl");
      if (!f.ok()) return f.status();
      const size_t k = pick_line(f->size());
      const std::string id = absl::StrFormat("b%07d", k - 1);
      const std::string stranger = absl::StrFormat("zz%07d", k - 1);
      f->line(k) = absl::StrReplaceAll(f->line(k), {{id, stranger}});
      job.error_parts = {absl::StrCat("out/base.benchmark.jsonl:", k, ":"),
                         absl::StrCat("unknown id '", stranger, "'")};
      return f->Write();
    }
    case JobKind::kDuplicateId: {
      // Line 1 (id t0000000) again after the last line, which is in the last shard: the
      // coordinator finds it when it assembles the shards, in shard order.
      auto f = JsonlLines::Read(dir + "/out/cand.target.jsonl");
      if (!f.ok()) return f.status();
      const size_t last = f->size() + 1;
      f->Append(f->line(1));
      job.error_parts = {absl::StrCat("out/cand.target.jsonl:", last,
                                      ": duplicate id 't0000000' (first at line 1)")};
      return f->Write();
    }
    case JobKind::kGood:
    case JobKind::kCancel:
      break;
  }
  return absl::InternalError("MakeBad called for a good job");
}

}  // namespace

absl::string_view JobKindName(JobKind kind) {
  switch (kind) {
    case JobKind::kGood:
      return "good";
    case JobKind::kCancel:
      return "cancel";
    case JobKind::kMalformedJson:
      return "bad:malformed_json";
    case JobKind::kUnknownMetric:
      return "bad:unknown_metric";
    case JobKind::kMissingId:
      return "bad:missing_id";
    case JobKind::kUnknownId:
      return "bad:unknown_id";
    case JobKind::kDuplicateId:
      return "bad:duplicate_id";
  }
  return "?";
}

absl::StatusOr<std::vector<std::vector<PlannedJob>>> WriteJobMix(const JobMixOptions& options,
                                                                 const std::string& dir) {
  const size_t total = static_cast<size_t>(options.clients) * options.jobs_per_client;
  const size_t bad = static_cast<size_t>(std::lround(total * options.bad_fraction));
  const size_t cancel = static_cast<size_t>(std::lround(total * options.cancel_fraction));
  if (bad + cancel > total) return absl::InvalidArgumentError("bad + cancel fractions exceed 1");
  std::vector<JobKind> kinds;
  for (size_t i = 0; i < bad; ++i) kinds.push_back(kBadKinds[i % std::size(kBadKinds)]);
  kinds.resize(bad + cancel, JobKind::kCancel);
  kinds.resize(total, JobKind::kGood);
  std::mt19937_64 rng(options.seed);  // the engine is fully specified: same jobs everywhere
  for (size_t i = total; i > 1; --i) std::swap(kinds[i - 1], kinds[rng() % i]);

  std::vector<std::vector<PlannedJob>> out(static_cast<size_t>(options.clients));
  for (size_t i = 0; i < total; ++i) {
    PlannedJob job;
    job.kind = kinds[i];
    const size_t client = i / static_cast<size_t>(options.jobs_per_client);
    job.name = absl::StrFormat("load-c%03d-j%02d", client, i % options.jobs_per_client);
    // Sizes from a small grid: many jobs share an input, so identical blobs are uploaded
    // concurrently, and each spans a few shards.
    const size_t rows = static_cast<size_t>(std::max<int64_t>(options.rows_per_shard, 1));
    const size_t n_target = rows + rows / 4 * (rng() % 13);
    const size_t n_benchmark = rows / 2 + rows / 4 * (rng() % 7);
    const std::string job_dir = absl::StrCat(dir, "/", job.name);
    if (::mkdir(job_dir.c_str(), 0755) != 0) {
      return absl::InternalError(absl::StrCat("mkdir ", job_dir));
    }
    auto g = emar::testing::WriteGeneratedJob(job_dir, n_target, n_benchmark,
                                              options.bootstrap_resamples);
    if (!g.ok()) return g.status();
    job.job_file = g->job_file;
    job.n_target = g->n_target;
    job.n_benchmark = g->n_benchmark;
    job.t0 = g->t0;
    job.t1 = g->t1;
    job.b0 = g->b0;
    job.b1 = g->b1;
    auto yaml = ReadFile(job.job_file);
    if (!yaml.ok()) return yaml.status();
    if (absl::Status s = WriteFile(
            job.job_file,
            absl::StrReplaceAll(*yaml, {{"name: generated\n", "name: " + job.name + "\n"}}));
        !s.ok()) {
      return s;
    }
    if (job.kind == JobKind::kCancel && options.max_cancel_delay_ms > 0) {
      job.cancel_delay_ms = static_cast<int>(rng() % (options.max_cancel_delay_ms + 1));
    }
    if (IsBad(job.kind)) {
      if (absl::Status s = MakeBad(job_dir, rng, job); !s.ok()) return s;
    } else if (absl::Status s = CheckGeneratorCounts(job_dir, *g); !s.ok()) {
      return s;
    }
    out[client].push_back(std::move(job));
  }
  return out;
}

}  // namespace emar::load
