#include "client/report_slices.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/report_document.h"
#include "client/svg_plot.h"

namespace emar {
namespace {

using emar::v1::CandidateReport;
using emar::v1::DatasetComparison;
using emar::v1::Estimate;
using emar::v1::SliceComparison;

std::string Value(const Estimate& e, bool signed_value = false) {
  if (!e.has_value()) return "undefined";
  // Two literal formats: absl checks the format at compile time (clang refuses a runtime one).
  return signed_value ? absl::StrFormat("%+.4f", e.value()) : absl::StrFormat("%.4f", e.value());
}

std::string Interval(const Estimate& e) {
  if (!e.has_ci_low() || !e.has_ci_high()) return "–";
  return absl::StrFormat("[%.4f, %.4f]", e.ci_low(), e.ci_high());
}

std::string Title(const DatasetComparison& d) {
  return absl::StrCat("slices of ", d.dataset(), " (", d.metric(), "), worst delta first");
}

DocumentTable SliceTable(const DatasetComparison& d) {
  DocumentTable t{{"slice", "n", "base", "candidate", "delta", "interval", "gated"}, {}};
  for (const SliceComparison& s : d.slices()) {
    t.rows.push_back({s.slice(), absl::StrCat(s.n()), Value(s.base()), Value(s.candidate()),
                      Value(s.delta(), true), Interval(s.delta()),
                      s.gated() ? "yes" : "no (too few items)"});
  }
  return t;
}

// The threshold of max_slice_regression on `d`, where it compares the delta.
std::optional<double> SliceLimit(const CandidateReport& c, const DatasetComparison& d) {
  for (const auto& g : c.gates()) {
    if (g.gate() != "max_slice_regression" || g.dataset() != d.dataset()) continue;
    return d.direction() == "lower_is_better" ? g.threshold() : -g.threshold();
  }
  return std::nullopt;
}

}  // namespace

std::string SlicesText(const CandidateReport& c) {
  std::string out;
  for (const DatasetComparison& d : c.datasets()) {
    if (d.slices_size() == 0) continue;
    absl::StrAppend(&out, "  ", Title(d), "\n");
    size_t width = 5;
    for (const SliceComparison& s : d.slices()) width = std::max(width, s.slice().size());
    for (const SliceComparison& s : d.slices()) {
      absl::StrAppend(
          &out, absl::StrFormat("    %-*s n=%-6d base %s  candidate %s  delta %s %s%s\n",
                                static_cast<int>(width), s.slice(), s.n(), Value(s.base()),
                                Value(s.candidate()), Value(s.delta(), true), Interval(s.delta()),
                                s.gated() ? "" : "  (not gated: too few items)"));
    }
  }
  return out;
}

std::string SlicesMarkdown(const CandidateReport& c) {
  std::string out;
  for (const DatasetComparison& d : c.datasets()) {
    if (d.slices_size() == 0) continue;
    const DocumentTable t = SliceTable(d);
    absl::StrAppend(&out, "Slices of ", d.dataset(), " (", d.metric(), "), worst delta first:\n\n",
                    "| ", absl::StrJoin(t.header, " | "), " |\n|---|---|---|---|---|---|---|\n");
    for (const auto& row : t.rows) {
      std::vector<std::string> cells;
      cells.reserve(row.size());
      for (const std::string& cell : row) cells.push_back(MdCell(cell));
      absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string SlicesHtml(const CandidateReport& c, int color) {
  std::string out;
  for (const DatasetComparison& d : c.datasets()) {
    if (d.slices_size() == 0) continue;
    absl::StrAppend(&out, "<h3>", svg::Escape(Title(d)), "</h3>\n");
    std::vector<svg::Whisker> rows;
    const std::optional<double> limit = SliceLimit(c, d);
    for (const SliceComparison& s : d.slices()) {
      svg::Whisker w;
      w.label = absl::StrCat(s.slice(), " (n=", s.n(), s.gated() ? "" : ", not gated", ")");
      if (s.delta().has_value()) w.value = s.delta().value();
      if (s.delta().has_ci_low()) w.low = s.delta().ci_low();
      if (s.delta().has_ci_high()) w.high = s.delta().ci_high();
      w.color = color;
      w.note = s.delta().has_value()
                   ? absl::StrCat(Value(s.delta(), true), " ", Interval(s.delta()))
                   : "undefined on this slice";
      if (s.gated()) w.limit = limit;
      rows.push_back(std::move(w));
    }
    const std::vector<svg::RefLine> zero = {
        {.at = 0, .label = "no change", .dashed = false, .color = "#6b6b6b"}};
    absl::StrAppend(
        &out, "<div class=\"charts\">\n",
        svg::WhiskerChart(absl::StrCat("Δ per slice of ", d.dataset(),
                                       limit ? " (red marks: max_slice_regression)" : ""),
                          rows, zero, 1150),
        "</div>\n");
    HtmlTable(SliceTable(d), &out);
  }
  return out;
}

}  // namespace emar
