#include "server/series_point.h"

namespace emar {
namespace {

// The candidate's primary entry for `dataset`, or null.
const emar::v1::DatasetComparison* Primary(const emar::v1::CandidateReport& c,
                                           const std::string& dataset) {
  for (const emar::v1::DatasetComparison& d : c.datasets()) {
    if (d.dataset() == dataset && d.primary()) return &d;
  }
  return nullptr;
}

}  // namespace

bool FillSeriesPoint(const emar::v1::Report& report, const std::string& dataset,
                     emar::v1::SeriesPoint* point) {
  for (const emar::v1::CandidateReport& c : report.candidates()) {
    // Following one dataset: it stands on the side it belongs to; the other side keeps the
    // aggregate, so EMAR, which reads both, stays beside its inputs.
    const emar::v1::DatasetComparison* target = &c.target();
    const emar::v1::DatasetComparison* benchmark = &c.benchmark();
    if (!dataset.empty()) {
      const emar::v1::DatasetComparison* d = Primary(c, dataset);
      if (d == nullptr) return false;
      (d->role() == "target" ? target : benchmark) = d;
    }
    if (!point->has_base_target()) {
      *point->mutable_base_target() = target->base();
      *point->mutable_base_benchmark() = benchmark->base();
    }
    emar::v1::SeriesCandidate* sc = point->add_candidates();
    sc->set_name(c.name());
    *sc->mutable_emar() = c.emar();
    *sc->mutable_target_delta() = target->delta();
    *sc->mutable_benchmark_delta() = benchmark->delta();
    sc->set_gates_passed(c.gates_passed());
    *sc->mutable_gates() = c.gates();
    *sc->mutable_target() = target->candidate();
    *sc->mutable_benchmark() = benchmark->candidate();
  }
  return true;
}

}  // namespace emar
