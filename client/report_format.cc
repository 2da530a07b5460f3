#include "client/report_format.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/report_document.h"
#include "client/report_flips.h"
#include "client/report_power.h"
#include "client/report_slices.h"

namespace emar {
namespace {

std::string Num(const emar::v1::Estimate& e) {
  if (!e.has_value()) return "undefined";
  return absl::StrFormat("%.4f", e.value());
}

std::string Interval(const emar::v1::Estimate& e) {
  if (!e.has_ci_low() || !e.has_ci_high()) return "";
  return absl::StrFormat(" [%.4f, %.4f]", e.ci_low(), e.ci_high());
}

std::string PValue(const emar::v1::Estimate& e) {
  if (!e.has_p_value()) return "";
  return absl::StrCat("  p", PValueEquals(e.p_value(), 4), " (", e.test(), ")");
}

// Characters a cell takes on a terminal: UTF-8 code points ("×" in "150 items × 4/5 samples" is
// one character of two bytes).
size_t TextWidth(const std::string& s) {
  size_t n = 0;
  for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
  return n;
}

void DatasetLines(const char* label, const emar::v1::DatasetComparison& d,
                  const emar::v1::BootstrapSettings& settings, std::string* out) {
  absl::StrAppend(
      out, absl::StrFormat("  %-9s %s (%s, n=%s)\n", label, d.dataset(), d.metric(), ItemsText(d)));
  absl::StrAppend(out, "    base      ", Num(d.base()), Interval(d.base()), "\n");
  absl::StrAppend(out, "    candidate ", Num(d.candidate()), Interval(d.candidate()), "\n");
  absl::StrAppend(out, "    delta     ",
                  d.delta().has_value() ? absl::StrFormat("%+.4f", d.delta().value()) : "undefined",
                  Interval(d.delta()), PValue(d.delta()), "\n");
  absl::StrAppend(out, DeltaStatisticsLines(d, settings));
}

// A suite's per-dataset table: every (dataset, metric), its role and weight, base, candidate,
// the delta with its interval, the p-value with its test, Holm's p for benchmark primaries and
// the delta's MDE. Every cell starts at its column's start: columns are as wide as their widest
// cell, and a cell without a value ("-": targets have no Holm p) keeps its place.
void DatasetTable(const emar::v1::CandidateReport& c, std::string* out) {
  std::vector<std::vector<std::string>> rows = {{"dataset", "role", "weight", "metric", "n", "base",
                                                 "candidate", "delta", "interval", "p (test)",
                                                 "p_holm", "MDE"}};
  for (const auto& d : c.datasets()) {
    const std::string interval(absl::StripLeadingAsciiWhitespace(Interval(d.delta())));
    rows.push_back(
        {d.dataset(), d.role(), d.primary() ? absl::StrFormat("%g", d.weight()) : "",
         absl::StrCat(d.metric(), d.primary() ? "*" : ""), ItemsCell(d), Num(d.base()),
         Num(d.candidate()),
         d.delta().has_value() ? absl::StrFormat("%+.4f", d.delta().value()) : "undefined",
         interval.empty() ? "-" : interval,
         d.delta().has_p_value()
             ? absl::StrCat(PValueText(d.delta().p_value(), 4), " (", d.delta().test(), ")")
             : "-",
         d.delta().has_p_value_holm() ? PValueText(d.delta().p_value_holm(), 4) : "-",
         d.has_mde() ? absl::StrFormat("%.4f", d.mde()) : "-"});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], TextWidth(row[i]));
  }
  absl::StrAppend(out, "  datasets (* primary metric: enters the aggregate with its weight)\n");
  for (const auto& row : rows) {
    std::string line = "    ";
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(width[i] - TextWidth(row[i]) + 2, ' ');
    }
    absl::StrAppend(out, line, "\n");
  }
}

}  // namespace

std::string MessageToJson(const google::protobuf::Message& message, bool one_line) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = !one_line;
  opts.preserve_proto_field_names = true;
  // Booleans, counts and strings are printed at their defaults too ("passed": false, "n": 0,
  // "error": ""): code reading the JSON never meets a missing key. Optional fields (an
  // Estimate's value and interval) stay absent when unset: that is how "undefined" reads.
  opts.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, opts);
  if (one_line) out += "\n";
  return out;
}

std::string ReportToJson(const emar::v1::Report& report) { return MessageToJson(report); }
std::string JobToJson(const emar::v1::Job& job, bool one_line) {
  return MessageToJson(job, one_line);
}

