#include "server/report_builder.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/formula/emar_formula.h"

namespace emar {
namespace {

using emar::v1::Estimate;

MetricValue Score(const DatasetResults& d, const std::vector<double>& rows) {
  const Metric& m = *d.metric;
  const size_t width = m.stats_width();
  std::vector<double> acc(m.AccumulatorWidth(d.labels.size()), 0.0);
  for (size_t i = 0; i < d.n; ++i) {
    m.Accumulate(absl::MakeConstSpan(rows.data() + i * width, width), 1.0, d.labels.size(),
                 absl::MakeSpan(acc));
  }
  return m.Finalize(acc, d.labels.size(), static_cast<double>(d.n));
}

void SetEstimate(const MetricValue& v, Estimate* e) {
  if (v.value) {
    e->set_value(*v.value);
  } else {
    e->set_undefined_reason(v.undefined_reason);
  }
}

void FillComparison(const DatasetResults& d, const MetricValue& base, const MetricValue& cand,
                    emar::v1::DatasetComparison* out) {
  out->set_dataset(d.spec->name());
  out->set_metric(d.spec->metric());
  out->set_direction(std::string(DirectionName(d.metric->direction())));
  out->set_signature(d.metric->signature());
  out->set_n(static_cast<int64_t>(d.n));
  SetEstimate(base, out->mutable_base());
  SetEstimate(cand, out->mutable_candidate());
  if (base.value && cand.value) {
    out->mutable_delta()->set_value(*cand.value - *base.value);
  } else {
    out->mutable_delta()->set_undefined_reason(
        absl::StrCat("the ", base.value ? "candidate" : "base", " score is undefined"));
  }
}

}  // namespace

const char* EmarVersion() { return "emar-0.1.0"; }

std::vector<emar::v1::InputFile> DescribeInputs(const emar::v1::CreateJobRequest& request) {
  std::vector<emar::v1::InputFile> out;
  auto add = [&](const std::string& role, const std::string& path) {
    emar::v1::InputFile f;
    f.set_role(role);
    f.set_path_or_name(path);
    auto it = request.input_digests().find(path);
    if (it != request.input_digests().end()) f.set_sha256(it->second);
    out.push_back(std::move(f));
  };
  const emar::v1::JobSpec& s = request.spec();
  add("target.references", s.target().references());
  add("benchmark.references", s.benchmark().references());
  add(absl::StrCat(s.base().name(), ".target_outputs"), s.base().target_outputs());
  add(absl::StrCat(s.base().name(), ".benchmark_outputs"), s.base().benchmark_outputs());
  for (const auto& c : s.candidates()) {
    add(absl::StrCat(c.name(), ".target_outputs"), c.target_outputs());
    add(absl::StrCat(c.name(), ".benchmark_outputs"), c.benchmark_outputs());
  }
  return out;
}

absl::StatusOr<emar::v1::Report> BuildReport(const std::string& job_id,
                                             const emar::v1::CreateJobRequest& request,
                                             const AssembledResults& results,
                                             std::vector<emar::v1::InputFile> inputs) {
  const emar::v1::JobSpec& spec = request.spec();
  ASSIGN_OR_RETURN(EmarFormula formula, EmarFormula::Parse(spec.formula()));
  emar::v1::Report report;
  report.set_job_id(job_id);
  report.set_name(spec.name());
  report.mutable_formula()->set_name(formula.name());
  report.mutable_formula()->set_expression(formula.expression());
  report.mutable_bootstrap()->set_resamples(spec.bootstrap().resamples());
  report.mutable_bootstrap()->set_confidence(spec.bootstrap().confidence());
  report.mutable_bootstrap()->set_seed(spec.bootstrap().seed());
  for (auto& f : inputs) *report.mutable_provenance()->add_inputs() = std::move(f);
  report.mutable_provenance()->set_version(EmarVersion());

  const DatasetResults& T = results.target;
  const DatasetResults& B = results.benchmark;
  const MetricValue t0 = Score(T, T.systems[0]);
  const MetricValue b0 = Score(B, B.systems[0]);
  for (int c = 0; c < spec.candidates_size(); ++c) {
    emar::v1::CandidateReport* cr = report.add_candidates();
    cr->set_name(spec.candidates(c).name());
    const MetricValue t1 = Score(T, T.systems[static_cast<size_t>(c) + 1]);
    const MetricValue b1 = Score(B, B.systems[static_cast<size_t>(c) + 1]);
    FillComparison(T, t0, t1, cr->mutable_target());
    FillComparison(B, b0, b1, cr->mutable_benchmark());
    if (t0.value && t1.value && b0.value && b1.value) {
      const EmarValue e = formula.Evaluate({*t0.value, *t1.value, *b0.value, *b1.value});
      if (e.value) {
        cr->mutable_emar()->set_value(*e.value);
      } else {
        cr->mutable_emar()->set_undefined_reason(e.undefined_reason);
      }
    } else {
      cr->mutable_emar()->set_undefined_reason("a score it depends on is undefined");
    }
  }

  // Leaderboard: EMAR descending, undefined last, ties by spec order.
  std::vector<int> order(static_cast<size_t>(spec.candidates_size()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const Estimate& ea = report.candidates(a).emar();
    const Estimate& eb = report.candidates(b).emar();
    if (ea.has_value() != eb.has_value()) return ea.has_value();
    return ea.has_value() && ea.value() > eb.value();
  });
  for (size_t r = 0; r < order.size(); ++r) {
    report.mutable_candidates(order[r])->set_rank(static_cast<int32_t>(r + 1));
  }
  report.set_gates_passed(true);
  return report;
}

}  // namespace emar
