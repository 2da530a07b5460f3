#include "client/series_format.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/report_document.h"
#include "client/report_format.h"
#include "client/svg_plot.h"

namespace emar {
namespace {

using emar::v1::Estimate;
using emar::v1::Series;
using emar::v1::SeriesCandidate;

// "undefined: <reason>" for an undefined estimate (the reason says which score was missing).
std::string Undefined(const Estimate& e) {
  return e.undefined_reason().empty() ? "undefined"
                                      : absl::StrCat("undefined: ", e.undefined_reason());
}

std::string Num(const Estimate& e, bool signed_value = false) {
  if (!e.has_value()) return "undefined";
  // Two literal formats: absl checks the format at compile time (clang refuses a runtime one).
  return signed_value ? absl::StrFormat("%+.4f", e.value()) : absl::StrFormat("%.4f", e.value());
}

std::string WithInterval(const Estimate& e, bool signed_value = false) {
  std::string out = Num(e, signed_value);
  if (e.has_value() && e.has_ci_low() && e.has_ci_high()) {
    absl::StrAppend(&out, absl::StrFormat(" [%.4f, %.4f]", e.ci_low(), e.ci_high()));
  }
  return out;
}

std::string Gates(const SeriesCandidate& c) {
  if (c.gates_size() == 0) return "-";
  return c.gates_passed() ? "pass" : "FAIL";
}

std::string Filter(const Series& s) { return LabelsText(s.labels(), ", "); }

// What the points' scores are: "the target and benchmark aggregates" or "dataset NAME".
std::string Following(const std::string& dataset) {
  return dataset.empty() ? "the target and benchmark aggregates"
                         : absl::StrCat("dataset ", dataset, " (its primary metric)");
}

// The HTML page's note on a followed dataset: where its deltas are drawn.
std::string FollowingNote(const std::string& dataset) {
  if (dataset.empty()) return "";
  return absl::StrCat(" (", dataset,
                      "'s Δ is drawn on its own side, target or benchmark; the other side's is "
                      "the aggregate)");
}

// Candidate names in order of first appearance across the points.
std::vector<std::string> CandidateNames(const Series& s) {
  std::vector<std::string> names;
  for (const auto& p : s.points()) {
    for (const auto& c : p.candidates()) {
      if (std::find(names.begin(), names.end(), c.name()) == names.end()) {
        names.push_back(c.name());
      }
    }
  }
  return names;
}

// The gates whose thresholds belong on the charts of a series following `dataset`: the job's
// own (dataset empty) and, following one dataset, that dataset's. Following one dataset, the
// aggregate's max_suite_regression is left out: it bounds the benchmark aggregate, which the
// benchmark chart does not show when the dataset is a benchmark.
std::vector<const emar::v1::GateResult*> ChartGates(const Series& s, const std::string& dataset) {
  std::vector<const emar::v1::GateResult*> gates;
  for (const auto& p : s.points()) {
    for (const auto& c : p.candidates()) {
      for (const auto& g : c.gates()) {
        const bool own = !dataset.empty() && g.dataset() == dataset;
        const bool job =
            g.dataset().empty() && (dataset.empty() || g.gate() != "max_suite_regression");
        if (own || job) gates.push_back(&g);
      }
    }
  }
  return gates;
}

// "lora-r16 at step 2500 failed max_benchmark_regression (mmlu)" when the candidate failed a gate
// at the point, else empty. A series following one dataset leaves the suite's aggregate gate out
// of the list, as out of its charts.
std::string FailedGates(const SeriesCandidate& c, const std::string& name, const std::string& by,
                        const std::string& value, const std::string& dataset) {
  if (c.gates_passed() || c.gates_size() == 0) return "";
  std::vector<std::string> failed;
  for (const auto& g : c.gates()) {
    if (g.passed() || (!dataset.empty() && g.gate() == "max_suite_regression")) continue;
    failed.push_back(g.dataset().empty() ? g.gate()
                                         : absl::StrCat(g.gate(), " (", g.dataset(), ")"));
  }
  return absl::StrCat(name, " at ", by, " ", value, " failed ",
                      failed.empty() ? "a gate" : absl::StrJoin(failed, ", "));
}

// One chart of `which` (an Estimate of each candidate) across the points.
std::string Chart(const Series& s, const std::string& title,
                  const Estimate& (*which)(const SeriesCandidate&),
                  const std::vector<svg::RefLine>& lines, const std::string& dataset) {
  std::vector<double> xs;
  std::vector<std::string> labels;
  for (int i = 0; i < s.points_size(); ++i) {
    double v = i;
    if (s.numeric()) (void)absl::SimpleAtod(s.points(i).value(), &v);
    xs.push_back(v);
    labels.push_back(s.points(i).value());
  }
  std::vector<svg::Line> chart_lines;
  const std::vector<std::string> names = CandidateNames(s);
  for (size_t n = 0; n < names.size(); ++n) {
    svg::Line line{.name = names[n], .color = static_cast<int>(n) + 1, .points = {}};
    for (const auto& p : s.points()) {
      svg::LinePoint point;
      for (const auto& c : p.candidates()) {
        if (c.name() != names[n]) continue;
        const Estimate& e = which(c);
        if (e.has_value()) point.value = e.value();
        if (!e.has_value()) point.note = Undefined(e);
        if (e.has_value() && e.has_ci_low() && e.has_ci_high()) {
          point.low = e.ci_low();
          point.high = e.ci_high();
        }
        point.failed = FailedGates(c, names[n], s.by(), p.value(), dataset);
      }
      line.points.push_back(point);
    }
    chart_lines.push_back(std::move(line));
  }
  return svg::LineChart(title, s.by(), xs, labels, chart_lines, lines, /*width=*/900,
                        /*height=*/300);
}

const Estimate& EmarOf(const SeriesCandidate& c) { return c.emar(); }
const Estimate& TargetDeltaOf(const SeriesCandidate& c) { return c.target_delta(); }
const Estimate& BenchmarkDeltaOf(const SeriesCandidate& c) { return c.benchmark_delta(); }

// One row per point and candidate.
DocumentTable Table(const Series& s) {
  DocumentTable t{{s.by(), "candidate", "EMAR", "target Δ", "benchmark Δ", "gates", "job"}, {}};
  for (const auto& p : s.points()) {
    for (const auto& c : p.candidates()) {
      t.rows.push_back({p.value(), c.name(), WithInterval(c.emar()),
                        WithInterval(c.target_delta(), true),
                        WithInterval(c.benchmark_delta(), true), Gates(c), p.job_id()});
    }
  }
  return t;
}

// Display width in characters (UTF-8 continuation bytes take none): "Δ" is one.
size_t Width(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Why each undefined quantity is undefined, one line per point, candidate and reason in point
// order: "step 1500, lora-r8: EMAR, target Δ undefined: a score it depends on is undefined".
std::vector<std::string> UndefinedNotes(const Series& s) {
  std::vector<std::string> out;
  auto add = [&](const std::string& where,
                 const std::vector<std::pair<const char*, const Estimate*>>& quantities) {
    std::vector<std::pair<std::string, std::vector<std::string>>> by_reason;
    for (const auto& [what, e] : quantities) {
      if (e->has_value()) continue;
      // A named reference, not the binding: C++17 lambdas cannot capture structured bindings
      // (clang refuses it).
      const std::string& reason = e->undefined_reason();
      auto it = std::find_if(by_reason.begin(), by_reason.end(),
                             [&reason](const auto& r) { return r.first == reason; });
      if (it == by_reason.end()) {
        by_reason.push_back({reason, {what}});
      } else {
        it->second.push_back(what);
      }
    }
    for (const auto& [reason, whats] : by_reason) {
      out.push_back(absl::StrCat(where, ": ", absl::StrJoin(whats, ", "), " undefined",
                                 reason.empty() ? "" : ": ", reason));
    }
  };
  for (const auto& p : s.points()) {
    const std::string point = absl::StrCat(s.by(), " ", p.value());
    add(point, {{"base target score (T0)", &p.base_target()},
                {"base benchmark score (B0)", &p.base_benchmark()}});
    for (const auto& c : p.candidates()) {
      add(absl::StrCat(point, ", ", c.name()), {{"EMAR", &c.emar()},
                                                {"target score (T1)", &c.target()},
                                                {"target Δ", &c.target_delta()},
                                                {"benchmark score (B1)", &c.benchmark()},
                                                {"benchmark Δ", &c.benchmark_delta()}});
    }
  }
  return out;
}

}  // namespace

std::string SeriesToText(const Series& s, const std::string& dataset) {
  std::string out = absl::StrCat("series of ", Filter(s), " by ", s.by(), ", following ",
                                 Following(dataset), ": ", s.points_size(), " point(s)\n");
  const DocumentTable table = Table(s);
  std::vector<size_t> width(table.header.size());
  for (size_t i = 0; i < table.header.size(); ++i) width[i] = Width(table.header[i]);
  for (const auto& row : table.rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], Width(row[i]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t i = 0; i < cells.size(); ++i) {
      absl::StrAppend(&l, i ? "  " : "", cells[i],
                      i + 1 < cells.size() ? std::string(width[i] - Width(cells[i]), ' ') : "");
    }
    return l + "\n";
  };
  absl::StrAppend(&out, line(table.header));
  for (const auto& row : table.rows) absl::StrAppend(&out, line(row));
  for (const std::string& note : UndefinedNotes(s)) absl::StrAppend(&out, note, "\n");
  for (const auto& k : s.skipped()) {
    absl::StrAppend(&out, "skipped ", k.job_id(), ": ", k.reason(), "\n");
  }
  return out;
}

std::string SeriesToJson(const Series& s) { return MessageToJson(s); }

std::string SeriesToMarkdown(const Series& s, const std::string& dataset) {
  const DocumentTable table = Table(s);
  std::string out = absl::StrCat("# EMAR series: ", Filter(s), " by ", s.by(), "\n\nFollowing ",
                                 MdCell(Following(dataset)), ".\n\n| ",
                                 absl::StrJoin(table.header, " | "), " |\n|");
  for (size_t i = 0; i < table.header.size(); ++i) absl::StrAppend(&out, " --- |");
  absl::StrAppend(&out, "\n");
  for (const auto& row : table.rows) {
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const std::string& c : row) cells.push_back(MdCell(c));
    absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n");
  }
  const std::vector<std::string> notes = UndefinedNotes(s);
  if (!notes.empty()) absl::StrAppend(&out, "\n");
  for (const std::string& note : notes) absl::StrAppend(&out, "- ", note, "\n");
  if (s.skipped_size() > 0) {
    absl::StrAppend(&out, "\nSkipped:\n\n");
    for (const auto& k : s.skipped())
      absl::StrAppend(&out, "- ", k.job_id(), ": ", k.reason(), "\n");
  }
  return out;
}

