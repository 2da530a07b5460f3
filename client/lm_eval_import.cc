#include "client/lm_eval_import.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/json_string.h"
#include "common/status_macros.h"

namespace emar {
namespace {

namespace fs = std::filesystem;
using google::protobuf::Struct;
using google::protobuf::Value;

constexpr char kSamplesPrefix[] = "samples_";
constexpr char kSamplesSuffix[] = ".jsonl";
constexpr char kResultsPrefix[] = "results_";

// Python's json.dumps writes NaN, Infinity and -Infinity for such floats (a results file's
// stderr of a one-sample task, say): not JSON. They become null outside strings.
std::string WithoutNonFiniteNumbers(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (absl::string_view word : {"-Infinity", "Infinity", "NaN"}) {
      if (absl::string_view(text).substr(i, word.size()) == word) {
        out += "null";
        i += word.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

absl::StatusOr<Struct> ParseJsonObject(const std::string& text, const std::string& where) {
  Struct s;
  const auto st = google::protobuf::util::JsonStringToMessage(WithoutNonFiniteNumbers(text), &s);
  if (!st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": not a JSON object: ", std::string(st.message().data(), st.message().size())));
  }
  return s;
}

// The first line of a samples file must look like a harness sample.
absl::Status CheckFirstSample(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": empty or unreadable samples file"));
  }
  ASSIGN_OR_RETURN(const Struct sample, ParseJsonObject(line, absl::StrCat(path, ":1")));
  for (const char* field : {"doc_id", "target", "filtered_resps"}) {
    if (!sample.fields().contains(field)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":1: field '", field,
                       "' missing: not an lm-evaluation-harness sample (run with --log_samples)"));
    }
  }
  return absl::OkStatus();
}

// "samples_<task>_<date>.jsonl" -> {task, date}; the date (an ISO time with '-' for ':') holds no
// '_', task names may.
bool SplitSamplesName(const std::string& file, std::string* task, std::string* date) {
  if (!absl::StartsWith(file, kSamplesPrefix) || !absl::EndsWith(file, kSamplesSuffix)) {
    return false;
  }
  const std::string stem =
      file.substr(sizeof(kSamplesPrefix) - 1,
                  file.size() - (sizeof(kSamplesPrefix) - 1) - (sizeof(kSamplesSuffix) - 1));
  const size_t cut = stem.rfind('_');
  if (cut == std::string::npos || cut == 0 || cut + 1 == stem.size()) return false;
  *task = stem.substr(0, cut);
  *date = stem.substr(cut + 1);
  return true;
}

bool HoldsHarnessFiles(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string f = e.path().filename().string();
    if (absl::StartsWith(f, kSamplesPrefix) || absl::StartsWith(f, kResultsPrefix)) return true;
  }
  return false;
}

// The directory holding the files: `dir` itself, or the one model directory the harness made
// under an --output_path.
absl::StatusOr<fs::path> ModelDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
  }
  if (HoldsHarnessFiles(dir)) return fs::path(dir);
  std::vector<std::string> models;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory() && HoldsHarnessFiles(e.path())) models.push_back(e.path().string());
  }
  std::sort(models.begin(), models.end());
  if (models.size() == 1) return fs::path(models[0]);
  if (models.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir,
                     ": no lm-evaluation-harness output (results_*.json, "
                     "samples_<task>_<date>.jsonl) here or one level down"));
  }
  return absl::InvalidArgumentError(absl::StrCat(dir, ": holds several models' outputs (",
                                                 absl::StrJoin(models, ", "), "): name one"));
}

// configs.<task>.output_type of results_<date>.json, read once per date.
class OutputTypes {
 public:
  explicit OutputTypes(fs::path dir) : dir_(std::move(dir)) {}

  absl::StatusOr<std::string> Of(const std::string& task, const std::string& date,
                                 const std::string& samples_file) {
    const std::string path = (dir_ / absl::StrCat(kResultsPrefix, date, ".json")).string();
    auto it = results_.find(date);
    if (it == results_.end()) {
      absl::StatusOr<std::string> text = ReadFileToString(path);
      if (!text.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(dir_.string(), ": task ", task, ": ", samples_file, " has no results_",
                         date, ".json beside it (the task's output type is read from there)"));
      }
      ASSIGN_OR_RETURN(Struct parsed, ParseJsonObject(*text, path));
      it = results_.emplace(date, std::move(parsed)).first;
    }
    const auto& configs = it->second.fields();
    const auto config = configs.find("configs");
    if (config == configs.end() || !config->second.has_struct_value() ||
        !config->second.struct_value().fields().contains(task)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": no configs.", task, " (the task's configuration)"));
    }
    const Value& task_config = config->second.struct_value().fields().at(task);
    const auto type = task_config.struct_value().fields().find("output_type");
    if (type == task_config.struct_value().fields().end() || !type->second.has_string_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": configs.", task, ".output_type missing or not a string"));
    }
    return type->second.string_value();
  }

 private:
  fs::path dir_;
  std::map<std::string, Struct> results_;
};

}  // namespace

