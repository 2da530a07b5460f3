// A synthetic suite written into a directory: one label target (accuracy, then macro_f1) and five
// benchmarks, one per kind of metric (exact_match, token_f1, bleu, chrf, accuracy), a base model
// and one candidate; plus, for each benchmark, the job of that benchmark alone with the same
// target in the older one-target/one-benchmark form, to compare the suite's numbers with.
// Deterministic (fixed seed).
//
//   ASSERT_OK_AND_ASSIGN(GeneratedSuite s, WriteGeneratedSuite(dir.path(), 3000, 2000));
//   ... s.job_file, s.single_jobs[k], s.benchmarks[k] ...
#ifndef EMAR_TESTS_SYSTEM_GENERATED_SUITE_H_
#define EMAR_TESTS_SYSTEM_GENERATED_SUITE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace emar::testing {

struct GeneratedSuite {
  std::string job_file;                  // dir/suite.yaml
  std::string target;                    // the target dataset's name
  std::vector<std::string> benchmarks;   // names, in job order
  std::vector<std::string> metrics;      // each benchmark's metric
  std::vector<std::string> single_jobs;  // dir/single-<k>.yaml: the target and benchmark k
};

// `bootstrap_resamples` resamples (kept small so tests stay quick); the gates are
// max_benchmark_regression 0.05 (gsm-like benchmark overridden to 0.2) and max_suite_regression.
absl::StatusOr<GeneratedSuite> WriteGeneratedSuite(const std::string& dir, size_t n_target,
                                                   size_t n_benchmark,
                                                   int bootstrap_resamples = 200);

}  // namespace emar::testing

#endif  // EMAR_TESTS_SYSTEM_GENERATED_SUITE_H_
