#include "client/plan_command.h"

#include <charconv>
#include <cmath>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json_string.h"
#include "common/status_macros.h"
#include "eval/metrics/metric_registry.h"

ABSL_FLAG(std::optional<double>, baseline, std::nullopt,
          "plan: the base model's score on a 0/1 metric (a fraction)");
ABSL_FLAG(std::optional<double>, margin, std::nullopt,
          "plan: the effect to detect, candidate - base (a fraction)");
ABSL_FLAG(std::optional<double>, discordance, std::nullopt,
          "plan: 0/1 metrics: share of items the two models disagree on (default: assumed from "
          "independent errors)");
ABSL_FLAG(std::optional<double>, sd, std::nullopt,
          "plan: other metrics: standard deviation of one item's paired difference");
ABSL_FLAG(std::optional<int64_t>, items, std::nullopt,
          "plan: print the minimum detectable effect of this many items instead");
ABSL_FLAG(double, alpha, 0.05, "plan: significance level");
ABSL_FLAG(double, power, 0.8, "plan: power");
ABSL_FLAG(bool, one_sided, false,
          "plan: one-sided test (a non-inferiority gate; alpha = (1 - confidence) / 2)");

namespace emar {
namespace {

// The shortest text that reads back as `v` (JSON has no inf or NaN; plan values are finite).
std::string JsonNumber(double v) {
  char buf[32];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

absl::Status Missing(absl::string_view flag, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("plan needs --", flag, " ", why));
}

absl::StatusOr<PlanResult> PlanBinaryMetric(const PlanRequest& r) {
  PlanResult plan;
  plan.request = r;
  plan.binary = true;
  if (!r.baseline) return Missing("baseline", "(the base model's accuracy) for a 0/1 metric");
  if (r.items) {
    const double p0 = *r.baseline;
    if (!(p0 > 0 && p0 < 1)) {
      return absl::InvalidArgumentError("--baseline must be a fraction in (0, 1)");
    }
    plan.discordance_assumed = !r.discordance;
    plan.discordance = r.discordance ? *r.discordance : 2 * p0 * (1 - p0);
    ASSIGN_OR_RETURN(plan.mde, McNemarMinimumDetectableEffect(plan.discordance, *r.items, r.power));
    return plan;
  }
  if (!r.margin) return Missing("margin", "(the difference to detect) or --items");
  ASSIGN_OR_RETURN(BinaryPlan b, PlanBinary(*r.baseline, *r.margin, r.discordance, r.power));
  plan.discordance = b.discordance;
  plan.discordance_assumed = b.discordance_assumed;
  plan.items = b.items;
  return plan;
}

}  // namespace

absl::StatusOr<PlanResult> MakePlan(const PlanRequest& r) {
  if (r.metric.empty()) return Missing("metric", "(e.g. accuracy)");
  ASSIGN_OR_RETURN(std::unique_ptr<Metric> metric, MakeMetric(r.metric));
  if (r.items && *r.items < 1) return absl::InvalidArgumentError("--items must be >= 1");
  if (metric->is_binary()) return PlanBinaryMetric(r);
  if (!r.sd) {
    return Missing("sd", absl::StrCat("(the standard deviation of one item's paired difference) "
                                      "for metric '",
                                      r.metric, "', which is not 0/1"));
  }
  PlanResult plan;
  plan.request = r;
  if (r.items) {
    ASSIGN_OR_RETURN(plan.mde, MinimumDetectableEffect(
                                   *r.sd / std::sqrt(static_cast<double>(*r.items)), r.power));
    return plan;
  }
  if (!r.margin) return Missing("margin", "(the difference to detect) or --items");
  ASSIGN_OR_RETURN(plan.items, ItemsNeeded(*r.sd, *r.margin, r.power));
  return plan;
}

namespace {

std::string TestText(const PlanResult& p) {
  const PowerOptions& o = p.request.power;
  return absl::StrFormat("%s at alpha %g, power %g",
                         o.sides == Sidedness::kOneSided ? "one-sided" : "two-sided", o.alpha,
                         o.power);
}

}  // namespace

std::string PlanToText(const PlanResult& p) {
  std::string out;
  if (p.items) {
    absl::StrAppendFormat(&out, "%d items to detect %+g on %s (%s)\n", *p.items, *p.request.margin,
                          p.request.metric, TestText(p));
  } else {
    absl::StrAppendFormat(&out, "minimum detectable effect of %d items on %s: %.4f (%s)\n",
                          *p.request.items, p.request.metric, *p.mde, TestText(p));
  }
  if (p.binary) {
    absl::StrAppendFormat(&out, "  McNemar's test, baseline %g, discordance %.4f (%s)\n",
                          *p.request.baseline, p.discordance,
                          p.discordance_assumed ? "assumed" : "given");
    if (p.discordance_assumed) {
      out +=
          "  the discordance assumes independent errors; a fine-tune usually disagrees with its "
          "base\n  less and needs fewer items: pass --discordance from an earlier run\n";
    }
  } else {
    absl::StrAppendFormat(&out, "  normal approximation, per-item sd of the paired difference %g\n",
                          *p.request.sd);
  }
  return out;
}

std::string PlanToJson(const PlanResult& p) {
  const PowerOptions& o = p.request.power;
  auto number = [](const std::optional<double>& v) { return v ? JsonNumber(*v) : "null"; };
  return absl::StrCat("{\"metric\": ", JsonString(p.request.metric),
                      ", \"test\": ", JsonString(p.binary ? "mcnemar" : "normal"),
                      ", \"alpha\": ", JsonNumber(o.alpha), ", \"power\": ", JsonNumber(o.power),
                      ", \"sides\": ", o.sides == Sidedness::kOneSided ? 1 : 2,
                      ", \"baseline\": ", number(p.request.baseline),
                      ", \"margin\": ", number(p.request.margin),
                      ", \"sd\": ", number(p.request.sd),
                      ", \"discordance\": ", p.binary ? JsonNumber(p.discordance) : "null",
                      ", \"discordance_assumed\": ", p.discordance_assumed ? "true" : "false",
                      ", \"items\": ", absl::StrCat(p.items ? *p.items : *p.request.items),
                      ", \"mde\": ", number(p.mde), "}\n");
}

int RunPlanCommand(const std::string& metric, bool json, std::ostream& out, std::ostream& err) {
  PlanRequest r;
  r.metric = metric;
  r.baseline = absl::GetFlag(FLAGS_baseline);
  r.margin = absl::GetFlag(FLAGS_margin);
  r.discordance = absl::GetFlag(FLAGS_discordance);
  r.sd = absl::GetFlag(FLAGS_sd);
  r.items = absl::GetFlag(FLAGS_items);
  r.power.alpha = absl::GetFlag(FLAGS_alpha);
  r.power.power = absl::GetFlag(FLAGS_power);
  r.power.sides = absl::GetFlag(FLAGS_one_sided) ? Sidedness::kOneSided : Sidedness::kTwoSided;
  absl::StatusOr<PlanResult> plan = MakePlan(r);
  if (!plan.ok()) {
    err << "emarctl: " << plan.status().message() << std::endl;
    return absl::StartsWith(plan.status().message(), "plan needs") ? 2 : 1;
  }
  out << (json ? PlanToJson(*plan) : PlanToText(*plan));
  return 0;
}

}  // namespace emar
