#include "server/report_statistics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "eval/stats/power.h"
#include "eval/stats/wilson_interval.h"

namespace emar {
namespace {

PowerOptions PowerOf(const ReportStatsSettings& s) {
  PowerOptions o;
  o.alpha = 1 - s.confidence;
  o.power = s.power;
  o.sides = Sidedness::kTwoSided;
  return o;
}

// The paired 0/1 counts of the base (system 0) and system `sys`.
PairedCounts CountsOf(const DatasetResults& d, size_t sys) {
  PairedCounts c;
  const std::vector<double>& base = d.systems[0];
  const std::vector<double>& cand = d.systems[sys];
  for (size_t i = 0; i < d.n; ++i) {
    const bool b = base[i] != 0, k = cand[i] != 0;
    if (b && k) ++c.both;
    if (b && !k) ++c.only_base;
    if (!b && k) ++c.only_candidate;
    if (!b && !k) ++c.neither;
  }
  return c;
}

void SetSeMde(const emar::Estimate& delta, const ReportStatsSettings& s,
              emar::v1::DatasetComparison* dc) {
  if (!delta.ci.std_error) return;
  absl::StatusOr<double> mde = MinimumDetectableEffect(*delta.ci.std_error, PowerOf(s));
  if (!mde.ok()) return;
  dc->set_mde(*mde);
  dc->set_mde_method("bootstrap_se");
}

void SetSmallSample(const PairedCounts& counts, const ReportStatsSettings& s,
                    emar::v1::DatasetComparison* dc) {
  const int64_t n = counts.n();
  const auto base = WilsonInterval(counts.both + counts.only_base, n, s.confidence);
  const auto cand = WilsonInterval(counts.both + counts.only_candidate, n, s.confidence);
  const auto delta = PairedDifferenceInterval(counts, s.confidence);
  if (!base.ok() || !cand.ok() || !delta.ok()) return;
  emar::v1::SmallSampleIntervals* out = dc->mutable_small_sample();
  out->set_applies(true);
  out->set_base_low(base->low);
  out->set_base_high(base->high);
  out->set_candidate_low(cand->low);
  out->set_candidate_high(cand->high);
  out->set_delta_low(delta->low);
  out->set_delta_high(delta->high);
  out->set_warning(absl::StrCat(
      n, " items (fewer than ", s.small_dataset_items,
      "): percentile bootstrap intervals are unreliable; Wilson intervals are given, and gates "
      "use the more conservative bound"));
}

}  // namespace

ReportStatsSettings ReportStatsSettingsOf(const emar::v1::JobSpec& spec) {
  ReportStatsSettings s;
  const emar::v1::BootstrapSpec& bs = spec.bootstrap();
  if (bs.confidence() > 0 && bs.confidence() < 1) s.confidence = bs.confidence();
  if (bs.has_power()) s.power = bs.power();
  if (bs.has_small_dataset_items()) s.small_dataset_items = bs.small_dataset_items();
  return s;
}

void AddComparisonStatistics(const DatasetResults& d, size_t sys, const emar::Estimate& delta,
                             const ReportStatsSettings& settings, emar::v1::DatasetComparison* dc) {
  if (!d.samples_per_item.empty()) {
    dc->set_base_samples_per_item(static_cast<int32_t>(d.samples_per_item[0]));
    dc->set_candidate_samples_per_item(static_cast<int32_t>(d.samples_per_item[sys]));
  }
  if (!d.metric->is_binary() || d.n == 0 || sys >= d.systems.size()) {
    SetSeMde(delta, settings, dc);
    return;
  }
  const PairedCounts counts = CountsOf(d, sys);
  const int64_t n = counts.n();
  const double discordance =
      static_cast<double>(counts.only_base + counts.only_candidate) / static_cast<double>(n);
  absl::StatusOr<double> mde =
      discordance > 0 ? McNemarMinimumDetectableEffect(discordance, n, PowerOf(settings))
                      : absl::StatusOr<double>(absl::InvalidArgumentError("none"));
  if (mde.ok()) {
    dc->set_mde(*mde);
    dc->set_mde_method("mcnemar");
  } else {
    SetSeMde(delta, settings, dc);
  }
  if (n < settings.small_dataset_items) SetSmallSample(counts, settings, dc);
}

void AddAggregateStatistics(const emar::Estimate& delta, const ReportStatsSettings& settings,
                            emar::v1::DatasetComparison* dc) {
  SetSeMde(delta, settings, dc);
}

std::optional<double> GateDeltaBound(const emar::v1::DatasetComparison& d, bool upper,
                                     std::string* source) {
  const emar::v1::Estimate& e = d.delta();
  std::optional<double> boot;
  if (upper && e.has_ci_high()) boot = e.ci_high();
  if (!upper && e.has_ci_low()) boot = e.ci_low();
  if (!boot || !d.small_sample().applies()) return boot;
  const double wilson = upper ? d.small_sample().delta_high() : d.small_sample().delta_low();
  const bool wilson_wins = upper ? wilson > *boot : wilson < *boot;
  if (!wilson_wins) return boot;
  *source = "wilson";
  return wilson;
}

void MarkPower(const emar::v1::DatasetComparison& d, emar::v1::GateResult* gate) {
  if (!d.has_mde()) return;
  gate->set_mde(d.mde());
  gate->set_underpowered(gate->threshold() < d.mde());
}

}  // namespace emar
