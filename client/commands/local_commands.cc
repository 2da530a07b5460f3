// emarctl score, emar, plan, hash and job: commands that run locally, with no coordinator.
#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/commands/cli.h"
#include "client/commands/commands.h"
#include "client/lm_eval_import.h"
#include "client/local_scorer.h"
#include "client/plan_command.h"
#include "common/json_string.h"
#include "common/sha256.h"
#include "eval/formula/emar_formula.h"

ABSL_FLAG(std::string, metric, "",
          "score, plan: metric name; flips: the dataset's metric (default its primary)");
ABSL_FLAG(std::string, predictions, "", "score: predictions JSONL");
ABSL_FLAG(std::string, references, "", "score: references JSONL");
ABSL_FLAG(std::string, id_field, "", "score: id field (default id)");
ABSL_FLAG(std::string, prediction_field, "", "score: prediction field (default prediction)");
ABSL_FLAG(std::string, reference_field, "",
          "score: reference field (default reference/references)");
ABSL_FLAG(std::string, formula, "relative_gain", "emar: preset name or expression");
ABSL_FLAG(double, t0, NAN, "emar: base model on target");
ABSL_FLAG(double, t1, NAN, "emar: candidate on target");
ABSL_FLAG(double, b0, NAN, "emar: base model on benchmark");
ABSL_FLAG(double, b1, NAN, "emar: candidate on benchmark");

namespace emar {
namespace {

std::string JsonNumber(double v) { return absl::StrFormat("%.17g", v); }

}  // namespace

int ScoreCommand(const std::vector<std::string>& args) {
  if (!args.empty()) return Usage("score takes flags only");
  if (absl::GetFlag(FLAGS_metric).empty() || absl::GetFlag(FLAGS_predictions).empty() ||
      absl::GetFlag(FLAGS_references).empty()) {
    return Usage("score needs --metric, --predictions and --references");
  }
  emar::v1::FieldNames fields;
  fields.set_id_field(absl::GetFlag(FLAGS_id_field));
  fields.set_prediction_field(absl::GetFlag(FLAGS_prediction_field));
  fields.set_reference_field(absl::GetFlag(FLAGS_reference_field));
  auto s = ScoreFiles(absl::GetFlag(FLAGS_metric), absl::GetFlag(FLAGS_predictions),
                      absl::GetFlag(FLAGS_references), fields);
  if (!s.ok()) return Fail(s.status());
  if (Json()) {
    std::cout << "{\"metric\": " << JsonString(s->metric)
              << ", \"value\": " << (s->value.value ? JsonNumber(*s->value.value) : "null")
              << ", \"undefined_reason\": "
              << (s->value.value ? "null" : JsonString(s->value.undefined_reason))
              << ", \"n\": " << s->n << ", \"direction\": " << JsonString(s->direction)
              << ", \"signature\": " << JsonString(s->signature) << "}" << std::endl;
  } else {
    std::cout << s->metric << " = "
              << (s->value.value ? absl::StrFormat("%.6f", *s->value.value)
                                 : "undefined (" + s->value.undefined_reason + ")")
              << "  (n=" << s->n << ", " << s->direction << ")\n"
              << s->signature << std::endl;
  }
  return 0;
}

int EmarCommand(const std::vector<std::string>& args) {
  if (!args.empty()) return Usage("emar takes flags only");
  const double t0 = absl::GetFlag(FLAGS_t0), t1 = absl::GetFlag(FLAGS_t1);
  const double b0 = absl::GetFlag(FLAGS_b0), b1 = absl::GetFlag(FLAGS_b1);
  if (std::isnan(t0) || std::isnan(t1) || std::isnan(b0) || std::isnan(b1)) {
    return Usage("emar needs --t0, --t1, --b0 and --b1 (finite numbers)");
  }
  auto formula = EmarFormula::Parse(absl::GetFlag(FLAGS_formula));
  if (!formula.ok()) return Fail(formula.status());
  const EmarValue v = formula->Evaluate({t0, t1, b0, b1});
  if (Json()) {
    std::cout << "{\"formula\": " << JsonString(formula->name())
              << ", \"expression\": " << JsonString(formula->expression())
              << ", \"value\": " << (v.value ? JsonNumber(*v.value) : "null")
              << ", \"undefined_reason\": " << (v.value ? "null" : JsonString(v.undefined_reason))
              << "}" << std::endl;
  } else {
    std::cout << "EMAR (" << formula->name() << ": " << formula->expression() << ") = "
              << (v.value ? absl::StrFormat("%.6g", *v.value) : "undefined: " + v.undefined_reason)
              << std::endl;
  }
  return 0;
}

int PlanCommand(const std::vector<std::string>& args) {
  if (!args.empty()) return Usage("plan takes flags only");
  return RunPlanCommand(absl::GetFlag(FLAGS_metric), Json(), std::cout, std::cerr);
}

int HashCommand(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("hash needs at least one FILE");
  for (const std::string& path : args) {
    absl::StatusOr<std::string> sha = Sha256OfFile(path);
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    if (!sha.ok()) return Fail(sha.status());
    if (ec) return Fail(absl::NotFoundError(absl::StrCat(path, ": ", ec.message())));
    if (Json()) {
      std::cout << "{\"path\": " << JsonString(path) << ", \"sha256\": " << JsonString(*sha)
                << ", \"size\": " << size << "}" << std::endl;
    } else {  // the two keys a job's {uri: ..., sha256: ..., size: ...} needs
      std::cout << path << ": {sha256: " << *sha << ", size: " << size << "}" << std::endl;
    }
  }
  return 0;
}

int JobCommand(const std::vector<std::string>& args) {
  return LmEvalImportCommand(args, std::cout, std::cerr);
}

}  // namespace emar
