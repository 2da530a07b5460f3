// Provisional: the helper working on issue 12 replaces the Markdown and HTML forms with tables
// and charts.
#include "client/series_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/report_format.h"

namespace emar {
namespace {

std::string Num(const emar::v1::Estimate& e, const char* fmt) {
  if (!e.has_value()) return "undefined";
  std::string out = absl::StrFormat(fmt, e.value());
  if (e.has_ci_low() && e.has_ci_high()) {
    absl::StrAppend(&out, absl::StrFormat(" [%.4f, %.4f]", e.ci_low(), e.ci_high()));
  }
  return out;
}

}  // namespace

std::string SeriesToText(const emar::v1::Series& series) {
  std::string out =
      absl::StrCat("series by ", series.by(), ": ", series.points_size(), " point(s)\n");
  for (const auto& p : series.points()) {
    for (const auto& c : p.candidates()) {
      absl::StrAppend(&out, series.by(), "=", p.value(), "  ", c.name(), "  EMAR ",
                      Num(c.emar(), "%.4f"), "  dT ", Num(c.target_delta(), "%+.4f"), "  dB ",
                      Num(c.benchmark_delta(), "%+.4f"), "  gates ",
                      c.gates_size() == 0 ? "-" : (c.gates_passed() ? "PASS" : "FAIL"), "  ",
                      p.job_id(), "\n");
    }
  }
  for (const auto& s : series.skipped()) {
    absl::StrAppend(&out, "skipped ", s.job_id(), ": ", s.reason(), "\n");
  }
  return out;
}

std::string SeriesToJson(const emar::v1::Series& series) { return MessageToJson(series); }

std::string SeriesToMarkdown(const emar::v1::Series& series) {
  std::string out = absl::StrCat("| ", series.by(), " | candidate | EMAR | dT | dB | gates |\n",
                                 "|---|---|---|---|---|---|\n");
  for (const auto& p : series.points()) {
    for (const auto& c : p.candidates()) {
      absl::StrAppend(&out, "| ", p.value(), " | ", c.name(), " | ", Num(c.emar(), "%.4f"), " | ",
                      Num(c.target_delta(), "%+.4f"), " | ", Num(c.benchmark_delta(), "%+.4f"),
                      " | ", c.gates_size() == 0 ? "–" : (c.gates_passed() ? "pass" : "FAIL"),
                      " |\n");
    }
  }
  return out;
}

std::string SeriesToHtml(const emar::v1::Series& series) {
  return absl::StrCat("<!DOCTYPE html><html><body><pre>", SeriesToText(series),
                      "</pre></body></html>\n");
}

}  // namespace emar