absl::StatusOr<std::map<std::string, LmEvalTask>> ReadLmEvalDir(const std::string& dir) {
  ASSIGN_OR_RETURN(const fs::path model_dir, ModelDir(dir));
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(model_dir, ec)) {
    if (e.is_regular_file()) files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, LmEvalTask> tasks;
  OutputTypes types(model_dir);
  for (const std::string& file : files) {
    std::string task, date;
    if (!SplitSamplesName(file, &task, &date)) continue;
    const std::string path = (model_dir / file).string();
    if (auto seen = tasks.find(task); seen != tasks.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(model_dir.string(), ": task ", task, " has two samples files, ",
                       fs::path(seen->second.samples_path).filename().string(), " and ", file,
                       " (two runs in one directory: keep one)"));
    }
    ASSIGN_OR_RETURN(std::string output_type, types.Of(task, date, file));
    RETURN_IF_ERROR(CheckFirstSample(path));
    tasks[task] = LmEvalTask{task, path, std::move(output_type)};
  }
  if (tasks.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_dir.string(),
                     ": no samples_<task>_<date>.jsonl files (run lm_eval with --log_samples)"));
  }
  return tasks;
}

namespace {

// A path as the job file names it: relative to the job's directory when both are on one tree.
std::string JobPath(const std::string& path, const std::string& job_dir) {
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  const fs::path rel = abs.lexically_relative(fs::absolute(job_dir, ec));
  return rel.empty() ? abs.string() : rel.string();
}

// A task's dataset entry: its references (the base's samples), metrics and fields.
absl::StatusOr<std::string> DatasetYaml(const LmEvalTask& task, const std::string& base_dir,
                                        const std::string& job_dir) {
  std::string metrics, fields;
  if (task.output_type == "generate_until") {
    metrics = "[{name: exact_match}]";
    fields = "{id_field: doc_id, reference_field: target, prediction_field: filtered_resps.0}";
  } else if (task.output_type == "multiple_choice") {
    metrics = "[{name: mc_acc}, {name: mc_acc_norm}]";
    fields = "{id_field: doc_id, reference_field: target, prediction_field: filtered_resps}";
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(base_dir, ": task ", task.name, " is a ", task.output_type,
                     " task: only generate_until and multiple_choice tasks can be imported"));
  }
  return absl::StrCat("  - name: ", JsonString(task.name),
                      "\n    references: ", JsonString(JobPath(task.samples_path, job_dir)),
                      "\n    metrics: ", metrics, "\n    fields: ", fields, "\n");
}

}  // namespace

absl::StatusOr<std::string> LmEvalJobYaml(const LmEvalImport& spec) {
  std::set<std::string> names = {spec.base.name};
  for (const LmEvalModel& c : spec.candidates) {
    if (!names.insert(c.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "candidate name '", c.name, "' is used twice (the base is '", spec.base.name, "')"));
    }
  }
  for (const std::string& t : spec.targets) {
    if (std::count(spec.benchmarks.begin(), spec.benchmarks.end(), t) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("task ", t, " is both a target and a benchmark"));
    }
  }
  std::vector<std::string> all = spec.targets;
  all.insert(all.end(), spec.benchmarks.begin(), spec.benchmarks.end());
  std::vector<LmEvalModel> models = {spec.base};
  models.insert(models.end(), spec.candidates.begin(), spec.candidates.end());
  std::vector<std::map<std::string, LmEvalTask>> found;
  for (const LmEvalModel& m : models) {
    using TaskMap = std::map<std::string, LmEvalTask>;
    ASSIGN_OR_RETURN(TaskMap tasks, ReadLmEvalDir(m.dir));
    for (const std::string& t : all) {
      auto it = tasks.find(t);
      std::vector<std::string> have;
      for (const auto& [name, task] : tasks) have.push_back(name);
      if (it == tasks.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(m.dir, " (", m.name, "): no samples file for task ", t,
                         " (its tasks: ", absl::StrJoin(have, ", "), ")"));
      }
      const LmEvalTask& in_base = found.empty() ? it->second : found[0].at(t);
      if (it->second.output_type != in_base.output_type) {
        return absl::InvalidArgumentError(absl::StrCat(m.dir, " (", m.name, "): task ", t, " is ",
                                                       it->second.output_type, " there but ",
                                                       in_base.output_type, " in ", spec.base.dir));
      }
    }
    found.push_back(std::move(tasks));
  }
  std::string out =
      absl::StrCat("# lm-evaluation-harness outputs as an EMAR suite (emarctl job from-lm-eval).\n",
                   "name: ", JsonString(spec.name), "\n");
  for (const auto& [key, list] :
       {std::pair{"targets", &spec.targets}, std::pair{"benchmarks", &spec.benchmarks}}) {
    absl::StrAppend(&out, key, ":\n");
    for (const std::string& t : *list) {
      ASSIGN_OR_RETURN(std::string entry, DatasetYaml(found[0].at(t), spec.base.dir, spec.job_dir));
      absl::StrAppend(&out, entry);
    }
  }
  for (size_t i = 0; i < models.size(); ++i) {
    std::vector<std::string> outputs;
    outputs.reserve(all.size());
    for (const std::string& t : all) {
      outputs.push_back(absl::StrCat(
          JsonString(t), ": ", JsonString(JobPath(found[i].at(t).samples_path, spec.job_dir))));
    }
    absl::StrAppend(&out,
                    i == 0   ? "base:"
                    : i == 1 ? "candidates:\n  -"
                             : "  -",
                    " {name: ", JsonString(models[i].name), ", outputs: {",
                    absl::StrJoin(outputs, ", "), "}}\n");
  }
  return out;
}

}  // namespace emar

