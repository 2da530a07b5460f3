#include "client/report_document.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/report_flips.h"
#include "client/report_power.h"
#include "client/report_slices.h"
#include "client/svg_plot.h"

namespace emar {
namespace {

using emar::v1::CandidateReport;
using emar::v1::DatasetComparison;
using emar::v1::Estimate;
using emar::v1::Report;

std::string Value(const Estimate& e, bool signed_value = false) {
  if (!e.has_value()) return "undefined";
  // Two literal formats: absl checks the format at compile time (clang refuses a runtime one).
  return signed_value ? absl::StrFormat("%+.4f", e.value()) : absl::StrFormat("%.4f", e.value());
}

std::string Interval(const Estimate& e) {
  if (!e.has_ci_low() || !e.has_ci_high()) return "–";
  return absl::StrFormat("[%.4f, %.4f]", e.ci_low(), e.ci_high());
}

std::string PValue(const Estimate& e) {
  if (!e.has_p_value()) return "–";
  return absl::StrCat(PValueText(e.p_value(), 3), " (", e.test(), ")");
}

std::string Gates(const CandidateReport& c) {
  if (c.gates_size() == 0) return "–";
  return c.gates_passed() ? "pass" : "FAIL";
}

std::vector<const CandidateReport*> ByRank(const Report& r) {
  std::vector<const CandidateReport*> out;
  for (const auto& c : r.candidates()) out.push_back(&c);
  std::stable_sort(out.begin(), out.end(), [](const CandidateReport* a, const CandidateReport* b) {
    return a->rank() < b->rank();
  });
  return out;
}

DocumentTable Leaderboard(const Report& r) {
  DocumentTable t{{"rank", "candidate", "EMAR", "95% interval", "target Δ", "benchmark Δ", "gates"},
                  {}};
  for (const CandidateReport* c : ByRank(r)) {
    t.rows.push_back({absl::StrCat(c->rank()), c->name(), Value(c->emar()), Interval(c->emar()),
                      Value(c->target().delta(), true), Value(c->benchmark().delta(), true),
                      Gates(*c)});
  }
  return t;
}

// A suite's report: some candidate has more (dataset, metric) entries than its one target and
// one benchmark (a job of one target and one benchmark keeps the page it always had).
bool IsSuite(const Report& r) {
  return std::any_of(r.candidates().begin(), r.candidates().end(),
                     [](const CandidateReport& c) { return c.datasets_size() > 2; });
}

DocumentTable Scores(const CandidateReport& c, bool suite) {
  DocumentTable t{{"", "dataset", "metric", "n", "base", "candidate", "delta", "delta interval",
                   "p (test)", "MDE"},
                  {}};
  const std::pair<const char*, const DatasetComparison*> datasets[] = {
      {suite ? "targets (aggregate)" : "target", &c.target()},
      {suite ? "benchmarks (aggregate)" : "benchmark", &c.benchmark()}};
  for (const auto& [label, d] : datasets) {
    t.rows.push_back({label, d->dataset(), d->metric(), ItemsText(*d),
                      absl::StrCat(Value(d->base()), " ", Interval(d->base())),
                      absl::StrCat(Value(d->candidate()), " ", Interval(d->candidate())),
                      Value(d->delta(), true), Interval(d->delta()), PValue(d->delta()),
                      MdeText(*d)});
  }
  return t;
}

DocumentTable GatesTable(const CandidateReport& c, bool suite) {
  DocumentTable t{{"gate", "threshold", "bound", "bound value", "result"}, {}};
  if (suite) t.header.insert(t.header.begin() + 1, "dataset");
  for (const auto& g : c.gates()) {
    t.rows.push_back({g.gate(), absl::StrFormat("%g", g.threshold()), g.bound(),
                      g.has_bound_value() ? absl::StrFormat("%.4f", g.bound_value()) : "undefined",
                      GateResultText(g)});
    if (suite)
      t.rows.back().insert(t.rows.back().begin() + 1,
                           g.dataset().empty() ? "(aggregate)" : g.dataset());
  }
  return t;
}

// How many metrics score `dataset` in the candidate's entries.
int MetricsOf(const CandidateReport& c, const std::string& dataset) {
  return static_cast<int>(
      std::count_if(c.datasets().begin(), c.datasets().end(),
                    [&](const DatasetComparison& d) { return d.dataset() == dataset; }));
}

// "pass" or "FAIL" over the gates that judged `dataset` alone, "–" when none did.
std::string DatasetGates(const CandidateReport& c, const std::string& dataset) {
  std::string out = "–";
  for (const auto& g : c.gates()) {
    if (g.dataset() != dataset) continue;
    if (!g.passed()) return "FAIL";
    out = "pass";
  }
  return out;
}

std::string HolmPValue(const Estimate& e) {
  return e.has_p_value_holm() ? PValueText(e.p_value_holm(), 3) : "–";
}

// Every (dataset, metric) of a suite, in the report's order: scores, delta, tests, the gates that
// judged the dataset (on its primary metric's row).
DocumentTable DatasetsTable(const CandidateReport& c) {
  DocumentTable t{{"role", "dataset", "metric", "weight", "n", "base", "candidate",
                   "delta (interval)", "p (test)", "p (Holm)", "gates", "MDE"},
                  {}};
  for (const DatasetComparison& d : c.datasets()) {
    const bool several = MetricsOf(c, d.dataset()) > 1;
    t.rows.push_back({d.role(), d.dataset(),
                      several && d.primary() ? absl::StrCat(d.metric(), " (primary)") : d.metric(),
                      d.primary() ? absl::StrFormat("%g", d.weight()) : "", ItemsText(d),
                      absl::StrCat(Value(d.base()), " ", Interval(d.base())),
                      absl::StrCat(Value(d.candidate()), " ", Interval(d.candidate())),
                      absl::StrCat(Value(d.delta(), true), " ", Interval(d.delta())),
                      PValue(d.delta()), HolmPValue(d.delta()),
                      d.primary() ? DatasetGates(c, d.dataset()) : "", MdeText(d)});
  }
  return t;
}

DocumentTable Inputs(const Report& r) {
  DocumentTable t{{"role", "path", "sha256", "bytes"}, {}};
  for (const auto& in : r.provenance().inputs()) {
    t.rows.push_back({in.role(), in.path_or_name(), in.sha256(), absl::StrCat(in.size_bytes())});
  }
  return t;
}

DocumentTable Pairwise(const Report& r) {
  DocumentTable t{{"a", "b", "EMAR(a) − EMAR(b)", "p", "p (Holm)", "test"}, {}};
  for (const auto& p : r.pairwise()) {
    t.rows.push_back(
        {p.a(), p.b(),
         p.has_emar_difference() ? absl::StrFormat("%+.4f", p.emar_difference()) : "undefined",
         p.has_p_value() ? PValueText(p.p_value(), 3) : "–",
         p.has_p_value_holm() ? PValueText(p.p_value_holm(), 3) : "–", p.test()});
  }
  return t;
}

std::string Subtitle(const Report& r) {
  std::string s = absl::StrCat("job ", r.job_id(), " · formula ", r.formula().name(), " = ",
                               r.formula().expression());
  if (r.bootstrap().resamples() > 0) {
    absl::StrAppend(&s, absl::StrFormat(" · %.0f%% paired bootstrap, %d resamples, seed %d",
                                        100 * r.bootstrap().confidence(), r.bootstrap().resamples(),
                                        r.bootstrap().seed()));
  }
  return s;
}

// "<what> undefined: <reason>" for each of the candidate's quantities that is undefined.
std::vector<std::string> UndefinedNotes(const CandidateReport& c, bool suite) {
  std::vector<std::pair<std::string, const Estimate*>> quantities = {
      {"EMAR", &c.emar()},
      {"target base score (T0)", &c.target().base()},
      {"target candidate score (T1)", &c.target().candidate()},
      {"target Δ", &c.target().delta()},
      {"benchmark base score (B0)", &c.benchmark().base()},
      {"benchmark candidate score (B1)", &c.benchmark().candidate()},
      {"benchmark Δ", &c.benchmark().delta()}};
  if (suite) {
    for (const DatasetComparison& d : c.datasets()) {
      const std::string what = absl::StrCat(d.dataset(), " (", d.metric(), ")");
      quantities.push_back({absl::StrCat(what, " base score"), &d.base()});
      quantities.push_back({absl::StrCat(what, " candidate score"), &d.candidate()});
      quantities.push_back({absl::StrCat(what, " Δ"), &d.delta()});
    }
  }
  std::vector<std::string> out;
  for (const auto& [what, e] : quantities) {
    if (e->has_value()) continue;
    out.push_back(e->undefined_reason().empty()
                      ? absl::StrCat(what, " undefined")
                      : absl::StrCat(what, " undefined: ", e->undefined_reason()));
  }
  return out;
}

// --- Markdown ---

void MdTable(const DocumentTable& t, std::string* out) {
  std::vector<std::string> h, sep;
  for (const auto& c : t.header) {
    h.push_back(MdCell(c));
    sep.push_back("---");
  }
  absl::StrAppend(out, "| ", absl::StrJoin(h, " | "), " |\n| ", absl::StrJoin(sep, " | "), " |\n");
  for (const auto& row : t.rows) {
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const auto& c : row) cells.push_back(MdCell(c));
    absl::StrAppend(out, "| ", absl::StrJoin(cells, " | "), " |\n");
  }
  absl::StrAppend(out, "\n");
}

// --- HTML ---

// The page may load nothing from anywhere (and runs no scripts): it opens offline as it is.
constexpr char kNoFetching[] =
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
    "'unsafe-inline'; img-src data:\">\n";
// Every screen: tables and chart rows scroll sideways in their own box (.scroll, .charts) rather
// than widen the page, and charts keep their drawn size (never scaled down, so their text stays
// 11-13 px on a phone). A dark theme follows prefers-color-scheme; the charts stay on a light card
// there, as the palette (Okabe-Ito) and the gate colours are chosen for a light background.
constexpr char kStyle[] =
    ":root{color-scheme:light dark}"
    "body{font-family:sans-serif;margin:2em;max-width:76em;background:#fff;color:#111}"
    ".scroll{overflow-x:auto;max-width:100%;margin:0.5em 0 1.5em}"
    "table{border-collapse:collapse}th,td{border:1px solid #ccc;"
    "padding:0.3em 0.6em;text-align:left}th{background:#f3f3f3}.ci{white-space:nowrap}"
    ".fail{color:#b00;font-weight:bold}.undefined{color:#a00}.wide{font-size:0.92em}"
    ".charts{display:flex;flex-wrap:wrap;gap:1em 2em;margin:0.5em 0 1em;overflow-x:auto}"
    "svg.chart{flex:none;background:#fff}"
    "@media (max-width:40em){body{margin:0.75em}}"
    "@media (prefers-color-scheme:dark){body{background:#16181c;color:#e8e8e8}"
    "th{background:#2a2d33}th,td{border-color:#4a4d55}.fail{color:#ff7b7b}"
    ".undefined{color:#ff9e9e}a{color:#8ab4f8}svg.chart{border-radius:4px;padding:4px}}";

// Text for HTML content and attribute values (the charts' escaping: & < > " ' and control
// characters).
std::string Html(const std::string& s) { return svg::Escape(s); }

// --- charts (every number from the report) ---

std::string Note(const Estimate& e, bool signed_value = false) {
  if (!e.has_value()) {
    return e.undefined_reason().empty() ? "undefined"
                                        : absl::StrCat("undefined: ", e.undefined_reason());
  }
  std::string s = Value(e, signed_value);
  if (e.has_ci_low() && e.has_ci_high()) absl::StrAppend(&s, " ", Interval(e));
  if (e.has_p_value()) absl::StrAppend(&s, "  p", PValueEquals(e.p_value(), 3));
  return s;
}

svg::Whisker Row(std::string label, const Estimate& e, int color, bool signed_value = false) {
  svg::Whisker w;
  w.label = std::move(label);
  if (e.has_value()) w.value = e.value();
  if (e.has_ci_low()) w.low = e.ci_low();
  if (e.has_ci_high()) w.high = e.ci_high();
  w.color = color;
  w.note = Note(e, signed_value);
  return w;
}

// The job-level gates of every candidate: the ones that judge EMAR and the aggregates (a
// suite's per-dataset gates name their dataset and are drawn in the forest plot instead).
std::vector<const emar::v1::GateResult*> AllGates(const Report& r) {
  std::vector<const emar::v1::GateResult*> gates;
  for (const auto& c : r.candidates()) {
    for (const auto& g : c.gates()) {
      if (g.dataset().empty()) gates.push_back(&g);
    }
  }
  return gates;
}

int ColorOf(const Report& r, const CandidateReport& c) {
  for (int i = 0; i < r.candidates_size(); ++i) {
    if (&r.candidates(i) == &c) return i + 1;  // colour 0 is the base model's
  }
  return 1;
}

void Charts(const Report& r, std::string* out) {
  std::vector<svg::Whisker> emar, deltas;
  for (const CandidateReport* c : ByRank(r)) {
    emar.push_back(Row(c->name(), c->emar(), ColorOf(r, *c)));
    deltas.push_back(
        Row(absl::StrCat(c->name(), " · target Δ"), c->target().delta(), ColorOf(r, *c), true));
    deltas.push_back(Row(absl::StrCat(c->name(), " · benchmark Δ"), c->benchmark().delta(),
                         ColorOf(r, *c), true));
  }
  std::vector<svg::RefLine> emar_lines = GateThresholdLines(AllGates(r), "min_emar");
  std::vector<svg::RefLine> delta_lines = DeltaReferenceLines(
      AllGates(r), {"min_target_gain", "max_benchmark_regression", "max_suite_regression"});
  absl::StrAppend(
      out, "<div class=\"charts\">\n",
      svg::WhiskerChart("EMAR by candidate (interval, gate threshold)", emar, emar_lines),
      svg::WhiskerChart("Gained on the target (target Δ) and forgotten on the "
                        "benchmark (benchmark Δ)",
                        deltas, delta_lines),
      "</div>\n");
}

// Where a regression gate compares a benchmark delta: -threshold (ci_low >= -x), or +threshold
// for a lower-is-better metric (ci_high <= x).
std::optional<double> RegressionLimit(const CandidateReport& c, const std::string& gate,
                                      const std::string& dataset, const std::string& direction) {
  for (const auto& g : c.gates()) {
    if (g.gate() != gate || g.dataset() != dataset) continue;
    return direction == "lower_is_better" ? g.threshold() : -g.threshold();
  }
  return std::nullopt;
}

std::string ForestNote(const Estimate& e) {
  std::string s = Note(e, true);
  if (e.has_value() && e.has_p_value_holm()) {
    absl::StrAppend(&s, ", Holm ", PValueText(e.p_value_holm(), 3));
  }
  return s;
}

// A suite's forest plot: every candidate's benchmark delta, the aggregate first, then each
// benchmark dataset's primary delta, each row with its own regression threshold
// (max_suite_regression for the aggregate, the dataset's max_benchmark_regression otherwise).
void ForestPlot(const Report& r, std::string* out) {
  const std::vector<const CandidateReport*> ranked = ByRank(r);
  const bool several = ranked.size() > 1;
  auto label = [&](const std::string& what, const CandidateReport& c) {
    return several ? absl::StrCat(what, " · ", c.name()) : what;
  };
  std::vector<svg::Whisker> rows;
  for (const CandidateReport* c : ranked) {
    rows.push_back(Row(label("aggregate", *c), c->benchmark().delta(), ColorOf(r, *c), true));
    rows.back().note = ForestNote(c->benchmark().delta());
    rows.back().limit = RegressionLimit(*c, "max_suite_regression", "", c->benchmark().direction());
  }
  std::vector<std::string> benchmarks;  // in report order, each once
  for (const CandidateReport* c : ranked) {
    for (const DatasetComparison& d : c->datasets()) {
      if (d.role() == "benchmark" && d.primary() &&
          std::find(benchmarks.begin(), benchmarks.end(), d.dataset()) == benchmarks.end()) {
        benchmarks.push_back(d.dataset());
      }
    }
  }
  for (const std::string& name : benchmarks) {
    for (const CandidateReport* c : ranked) {
      for (const DatasetComparison& d : c->datasets()) {
        if (d.dataset() != name || !d.primary()) continue;
        rows.push_back(Row(label(absl::StrCat(name, " (", d.metric(), ")"), *c), d.delta(),
                           ColorOf(r, *c), true));
        rows.back().note = ForestNote(d.delta());
        rows.back().limit = RegressionLimit(*c, "max_benchmark_regression", name, d.direction());
      }
    }
  }
  const std::vector<svg::RefLine> zero = {
      {.at = 0, .label = "no change", .dashed = false, .color = "#6b6b6b"}};
  absl::StrAppend(out, "<div class=\"charts\">\n",
                  svg::WhiskerChart("Benchmark Δ per dataset, aggregate first (red marks: each "
                                    "row's regression gate)",
                                    rows, zero, 1150),
                  "</div>\n");
}

// T0 T1 on the target beside B0 B1 on the benchmark.
void ScoreCharts(const Report& r, const CandidateReport& c, std::string* out) {
  absl::StrAppend(out, "<div class=\"charts\">\n");
  for (const DatasetComparison* d : {&c.target(), &c.benchmark()}) {
    const std::string which = d == &c.target() ? "target" : "benchmark";
    absl::StrAppend(
        out, svg::WhiskerChart(
                 absl::StrCat(which, ": ", d->dataset(), " (", d->metric(), ")"),
                 {Row(absl::StrCat("base (", which == "target" ? "T0" : "B0", ")"), d->base(), 0),
                  Row(absl::StrCat(c.name(), " (", which == "target" ? "T1" : "B1", ")"),
                      d->candidate(), ColorOf(r, c))},
                 {}, 470));
  }
  absl::StrAppend(out, "</div>\n");
}

}  // namespace

