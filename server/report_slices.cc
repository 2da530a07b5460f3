#include "server/report_slices.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "eval/job/suite.h"

namespace emar {
namespace {

// Slices resample on streams no other statistic uses: one per dataset, shared by its metrics.
constexpr uint64_t kSliceStreams = uint64_t{3} << 40;

void SetEstimate(const Estimate& e, emar::v1::Estimate* out) {
  if (e.value) out->set_value(*e.value);
  if (e.ci.low) out->set_ci_low(*e.ci.low);
  if (e.ci.high) out->set_ci_high(*e.ci.high);
  out->set_undefined_resamples(static_cast<int32_t>(e.ci.undefined_resamples));
  if (!e.value) out->set_undefined_reason("undefined on this slice");
}

}  // namespace

absl::StatusOr<ReportSlices> ReportSlices::Compute(const AssembledResults& results,
                                                   const std::vector<const ValidRows*>& rows,
                                                   const BootstrapOptions& options,
                                                   int min_slice_items) {
  ReportSlices out;
  out.min_items_ = min_slice_items;
  out.entries_.resize(results.results.size());
  for (size_t i = 0; i < results.results.size(); ++i) {
    const DatasetResults& d = results.results[i];
    auto it = results.slices.find(d.dataset);
    if (it == results.slices.end()) continue;
    Entry e;
    e.column = &it->second;
    e.lower_is_better = d.metric->direction() == Direction::kLowerIsBetter;
    ASSIGN_OR_RETURN(
        e.stats, RunSliceBootstrap(*rows[i], it->second.of_row, it->second.names.size(), options,
                                   kSliceStreams + static_cast<uint64_t>(d.dataset)));
    out.entries_[i] = std::move(e);
  }
  return out;
}

void ReportSlices::Fill(size_t i, size_t sys, emar::v1::DatasetComparison* out) const {
  if (i >= entries_.size() || !entries_[i]) return;
  const Entry& e = *entries_[i];
  std::vector<size_t> order(e.stats.size());
  for (size_t j = 0; j < order.size(); ++j) order[j] = j;
  // Worst delta first (lowest, or highest for a lower-is-better metric); undefined last; ties
  // by name.
  auto key = [&](size_t j) { return e.stats[j].delta[sys - 1].value; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto da = key(a), db = key(b);
    if (da.has_value() != db.has_value()) return da.has_value();
    if (da && *da != *db) return e.lower_is_better ? *da > *db : *da < *db;
    return e.column->names[a] < e.column->names[b];
  });
  for (size_t j : order) {
    const SliceStats& s = e.stats[j];
    emar::v1::SliceComparison* sc = out->add_slices();
    sc->set_slice(e.column->names[j]);
    sc->set_n(static_cast<int32_t>(s.n));
    SetEstimate(s.systems[0], sc->mutable_base());
    SetEstimate(s.systems[sys], sc->mutable_candidate());
    SetEstimate(s.delta[sys - 1], sc->mutable_delta());
    sc->set_gated(static_cast<int64_t>(s.n) >= min_items_);
  }
}

void AddSliceGates(const emar::v1::JobSpec& spec, emar::v1::CandidateReport* c) {
  const std::vector<SuiteDataset> datasets = SuiteDatasets(spec);
  for (const SuiteDataset& d : datasets) {
    std::optional<double> x;
    if (d.spec->gates().has_max_slice_regression()) {
      x = d.spec->gates().max_slice_regression();
    } else if (spec.gates().has_max_slice_regression()) {
      x = spec.gates().max_slice_regression();
    }
    if (!x) continue;
    for (const emar::v1::DatasetComparison& dc : c->datasets()) {
      if (dc.dataset() != d.spec->name() || !dc.primary() || dc.slices_size() == 0) continue;
      const bool lower = dc.direction() == "lower_is_better";
      // The worst gated slice by its bound: regression means delta < -x (lower: delta > x).
      std::optional<double> worst;
      std::string worst_name;
      bool undefined = false;
      int gated = 0;
      for (const emar::v1::SliceComparison& s : dc.slices()) {
        if (!s.gated()) continue;
        ++gated;
        const bool has = lower ? s.delta().has_ci_high() : s.delta().has_ci_low();
        if (!has) {
          undefined = true;
          worst_name = s.slice();
          break;
        }
        const double b = lower ? s.delta().ci_high() : s.delta().ci_low();
        if (!worst || (lower ? b > *worst : b < *worst)) {
          worst = b;
          worst_name = s.slice();
        }
      }
      emar::v1::GateResult* g = c->add_gates();
      g->set_gate("max_slice_regression");
      g->set_threshold(*x);
      g->set_dataset(d.spec->name());
      const std::string side = lower ? "ci_high" : "ci_low";
      const double limit = lower ? *x : -*x;
      if (gated == 0) {
        g->set_bound(absl::StrCat(d.spec->name(), ".slices"));
        g->set_passed(true);
        g->set_detail(absl::StrCat("no slice has enough items to be gated (min_slice_items)"));
        continue;
      }
      g->set_bound(absl::StrCat(d.spec->name(), ".slice[", worst_name, "].delta.", side));
      if (undefined || !worst) {
        g->set_passed(false);
        g->set_detail(absl::StrCat("slice '", worst_name, "': the delta's interval is undefined"));
      } else {
        g->set_bound_value(*worst);
        const bool passed = lower ? *worst <= limit : *worst >= limit;
        g->set_passed(passed);
        g->set_detail(absl::StrCat("worst of ", gated, " gated slices: ", g->bound(), " = ", *worst,
                                   lower ? " <= " : " >= ", limit, passed ? "" : " is false"));
      }
      if (!g->passed()) c->set_gates_passed(false);
    }
  }
}

}  // namespace emar