std::string SeriesToHtml(const Series& s, const std::string& dataset) {
  std::string title = absl::StrCat("EMAR series: ", Filter(s), " by ", s.by());
  if (!dataset.empty()) absl::StrAppend(&title, ", dataset ", dataset);
  std::string out = HtmlPageHead(title);
  absl::StrAppend(&out, "<h1>", svg::Escape(title), "</h1>\n<p>", s.points_size(),
                  " finished job(s), one point each, ordered by ", svg::Escape(s.by()),
                  s.numeric() ? " (numerically)" : "", ", following ",
                  svg::Escape(Following(dataset)), svg::Escape(FollowingNote(dataset)),
                  "; bands are the reports' confidence intervals, dashed red lines the gate "
                  "thresholds.</p>\n<div class=\"charts\">\n");
  const std::vector<const emar::v1::GateResult*> gates = ChartGates(s, dataset);
  absl::StrAppend(
      &out, Chart(s, "EMAR", &EmarOf, GateThresholdLines(gates, "min_emar"), dataset),
      Chart(s, "Gained on the target (target Δ)", &TargetDeltaOf,
            DeltaReferenceLines(gates, {"min_target_gain"}), dataset),
      Chart(s, "Forgotten on the benchmark (benchmark Δ)", &BenchmarkDeltaOf,
            DeltaReferenceLines(gates, {"max_benchmark_regression", "max_suite_regression"}),
            dataset),
      "</div>\n");
  HtmlTable(Table(s), &out);
  const std::vector<std::string> notes = UndefinedNotes(s);
  if (!notes.empty()) {
    absl::StrAppend(&out, "<ul class=\"undefined\">\n");
    for (const std::string& note : notes)
      absl::StrAppend(&out, "<li>", svg::Escape(note), "</li>\n");
    absl::StrAppend(&out, "</ul>\n");
  }
  if (s.skipped_size() > 0) {
    absl::StrAppend(&out, "<h2>Skipped</h2>\n<ul>\n");
    for (const auto& k : s.skipped()) {
      absl::StrAppend(&out, "<li>", svg::Escape(k.job_id()), ": ", svg::Escape(k.reason()),
                      "</li>\n");
    }
    absl::StrAppend(&out, "</ul>\n");
  }
  absl::StrAppend(&out, "</body>\n</html>\n");
  return out;
}

}  // namespace emar