std::string ReportToMarkdown(const Report& r) {
  const bool suite = IsSuite(r);
  std::string out = absl::StrCat("# EMAR report: ", r.name(), "\n\n", Subtitle(r), "\n\n");
  MdTable(Leaderboard(r), &out);
  for (const CandidateReport* c : ByRank(r)) {
    absl::StrAppend(&out, "## ", c->name(), "\n\n");
    absl::StrAppend(&out, "EMAR **", Value(c->emar()), "** ", Interval(c->emar()), "\n\n");
    const std::vector<std::string> notes = UndefinedNotes(*c, suite);
    for (const std::string& note : notes) absl::StrAppend(&out, "- ", note, "\n");
    if (!notes.empty()) absl::StrAppend(&out, "\n");
    MdTable(Scores(*c, suite), &out);
    if (suite) MdTable(DatasetsTable(*c), &out);
    if (c->gates_size() > 0) MdTable(GatesTable(*c, suite), &out);
    const std::vector<std::string> stats = StatisticsNotes(*c, r.bootstrap());
    for (const std::string& note : stats) absl::StrAppend(&out, "- ", note, "\n");
    if (!stats.empty()) absl::StrAppend(&out, "\n");
    absl::StrAppend(&out, SlicesMarkdown(*c), FlipsMarkdown(*c));
  }
  if (r.pairwise_size() > 0) {
    absl::StrAppend(&out, "## Pairwise comparisons\n\n");
    MdTable(Pairwise(r), &out);
  }
  absl::StrAppend(&out, "## Inputs\n\n");
  MdTable(Inputs(r), &out);
  absl::StrAppend(&out, "_", r.provenance().version(), "_\n");
  return out;
}

