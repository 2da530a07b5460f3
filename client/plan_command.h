// `emarctl plan`: the power analysis of an evaluation before it is run. Either how many items it
// needs to detect a margin with the given power, or (with --items) the minimum detectable effect
// of an evaluation of that many items.
//
//   emarctl plan --metric accuracy --baseline 0.70 --margin 0.03
//   emarctl plan --metric accuracy --baseline 0.70 --margin 0.03 --discordance 0.12
//   emarctl plan --metric token_f1 --sd 0.35 --margin 0.02 --one-sided
//   emarctl plan --metric accuracy --baseline 0.70 --items 500
//
// 0/1 metrics (accuracy, exact_match) plan McNemar's test from the base model's accuracy and the
// share of items on which base and candidate disagree (--discordance; assumed from independent
// errors when not given, which overstates it for a fine-tune of the base: the plan says so).
// Other metrics need --sd, the standard deviation of one item's paired difference (candidate −
// base), e.g. from an earlier run. Formulas and assumptions: eval/stats/power.h.
#ifndef EMAR_CLIENT_PLAN_COMMAND_H_
#define EMAR_CLIENT_PLAN_COMMAND_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "eval/stats/power.h"

namespace emar {

struct PlanRequest {
  std::string metric;
  std::optional<double> baseline;     // 0/1 metrics: the base model's score, a fraction
  std::optional<double> margin;       // the effect to detect (needed unless items is set)
  std::optional<double> discordance;  // 0/1 metrics: P(base and candidate disagree on an item)
  std::optional<double> sd;           // other metrics: sd of one item's paired difference
  std::optional<int64_t> items;       // set: report the MDE of this many items instead
  PowerOptions power;
};

struct PlanResult {
  PlanRequest request;
  bool binary = false;               // planned with McNemar's test
  double discordance = 0;            // binary: the ψ used
  bool discordance_assumed = false;  // binary: ψ from the independence assumption
  std::optional<int64_t> items;      // items needed (margin mode)
  std::optional<double> mde;         // minimum detectable effect (items mode)
};

// INVALID_ARGUMENT naming the flag for a missing or inconsistent input, or an unknown metric.
absl::StatusOr<PlanResult> MakePlan(const PlanRequest& request);

std::string PlanToText(const PlanResult& plan);
std::string PlanToJson(const PlanResult& plan);

// Reads the plan flags (--baseline --margin --discordance --sd --items --alpha --power
// --one-sided, defined in plan_command.cc) for `metric`, prints the plan to `out` and returns the
// exit code: 0, 1 for an impossible plan, 2 for a usage error (message on `err`).
int RunPlanCommand(const std::string& metric, bool json, std::ostream& out, std::ostream& err);

}  // namespace emar

#endif  // EMAR_CLIENT_PLAN_COMMAND_H_