std::string LabelsText(const google::protobuf::Map<std::string, std::string>& labels,
                       absl::string_view separator) {
  std::vector<std::pair<std::string, std::string>> sorted(labels.begin(), labels.end());
  std::sort(sorted.begin(), sorted.end());  // map order is unspecified
  std::vector<std::string> parts;
  parts.reserve(sorted.size());
  for (const auto& [k, v] : sorted) parts.push_back(absl::StrCat(k, "=", v));
  return absl::StrJoin(parts, separator);
}

std::string JobToText(const emar::v1::Job& job) {
  std::string state = emar::v1::JobState_Name(job.state());
  if (state.rfind("JOB_STATE_", 0) == 0) state = state.substr(10);
  std::string out =
      absl::StrFormat("%s  %-10s %s  shards %d/%d  examples %d", job.job_id(), state, job.name(),
                      job.progress().shards_done(), job.progress().shards_total(),
                      job.progress().examples_scored());
  if (job.progress().shards_reused() > 0) {
    absl::StrAppend(&out, "  (", job.progress().shards_reused(), " shards, ",
                    job.progress().examples_reused(), " examples reused)");
  }
  if (!job.labels().empty()) absl::StrAppend(&out, "  ", LabelsText(job.labels(), ","));
  if (!job.error().empty()) absl::StrAppend(&out, "\n  error: ", job.error());
  return out;
}

std::string ReportToText(const emar::v1::Report& report) {
  std::string out;
  absl::StrAppend(&out, "EMAR report: ", report.name(), "  (job ", report.job_id(), ")\n");
  absl::StrAppend(&out, "formula: ", report.formula().name(), " = ", report.formula().expression(),
                  "\n");
  if (report.bootstrap().resamples() > 0) {
    absl::StrAppend(
        &out, absl::StrFormat("intervals: %.0f%% paired bootstrap, %d resamples, seed %d\n",
                              100 * report.bootstrap().confidence(), report.bootstrap().resamples(),
                              report.bootstrap().seed()));
  }
  for (const emar::v1::CandidateReport& c : report.candidates()) {
    absl::StrAppend(&out, "\ncandidate ", c.name(), "  (rank ", c.rank(), ")\n");
    absl::StrAppend(&out, "  EMAR      ", Num(c.emar()), Interval(c.emar()));
    if (!c.emar().has_value()) absl::StrAppend(&out, "  (", c.emar().undefined_reason(), ")");
    if (c.emar().undefined_resamples() > 0) {
      absl::StrAppend(&out, "  [undefined in ", c.emar().undefined_resamples(), " resamples]");
    }
    absl::StrAppend(&out, "\n");
    DatasetLines("target", c.target(), report.bootstrap(), &out);
    DatasetLines("benchmark", c.benchmark(), report.bootstrap(), &out);
    // A job of one target and one benchmark keeps its two-dataset layout.
    if (c.datasets_size() > 2) DatasetTable(c, &out);
    for (const emar::v1::GateResult& g : c.gates()) {
      absl::StrAppend(
          &out, absl::StrFormat(
                    "  gate %-26s %s  (%s = %s, threshold %g)%s\n", g.gate(),
                    g.passed() ? "PASS" : "FAIL", g.bound(),
                    g.has_bound_value() ? absl::StrFormat("%.4f", g.bound_value()) : "undefined",
                    g.threshold(),
                    g.underpowered() ? absl::StrFormat("  UNDERPOWERED (MDE %.4f)", g.mde()) : ""));
    }
    for (const std::string& note : StatisticsNotes(c, report.bootstrap())) {
      absl::StrAppend(&out, "  note: ", note, "\n");
    }
    absl::StrAppend(&out, SlicesText(c), FlipsText(c));
  }
  if (report.pairwise_size() > 0) {
    absl::StrAppend(&out, "\npairwise EMAR comparisons (Holm-adjusted p):\n");
    for (const auto& p : report.pairwise()) {
      absl::StrAppend(
          &out,
          absl::StrFormat(
              "  %s vs %s: diff %s  p%s  p_holm%s\n", p.a(), p.b(),
              p.has_emar_difference() ? absl::StrFormat("%+.4f", p.emar_difference()) : "undefined",
              p.has_p_value() ? PValueEquals(p.p_value(), 4) : "=-",
              p.has_p_value_holm() ? PValueEquals(p.p_value_holm(), 4) : "=-"));
    }
  }
  absl::StrAppend(&out, "\ninputs:\n");
  for (const auto& in : report.provenance().inputs()) {
    absl::StrAppend(&out, "  ", in.role(), "  ", in.path_or_name(),
                    "  sha256:", in.sha256().substr(0, 12), "\n");
  }
  absl::StrAppend(&out, "version: ", report.provenance().version(), "\n");
  return out;
}

}  // namespace emar