std::string PValueText(double p, int digits) {
  if (p < 1e-300) return "<1e-300";
  return absl::StrFormat("%.*g", digits, p);
}

std::string PValueEquals(double p, int digits) {
  const std::string text = PValueText(p, digits);
  return text[0] == '<' ? text : absl::StrCat("=", text);
}

std::string MdCell(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|')
      out += "\\|";
    else if (ch == '\n')
      out += ' ';
    else
      out += ch;
  }
  return out;
}

void HtmlTable(const DocumentTable& t, std::string* out, absl::string_view box_class) {
  absl::StrAppend(out, "<div class=\"", box_class, "\">\n<table>\n<tr>");
  for (const auto& c : t.header) absl::StrAppend(out, "<th>", Html(c), "</th>");
  absl::StrAppend(out, "</tr>\n");
  for (const auto& row : t.rows) {
    absl::StrAppend(out, "<tr>");
    for (const auto& c : row)
      absl::StrAppend(out, c == "FAIL" ? "<td class=\"fail\">" : "<td>", HtmlCell(c), "</td>");
    absl::StrAppend(out, "</tr>\n");
  }
  absl::StrAppend(out, "</table>\n</div>\n");
}

std::string HtmlCell(const std::string& text) {
  std::string out;
  size_t at = 0;
  for (size_t open = text.find('['); open != std::string::npos; open = text.find('[', at)) {
    const size_t close = text.find(']', open);
    if (close == std::string::npos) break;
    absl::StrAppend(&out, Html(text.substr(at, open - at)), "<span class=\"ci\">",
                    Html(text.substr(open, close + 1 - open)), "</span>");
    at = close + 1;
  }
  absl::StrAppend(&out, Html(text.substr(at)));
  return out;
}