namespace emar {
namespace {

constexpr char kJobUsage[] =
    R"(emarctl job from-lm-eval --base DIR --candidate NAME=DIR [--candidate NAME=DIR]...
    --target TASK[,TASK...] --benchmarks TASK[,TASK...] [--name JOB_NAME] [--out JOB.yaml]

  A suite job file from lm-evaluation-harness output directories (lm_eval --output_path ...
  --log_samples), one per model: each task's samples_<task>_<date>.jsonl is read as it is.
  Without --out the job goes to stdout, its paths relative to the current directory.)";

int JobUsage(std::ostream& err, const std::string& why) {
  err << "emarctl: " << why << "\n" << kJobUsage << std::endl;
  return 2;
}

std::vector<std::string> TaskList(const std::string& value) {
  return absl::StrSplit(value, ',', absl::SkipWhitespace());
}

}  // namespace

int LmEvalImportCommand(const std::vector<std::string>& args, std::ostream& out,
                        std::ostream& err) {
  const bool help = std::find(args.begin(), args.end(), "--help") != args.end() ||
                    (!args.empty() && args[0] == "help");
  if (help) {
    out << kJobUsage << "\n";
    return 0;
  }
  if (args.empty()) return JobUsage(err, "job needs a subcommand (from-lm-eval)");
  if (args[0] != "from-lm-eval") return JobUsage(err, "unknown job subcommand '" + args[0] + "'");
  LmEvalImport spec;
  spec.base.name = "base";
  std::string out_path;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string flag = args[i], value;
    if (const size_t eq = flag.find('='); absl::StartsWith(flag, "--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return JobUsage(err, flag + " needs a value");
    }
    if (flag == "--base") {
      spec.base.dir = value;
    } else if (flag == "--candidate") {
      const size_t eq = value.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == value.size()) {
        return JobUsage(err, "--candidate takes NAME=DIR, not '" + value + "'");
      }
      spec.candidates.push_back({value.substr(0, eq), value.substr(eq + 1)});
    } else if (flag == "--target") {
      spec.targets = TaskList(value);
    } else if (flag == "--benchmarks") {
      spec.benchmarks = TaskList(value);
    } else if (flag == "--name") {
      spec.name = value;
    } else if (flag == "--out") {
      out_path = value;
    } else {
      return JobUsage(err, "unknown flag '" + flag + "'");
    }
  }
  if (spec.base.dir.empty()) return JobUsage(err, "from-lm-eval needs --base DIR");
  if (spec.candidates.empty()) return JobUsage(err, "from-lm-eval needs --candidate NAME=DIR");
  if (spec.targets.empty()) return JobUsage(err, "from-lm-eval needs --target TASK");
  if (spec.benchmarks.empty()) return JobUsage(err, "from-lm-eval needs --benchmarks TASK,...");
  spec.job_dir = out_path.empty() ? "." : DirName(out_path);
  absl::StatusOr<std::string> job = LmEvalJobYaml(spec);
  absl::Status written = job.status();
  if (job.ok() && out_path.empty()) out << *job << std::flush;
  if (job.ok() && !out_path.empty()) written = WriteFileAtomically(out_path, *job);
  if (!written.ok()) {
    err << "emarctl: " << written.message() << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace emar
