#include "tests/system/generated_job.h"

#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/system/process.h"

namespace emar::testing {
namespace {

// splitmix64: a fixed, portable stream of pseudo-random numbers.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

constexpr const char* kLabels[] = {"positive", "negative", "neutral"};
struct Qa {
  const char* answers[2];
  const char* wrong;
};
constexpr Qa kQa[] = {{{"Paris", "the city of Paris"}, "London"},
                      {{"William Shakespeare", "Shakespeare"}, "Dickens"},
                      {{"carbon dioxide", "CO2"}, "oxygen"},
                      {{"1989", "in 1989"}, "1991"}};

class LineWriter {
 public:
  explicit LineWriter(const std::string& path)
      : path_(path), out_(path, std::ios::binary | std::ios::trunc) {}
  void Line(const std::string& s) { out_ << s << '\n'; }
  absl::Status Close() {
    out_.close();
    if (!out_) return absl::InternalError(absl::StrCat("cannot write ", path_));
    return absl::OkStatus();
  }

 private:
  std::string path_;
  std::ofstream out_;
};

// Target: labels; base right on ~70 %, candidate on ~85 %. Base outputs in reverse order,
// candidate outputs with stray whitespace that accuracy trims. Counts the right answers.
absl::Status WriteTarget(const std::string& dir, size_t n_target, Rng& rng, size_t& t0,
                         size_t& t1) {
  std::vector<int> gold(n_target);
  std::vector<bool> base_right(n_target), cand_right(n_target);
  LineWriter refs(absl::StrCat(dir, "/data/target.jsonl"));
  for (size_t i = 0; i < n_target; ++i) {
    gold[i] = static_cast<int>(rng.Below(3));
    base_right[i] = rng.Chance(0.70);
    cand_right[i] = rng.Chance(0.85);
    t0 += base_right[i];
    t1 += cand_right[i];
    refs.Line(absl::StrFormat(R"({"id": "t%07d", "text": "review %d", "reference": "%s"})", i, i,
                              kLabels[gold[i]]));
  }
  if (absl::Status s = refs.Close(); !s.ok()) return s;
  auto label = [&](size_t i, bool right) { return kLabels[right ? gold[i] : (gold[i] + 1) % 3]; };
  LineWriter base_t(absl::StrCat(dir, "/out/base.target.jsonl"));
  for (size_t k = n_target; k-- > 0;) {
    base_t.Line(
        absl::StrFormat(R"({"id": "t%07d", "prediction": "%s"})", k, label(k, base_right[k])));
  }
  if (absl::Status s = base_t.Close(); !s.ok()) return s;
  LineWriter cand_t(absl::StrCat(dir, "/out/cand.target.jsonl"));
  for (size_t i = 0; i < n_target; ++i) {
    cand_t.Line(absl::StrFormat(R"({"id": "t%07d", "prediction": "%s%s"})", i,
                                i % 5 == 0 ? " " : "", label(i, cand_right[i])));
  }
  return cand_t.Close();
}

// Benchmark: two references each; right answers in surface forms SQuAD normalization accepts.
// Counts the right answers of base (b0) and candidate (b1).
absl::Status WriteBenchmark(const std::string& dir, size_t n_benchmark, Rng& rng, size_t& b0,
                            size_t& b1) {
  std::vector<size_t> question(n_benchmark);
  LineWriter bench(absl::StrCat(dir, "/data/benchmark.jsonl"));
  for (size_t i = 0; i < n_benchmark; ++i) {
    question[i] = rng.Below(sizeof kQa / sizeof kQa[0]);
    const Qa& q = kQa[question[i]];
    bench.Line(absl::StrFormat(R"({"id": "b%07d", "references": ["%s", "%s"]})", i, q.answers[0],
                               q.answers[1]));
  }
  if (absl::Status s = bench.Close(); !s.ok()) return s;
  for (int model = 0; model < 2; ++model) {
    LineWriter out(
        absl::StrCat(dir, model == 0 ? "/out/base.benchmark.jsonl" : "/out/cand.benchmark.jsonl"));
    for (size_t i = 0; i < n_benchmark; ++i) {
      const Qa& q = kQa[question[i]];
      const bool right = rng.Chance(0.75);
      (model == 0 ? b0 : b1) += right;
      std::string answer = q.wrong;
      if (right) {
        const std::string a = q.answers[rng.Below(2)];
        switch (rng.Below(3)) {
          case 0:
            answer = a;
            break;
          case 1:
            answer = absl::StrCat("The ", a, ".");
            break;
          default:
            answer = absl::StrCat("  ", a, "!");
            break;
        }
      }
      out.Line(absl::StrFormat(R"({"id": "b%07d", "prediction": "%s"})", i, answer));
    }
    if (absl::Status s = out.Close(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GeneratedJob> WriteGeneratedJob(const std::string& dir, size_t n_target,
                                               size_t n_benchmark, int bootstrap_resamples) {
  for (const char* sub : {"/data", "/out"}) {
    if (::mkdir(absl::StrCat(dir, sub).c_str(), 0755) != 0) {
      return absl::InternalError(absl::StrCat("mkdir ", dir, sub));
    }
  }
  GeneratedJob job;
  job.job_file = absl::StrCat(dir, "/job.yaml");
  job.n_target = n_target;
  job.n_benchmark = n_benchmark;
  Rng rng(20261128);

  size_t t0 = 0, t1 = 0, b0 = 0, b1 = 0;
  if (absl::Status s = WriteTarget(dir, n_target, rng, t0, t1); !s.ok()) return s;
  if (absl::Status s = WriteBenchmark(dir, n_benchmark, rng, b0, b1); !s.ok()) return s;
  job.t0 = static_cast<double>(t0) / static_cast<double>(n_target);
  job.t1 = static_cast<double>(t1) / static_cast<double>(n_target);
  job.b0 = static_cast<double>(b0) / static_cast<double>(n_benchmark);
  job.b1 = static_cast<double>(b1) / static_cast<double>(n_benchmark);

  const std::string yaml =
      absl::StrCat("name: generated\n",
                   "target:    {name: labels, references: data/target.jsonl, metric: accuracy}\n",
                   "benchmark: {name: qa, references: data/benchmark.jsonl, metric: exact_match}\n",
                   "base:      {name: base, target_outputs: out/base.target.jsonl, "
                   "benchmark_outputs: out/base.benchmark.jsonl}\n",
                   "candidates:\n",
                   "  - {name: cand, target_outputs: out/cand.target.jsonl, benchmark_outputs: "
                   "out/cand.benchmark.jsonl}\n",
                   "formula: relative_gain\n", "bootstrap: {resamples: ", bootstrap_resamples,
                   ", confidence: 0.95, seed: 7}\n");
  if (absl::Status s = WriteFile(job.job_file, yaml); !s.ok()) return s;
  return job;
}

}  // namespace emar::testing