std::vector<svg::RefLine> GateThresholdLines(const std::vector<const emar::v1::GateResult*>& gates,
                                             const std::string& gate) {
  // Where the gate compares: the regression gates bound a benchmark delta at -threshold.
  const double sign = gate == "max_benchmark_regression" || gate == "max_suite_regression" ? -1 : 1;
  std::vector<svg::RefLine> out;
  for (const emar::v1::GateResult* g : gates) {
    if (g->gate() != gate) continue;
    const double at = sign * g->threshold();
    if (std::any_of(out.begin(), out.end(), [&](const auto& l) { return l.at == at; })) continue;
    out.push_back({.at = at,
                   .label = absl::StrFormat("%s %g", gate, at),
                   .dashed = true,
                   .color = "#B00020"});
  }
  return out;
}

std::vector<svg::RefLine> DeltaReferenceLines(const std::vector<const emar::v1::GateResult*>& gates,
                                              const std::vector<std::string>& gate_names) {
  std::vector<svg::RefLine> out = {
      {.at = 0, .label = "no change", .dashed = false, .color = "#6b6b6b"}};
  for (const std::string& gate : gate_names) {
    for (svg::RefLine& l : GateThresholdLines(gates, gate)) out.push_back(std::move(l));
  }
  return out;
}

std::string HtmlPageHead(const std::string& title) {
  return absl::StrCat("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
                      kNoFetching, "<title>", Html(title), "</title>\n<style>", kStyle,
                      "</style>\n</head>\n<body>\n");
}

