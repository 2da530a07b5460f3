#include "client/report_power.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace emar {
namespace {

using emar::v1::BootstrapSettings;
using emar::v1::CandidateReport;
using emar::v1::DatasetComparison;
using emar::v1::GateResult;

std::string PowerWords(const BootstrapSettings& s) {
  const double power = s.power() > 0 ? s.power() : 0.8;
  return absl::StrFormat("%.0f%% power, alpha %g", 100 * power, 1 - s.confidence());
}

std::string Range(double low, double high) { return absl::StrFormat("[%.4f, %.4f]", low, high); }

// The comparison a gate bounds: its dataset's primary entry, or the candidate's aggregate.
const DatasetComparison* GatedComparison(const CandidateReport& c, const GateResult& g) {
  if (!g.dataset().empty()) {
    for (const DatasetComparison& d : c.datasets()) {
      if (d.dataset() == g.dataset() && d.primary()) return &d;
    }
    return nullptr;
  }
  return g.gate() == "min_target_gain" ? &c.target() : &c.benchmark();
}

}  // namespace

std::string ItemsText(const DatasetComparison& d) {
  const int base = d.base_samples_per_item(), cand = d.candidate_samples_per_item();
  if (base == 0 && cand == 0) return absl::StrCat(d.n());
  const std::string k = base == cand ? absl::StrCat(base) : absl::StrCat(base, "/", cand);
  return absl::StrCat(d.n(), " items × ", k, " samples");
}

std::string ItemsCell(const DatasetComparison& d) {
  const int base = d.base_samples_per_item(), cand = d.candidate_samples_per_item();
  if (base == 0 && cand == 0) return absl::StrCat(d.n());
  return base == cand ? absl::StrCat(d.n(), "×", base) : absl::StrCat(d.n(), "×", base, "/", cand);
}

std::string MdeText(const DatasetComparison& d) {
  return d.has_mde() ? absl::StrFormat("%.4f", d.mde()) : "–";
}

std::string GateResultText(const GateResult& g) {
  return absl::StrCat(g.passed() ? "pass" : "FAIL", g.underpowered() ? " (underpowered)" : "");
}

std::vector<std::string> StatisticsNotes(const CandidateReport& c,
                                         const BootstrapSettings& settings) {
  std::vector<std::string> out;
  for (const GateResult& g : c.gates()) {
    if (!g.underpowered()) continue;
    out.push_back(absl::StrFormat(
        "Gate %s%s is underpowered: its margin %g is smaller than the minimum detectable effect "
        "%.4f of the delta it bounds (%s), so this evaluation could not reliably see a "
        "regression of that size; %s More items, or a wider margin, would make it meaningful.",
        g.gate(), g.dataset().empty() ? "" : absl::StrCat(" on ", g.dataset()), g.threshold(),
        g.mde(), PowerWords(settings),
        g.passed() ? "a pass here means little."
                   : "it failed, and with so few items even a pass would have meant little."));
  }
  std::vector<const DatasetComparison*> all = {&c.target(), &c.benchmark()};
  if (c.datasets_size() > 2) {
    all.clear();
    for (const DatasetComparison& d : c.datasets()) all.push_back(&d);
  }
  for (const DatasetComparison* d : all) {
    if (d->small_sample().applies()) {
      const auto& s = d->small_sample();
      out.push_back(absl::StrCat(d->dataset(), " (", d->metric(), "): ", s.warning(),
                                 ". Wilson intervals: base ", Range(s.base_low(), s.base_high()),
                                 ", candidate ", Range(s.candidate_low(), s.candidate_high()),
                                 "; delta (Newcombe) ", Range(s.delta_low(), s.delta_high()), "."));
    }
    if (d->base_samples_per_item() > 0) {
      out.push_back(absl::StrCat(
          d->dataset(), " (", d->metric(), "): ", d->n(), " items, ", d->base_samples_per_item(),
          " samples per item from the base model and ", d->candidate_samples_per_item(),
          " from the candidate; each item scores the mean of its samples (pass@k: its "
          "estimate) and the bootstrap resamples items, never single samples."));
    }
  }
  for (const GateResult& g : c.gates()) {
    if (g.bound_source() != "wilson") continue;
    const DatasetComparison* d = GatedComparison(c, g);
    out.push_back(absl::StrCat("Gate ", g.gate(), " compared Newcombe's bound ",
                               absl::StrFormat("%.4f", g.bound_value()),
                               ", more conservative than the bootstrap's",
                               d ? absl::StrCat(" on ", d->dataset()) : "", "."));
  }
  return out;
}

std::string DeltaStatisticsLines(const DatasetComparison& d, const BootstrapSettings& settings) {
  std::string out;
  if (d.has_mde()) {
    absl::StrAppend(&out, absl::StrFormat("    MDE       %.4f (%s, %s)\n", d.mde(), d.mde_method(),
                                          PowerWords(settings)));
  }
  if (d.small_sample().applies()) {
    const auto& s = d.small_sample();
    absl::StrAppend(&out, "    wilson    base ", Range(s.base_low(), s.base_high()), "  candidate ",
                    Range(s.candidate_low(), s.candidate_high()), "  delta ",
                    Range(s.delta_low(), s.delta_high()), "\n    warning   ", s.warning(), "\n");
  }
  return out;
}

}  // namespace emar
