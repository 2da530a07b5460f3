// `emarctl job from-lm-eval`: a suite job file built from lm-evaluation-harness output
// directories, one per model, matching tasks by name.
//
// A harness run with --output_path and --log_samples leaves, per model, `results_<date>.json`
// (whose `configs.<task>.output_type` says how the task is scored) and one
// `samples_<task>_<date>.jsonl` per task (one line per doc: `doc_id`, `doc`, `target`,
// `arguments`, `resps`, `filtered_resps`, per-metric fields). The job reads those files as they
// are: references and outputs are the samples files (the base model's holds the references), ids
// are `doc_id`, and the metrics follow the task's output type:
//   generate_until   exact_match on filtered_resps.0 against target
//   multiple_choice  mc_acc and mc_acc_norm on filtered_resps (the choices' log-likelihoods)
//                    against target, the choices' texts from `arguments`
// Other output types (loglikelihood, loglikelihood_rolling) are refused naming the task.
// docs/lm-eval-import.md describes the command.
#ifndef EMAR_CLIENT_LM_EVAL_IMPORT_H_
#define EMAR_CLIENT_LM_EVAL_IMPORT_H_

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace emar {

// One task of a harness output directory.
struct LmEvalTask {
  std::string name;
  std::string samples_path;  // DIR/samples_<task>_<date>.jsonl
  std::string output_type;   // generate_until, multiple_choice, ...
};

// The tasks of one model's harness output directory, by name. `dir` may also be the
// --output_path above it when that holds exactly one model's directory. Errors name the
// directory and the task: no samples files, two samples files for one task, a samples file
// without its results_<date>.json, a task missing from the results' configs, a samples file whose
// first line is not a harness sample.
absl::StatusOr<std::map<std::string, LmEvalTask>> ReadLmEvalDir(const std::string& dir);

struct LmEvalModel {
  std::string name;
  std::string dir;
};

struct LmEvalImport {
  std::string name = "lm-eval";  // the job's name
  LmEvalModel base;
  std::vector<LmEvalModel> candidates;
  std::vector<std::string> targets, benchmarks;  // task names
  // Where the job file will live: its paths are written relative to this directory.
  std::string job_dir = ".";
};

// The job file (YAML) for `spec`, or an error naming the model's directory and the task (a task
// missing for one model, a task of an output type that cannot be scored, a task both target and
// benchmark, ...).
absl::StatusOr<std::string> LmEvalJobYaml(const LmEvalImport& spec);

// `emarctl job ARGS...` (ARGS[0] = "from-lm-eval"): parses the flags, writes the job to --out or
// `out`. Returns the exit code (0, 1 error, 2 usage), messages on `err`.
int LmEvalImportCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace emar

#endif  // EMAR_CLIENT_LM_EVAL_IMPORT_H_