namespace {

// A wide table (a suite's): a smaller font; it scrolls in its box like every table.
void WideHtmlTable(const DocumentTable& t, std::string* out) { HtmlTable(t, out, "scroll wide"); }

}  // namespace

std::string ReportToHtml(const Report& r, const HtmlReportOptions& options) {
  std::string out = HtmlPageHead(absl::StrCat("EMAR report: ", r.name()));
  absl::StrAppend(&out, "<h1>EMAR report: ", Html(r.name()), "</h1>\n<p>", Html(Subtitle(r)),
                  "</p>\n");
  HtmlTable(Leaderboard(r), &out);
  const bool suite = IsSuite(r);
  Charts(r, &out);
  if (suite) ForestPlot(r, &out);
  for (const CandidateReport* c : ByRank(r)) {
    absl::StrAppend(&out, "<h2>", Html(c->name()), "</h2>\n<p>EMAR <strong>",
                    Html(Value(c->emar())), "</strong> ", Html(Interval(c->emar())), "</p>\n");
    if (const std::vector<std::string> notes = UndefinedNotes(*c, suite); !notes.empty()) {
      absl::StrAppend(&out, "<ul class=\"undefined\">\n");
      for (const std::string& note : notes) {
        absl::StrAppend(&out, "<li>", Html(note), "</li>\n");
      }
      absl::StrAppend(&out, "</ul>\n");
    }
    ScoreCharts(r, *c, &out);
    HtmlTable(Scores(*c, suite), &out);
    if (suite) WideHtmlTable(DatasetsTable(*c), &out);
    if (c->gates_size() > 0) HtmlTable(GatesTable(*c, suite), &out);
    if (const std::vector<std::string> stats = StatisticsNotes(*c, r.bootstrap()); !stats.empty()) {
      absl::StrAppend(&out, "<ul class=\"statistics\">\n");
      for (const std::string& note : stats) absl::StrAppend(&out, "<li>", Html(note), "</li>\n");
      absl::StrAppend(&out, "</ul>\n");
    }
    absl::StrAppend(&out, SlicesHtml(*c, ColorOf(r, *c)), FlipsHtml(*c, options.flips_link));
  }
  if (r.pairwise_size() > 0) {
    absl::StrAppend(&out, "<h2>Pairwise comparisons</h2>\n");
    HtmlTable(Pairwise(r), &out);
  }
  absl::StrAppend(&out, "<h2>Inputs</h2>\n");
  if (suite) {  // a suite's roles name datasets and models: "candidates[0].outputs[mmlu]"
    WideHtmlTable(Inputs(r), &out);
  } else {
    HtmlTable(Inputs(r), &out);
  }
  absl::StrAppend(&out, "<p><em>", Html(r.provenance().version()), "</em></p>\n</body>\n</html>\n");
  return out;
}

}  // namespace emar
