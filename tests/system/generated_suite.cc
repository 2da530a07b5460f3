#include "tests/system/generated_suite.h"

#include <sys/stat.h>

#include <cstdint>
#include <fstream>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
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
constexpr const char* kWords[] = {"the",  "cat",     "sat", "on",    "a",  "mat",   "dog", "ran",
                                  "home", "quickly", "red", "house", "by", "river", "old", "man"};

absl::Status WriteLines(const std::string& path, size_t n,
                        const std::function<std::string(size_t)>& line) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (size_t i = 0; i < n; ++i) out << line(i) << '\n';
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string Sentence(Rng& rng, size_t words) {
  std::vector<std::string> w;
  for (size_t i = 0; i < words; ++i) w.push_back(kWords[rng.Below(16)]);
  return absl::StrJoin(w, " ");
}

// A model's answer to a reference: right with probability `p`, else a perturbed or wrong one.
struct Benchmark {
  std::string name, metric;
  std::vector<std::string> refs;  // one per item
  std::vector<std::string> out[2];
};

Benchmark Make(const std::string& name, const std::string& metric, size_t n, Rng& rng,
               double p_base, double p_cand) {
  Benchmark b{name, metric, {}, {}};
  const bool text = metric == "bleu" || metric == "chrf" || metric == "token_f1";
  for (size_t i = 0; i < n; ++i) {
    b.refs.push_back(text ? Sentence(rng, 4 + rng.Below(8)) : kLabels[rng.Below(3)]);
  }
  for (int m = 0; m < 2; ++m) {
    for (size_t i = 0; i < n; ++i) {
      const bool right = rng.Chance(m == 0 ? p_base : p_cand);
      std::string answer = b.refs[i];
      if (!right && text) {
        answer = absl::StrCat(Sentence(rng, 1 + rng.Below(3)), " ",
                              b.refs[i].substr(b.refs[i].size() / 2));
      } else if (!right) {
        answer = absl::StrCat(kLabels[rng.Below(3)], "x");
      } else if (metric == "exact_match" && rng.Chance(0.5)) {
        answer = absl::StrCat("The ", answer, ".");
      }
      b.out[m].push_back(answer);
    }
  }
  return b;
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

// Every dataset's references, and the base's and candidate's outputs on it.
absl::Status WriteInputs(const std::string& dir, const std::vector<Benchmark*>& all) {
  for (Benchmark* b : all) {
    if (absl::Status s = WriteLines(absl::StrCat(dir, "/data/", b->name, ".jsonl"), b->refs.size(),
                                    [&](size_t i) {
                                      return absl::StrFormat(R"({"id": "%s-%d", "reference": %s})",
                                                             b->name, i, Quoted(b->refs[i]));
                                    });
        !s.ok()) {
      return s;
    }
    for (int m = 0; m < 2; ++m) {
      const size_t n = b->refs.size();
      // The base's outputs in reverse order: outputs join by id.
      if (absl::Status s = WriteLines(
              absl::StrCat(dir, "/out/", m == 0 ? "base." : "cand.", b->name, ".jsonl"), n,
              [&](size_t i) {
                const size_t k = m == 0 ? n - 1 - i : i;
                return absl::StrFormat(R"({"id": "%s-%d", "prediction": %s})", b->name, k,
                                       Quoted(b->out[m][k]));
              });
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

// The metric entry of a benchmark in the suite file: the text metrics with options are BLEU with
// the intl tokenizer and chrF++ (word order 2).
std::string MetricEntry(const Benchmark& b) {
  if (b.name == "wmt-bleu") return "{name: bleu, tokenize: intl}";
  if (b.name == "wmt-chrf") return "{name: chrf, word_order: 2}";
  return b.metric;
}

// One benchmark alone beside the same target: in the older form, or as a suite of one where the
// metric has options (the older form names a metric only).
std::string SingleJobYaml(const Benchmark& bench, const std::string& settings) {
  const std::string& b = bench.name;
  const std::string entry = MetricEntry(bench);
  return entry == bench.metric
             ? absl::StrCat(
                   "name: single-", b, "\n",
                   "target:    {name: tickets, references: data/tickets.jsonl, metric: accuracy}\n",
                   "benchmark: {name: ", b, ", references: data/", b,
                   ".jsonl, metric: ", bench.metric, "}\n",
                   "base: {name: base, target_outputs: out/base.tickets.jsonl, "
                   "benchmark_outputs: out/base.",
                   b, ".jsonl}\n",
                   "candidates:\n  - {name: cand, target_outputs: out/cand.tickets.jsonl, "
                   "benchmark_outputs: out/cand.",
                   b, ".jsonl}\n", settings)
             : absl::StrCat(
                   "name: single-", b, "\n",
                   "targets: [{name: tickets, references: data/tickets.jsonl, metrics: "
                   "[accuracy]}]\n",
                   "benchmarks: [{name: ", b, ", references: data/", b, ".jsonl, metrics: [", entry,
                   "]}]\n", "base: {name: base, outputs: {tickets: out/base.tickets.jsonl, ", b,
                   ": out/base.", b, ".jsonl}}\n",
                   "candidates:\n  - {name: cand, outputs: {tickets: out/cand.tickets.jsonl, ", b,
                   ": out/cand.", b, ".jsonl}}\n", settings);
}

}  // namespace

absl::StatusOr<GeneratedSuite> WriteGeneratedSuite(const std::string& dir, size_t n_target,
                                                   size_t n_benchmark, int bootstrap_resamples) {
  for (const char* sub : {"/data", "/out"}) {
    if (::mkdir(absl::StrCat(dir, sub).c_str(), 0755) != 0) {
      return absl::InternalError(absl::StrCat("mkdir ", dir, sub));
    }
  }
  Rng rng(20261207);
  GeneratedSuite suite;
  suite.job_file = absl::StrCat(dir, "/suite.yaml");
  suite.target = "tickets";
  Benchmark target = Make("tickets", "accuracy", n_target, rng, 0.70, 0.85);
  std::vector<Benchmark> benches;
  benches.push_back(Make("qa", "exact_match", n_benchmark, rng, 0.75, 0.74));
  benches.push_back(Make("squad", "token_f1", n_benchmark, rng, 0.60, 0.62));
  benches.push_back(Make("wmt-bleu", "bleu", n_benchmark, rng, 0.50, 0.48));
  benches.push_back(Make("wmt-chrf", "chrf", n_benchmark, rng, 0.50, 0.52));
  benches.push_back(Make("mmlu", "accuracy", n_benchmark, rng, 0.65, 0.64));
  std::vector<Benchmark*> all = {&target};
  for (Benchmark& b : benches) all.push_back(&b);
  if (absl::Status s = WriteInputs(dir, all); !s.ok()) return s;
  const std::string settings = absl::StrCat("bootstrap: {resamples: ", bootstrap_resamples,
                                            ", confidence: 0.95, seed: 7}\n");
  // The suite.
  std::string yaml = absl::StrCat(
      "name: generated-suite\n", "targets:\n",
      "  - {name: tickets, references: data/tickets.jsonl, metrics: [accuracy, macro_f1]}\n",
      "benchmarks:\n");
  for (const Benchmark& b : benches) {
    absl::StrAppend(
        &yaml, "  - {name: ", b.name, ", references: data/", b.name, ".jsonl, metrics: [",
        MetricEntry(b), "]",
        b.name == "wmt-bleu" ? ", weight: 2, gates: {max_benchmark_regression: 0.2}" : "", "}\n");
    suite.benchmarks.push_back(b.name);
    suite.metrics.push_back(b.metric);
  }
  for (int m = 0; m < 2; ++m) {
    const char* model = m == 0 ? "base" : "cand";
    absl::StrAppend(&yaml, m == 0 ? "base: " : "candidates:\n  - ", "{name: ", model,
                    ", outputs: {");
    for (size_t k = 0; k < all.size(); ++k) {
      absl::StrAppend(&yaml, k ? ", " : "", all[k]->name, ": out/", model, ".", all[k]->name,
                      ".jsonl");
    }
    absl::StrAppend(&yaml, "}}\n");
  }
  absl::StrAppend(&yaml, settings,
                  "gates: {min_emar: 0.05, max_benchmark_regression: 0.05, "
                  "max_suite_regression: 0.03}\n");
  if (absl::Status s = WriteFile(suite.job_file, yaml); !s.ok()) return s;
  // Each benchmark alone beside the same target.
  for (size_t k = 0; k < benches.size(); ++k) {
    const std::string single = SingleJobYaml(benches[k], settings);
    suite.single_jobs.push_back(absl::StrCat(dir, "/single-", k, ".yaml"));
    if (absl::Status s = WriteFile(suite.single_jobs.back(), single); !s.ok()) return s;
  }
  return suite;
}

}  // namespace emar::testing
