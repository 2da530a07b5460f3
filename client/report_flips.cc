#include "client/report_flips.h"

#include <cctype>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "client/report_document.h"
#include "client/svg_plot.h"

namespace emar {
namespace {

using emar::v1::CandidateReport;
using emar::v1::DatasetComparison;
using emar::v1::FlipItem;

bool HasFlips(const CandidateReport& c) {
  for (const DatasetComparison& d : c.datasets()) {
    if (d.has_flips()) return true;
  }
  return false;
}

std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

// One side of a flipped item: the prediction, after the per-item value when that is not a plain
// 0/1 outcome (a judge's grade), and for several samples per item the mean over the k samples
// and which prediction is shown (the first sample's).
std::string Side(const FlipItem& item, double value, int samples, const std::string& prediction) {
  if (samples > 1) {
    return absl::StrFormat("%s %.4g of %d samples; first sample %s",
                           item.metric() == "pass_at_k" ? "pass@k" : "mean", value, samples,
                           Quoted(prediction));
  }
  if (value != 0 && value != 1) return absl::StrFormat("%.4g %s", value, Quoted(prediction));
  return Quoted(prediction);
}

std::string BaseSide(const FlipItem& item) {
  return Side(item, item.base_value(), item.base_samples(), item.base_prediction());
}

std::string CandidateSide(const FlipItem& item) {
  return Side(item, item.candidate_value(), item.candidate_samples(), item.candidate_prediction());
}

std::string References(const FlipItem& item) {
  std::vector<std::string> quoted;
  for (const std::string& r : item.references()) quoted.push_back(Quoted(r));
  return quoted.empty() ? "–" : absl::StrJoin(quoted, " | ");
}

// An id attribute for a (candidate, dataset, metric) flips table: letters, digits and '-'.
std::string Anchor(const std::string& candidate, const DatasetComparison& d) {
  std::string out = "flips";
  for (const std::string* part : {&candidate, &d.dataset(), &d.metric()}) {
    out += '-';
    for (char ch : *part) {
      out += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '-';
    }
  }
  return out;
}

DocumentTable CountsTable(const CandidateReport& c) {
  DocumentTable t{{"dataset", "metric", "items", "learned", "forgot", "right at"}, {}};
  for (const DatasetComparison& d : c.datasets()) {
    if (!d.has_flips()) continue;
    t.rows.push_back({d.dataset(), d.metric(), absl::StrCat(d.flips().items()),
                      absl::StrCat(d.flips().learned()), absl::StrCat(d.flips().forgot()),
                      absl::StrFormat("%g", d.flips().right_at())});
  }
  return t;
}

DocumentTable ItemsTable(const DatasetComparison& d) {
  DocumentTable t{{"kind", "id", "references", "base", "candidate"}, {}};
  for (const FlipItem& item : d.flip_items()) {
    t.rows.push_back(
        {item.kind(), item.id(), References(item), BaseSide(item), CandidateSide(item)});
  }
  return t;
}

// One item as a block of text lines at `indent`: a text's own line breaks are written as \n so
// the block keeps its shape.
std::string ItemBlock(const FlipItem& item, absl::string_view indent) {
  auto line = [](const std::string& s) { return absl::StrReplaceAll(s, {{"\n", "\\n"}}); };
  return absl::StrCat(indent, item.kind(), "  ", item.id(), "  reference ", line(References(item)),
                      "\n", indent, "  base      ", line(BaseSide(item)), "\n", indent,
                      "  candidate ", line(CandidateSide(item)), "\n");
}

constexpr char kWhy[] = "learned: base wrong, candidate right; forgot: base right, candidate wrong";

}  // namespace

absl::Status FillReportFlips(EvaluationClient& client, int n, int max_chars,
                             emar::v1::Report* report) {
  if (n <= 0 || report->candidates_size() == 0) return absl::OkStatus();
  // One listing per (dataset, metric) covers every candidate.
  const CandidateReport& first = report->candidates(0);
  for (int i = 0; i < first.datasets_size(); ++i) {
    const DatasetComparison& d = first.datasets(i);
    if (!d.has_flips()) continue;
    emar::v1::ListFlipsRequest req;
    req.set_job_id(report->job_id());
    req.set_dataset(d.dataset());
    req.set_metric(d.metric());
    req.set_limit(n);
    req.set_max_chars(max_chars);
    std::map<std::string, std::vector<FlipItem>> by_candidate;
    absl::Status listed = client.ListFlips(
        req, [&](const FlipItem& item) { by_candidate[item.candidate()].push_back(item); });
    if (!listed.ok()) return listed;
    for (CandidateReport& c : *report->mutable_candidates()) {
      if (i >= c.datasets_size()) continue;
      for (FlipItem& item : by_candidate[c.name()]) {
        *c.mutable_datasets(i)->add_flip_items() = std::move(item);
      }
    }
  }
  return absl::OkStatus();
}

std::string FlipItemText(const FlipItem& item) { return ItemBlock(item, "    "); }

std::string FlipsText(const CandidateReport& c) {
  if (!HasFlips(c)) return "";
  std::string out = absl::StrCat("  flips (", kWhy, ")\n");
  for (const DatasetComparison& d : c.datasets()) {
    if (!d.has_flips()) continue;
    absl::StrAppend(&out, absl::StrFormat("    %-20s %-12s learned %d  forgot %d  (of %d)\n",
                                          d.dataset(), d.metric(), d.flips().learned(),
                                          d.flips().forgot(), d.flips().items()));
    for (const FlipItem& item : d.flip_items()) {
      absl::StrAppend(&out, ItemBlock(item, "      "));
    }
  }
  return out;
}

std::string FlipsMarkdown(const CandidateReport& c) {
  if (!HasFlips(c)) return "";
  std::string out = absl::StrCat("Flips (", kWhy, "):\n\n");
  const DocumentTable counts = CountsTable(c);
  absl::StrAppend(&out, "| ", absl::StrJoin(counts.header, " | "), " |\n|");
  for (size_t i = 0; i < counts.header.size(); ++i) absl::StrAppend(&out, "---|");
  absl::StrAppend(&out, "\n");
  for (const auto& row : counts.rows) {
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const std::string& cell : row) cells.push_back(MdCell(cell));
    absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n");
  }
  absl::StrAppend(&out, "\n");
  for (const DatasetComparison& d : c.datasets()) {
    if (d.flip_items_size() == 0) continue;
    absl::StrAppend(&out, "Flipped items of ", d.dataset(), " (", d.metric(), "):\n\n");
    const DocumentTable items = ItemsTable(d);
    absl::StrAppend(&out, "| ", absl::StrJoin(items.header, " | "), " |\n|---|---|---|---|---|\n");
    for (const auto& row : items.rows) {
      std::vector<std::string> cells;
      cells.reserve(row.size());
      for (const std::string& cell : row) cells.push_back(MdCell(cell));
      absl::StrAppend(&out, "| ", absl::StrJoin(cells, " | "), " |\n");
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string FlipsHtml(const CandidateReport& c, const FlipsLinker& link) {
  if (!HasFlips(c)) return "";
  std::string out = absl::StrCat("<h3>Flips</h3>\n<p>", svg::Escape(kWhy), "</p>\n");
  // The counts table, each dataset linking to its flips table below (or to `link`'s pages).
  absl::StrAppend(&out, "<div class=\"scroll\">\n<table class=\"flips\">\n<tr>");
  const DocumentTable counts = CountsTable(c);
  for (const std::string& h : counts.header) absl::StrAppend(&out, "<th>", svg::Escape(h), "</th>");
  absl::StrAppend(&out, "</tr>\n");
  size_t row = 0;
  for (const DatasetComparison& d : c.datasets()) {
    if (!d.has_flips()) continue;
    const std::vector<std::string>& cells = counts.rows[row++];
    const std::string href = link ? link(c, d, "") : absl::StrCat("#", Anchor(c.name(), d));
    absl::StrAppend(&out, "<tr><td><a href=\"", svg::Escape(href), "\">", svg::Escape(cells[0]),
                    "</a></td>");
    for (size_t i = 1; i < cells.size(); ++i) {
      const char* kind = i == 3 ? "learned" : i == 4 ? "forgot" : nullptr;
      if (link && kind != nullptr && cells[i] != "0") {
        absl::StrAppend(&out, "<td><a href=\"", svg::Escape(link(c, d, kind)), "\">",
                        svg::Escape(cells[i]), "</a></td>");
      } else {
        absl::StrAppend(&out, "<td>", svg::Escape(cells[i]), "</td>");
      }
    }
    absl::StrAppend(&out, "</tr>\n");
  }
  absl::StrAppend(&out, "</table>\n</div>\n");
  if (link) return out;
  for (const DatasetComparison& d : c.datasets()) {
    if (!d.has_flips()) continue;
    absl::StrAppend(&out, "<h4 id=\"", Anchor(c.name(), d), "\">Flips of ", svg::Escape(c.name()),
                    " on ", svg::Escape(d.dataset()), " (", svg::Escape(d.metric()), ")</h4>\n");
    if (d.flip_items_size() == 0) {
      absl::StrAppend(&out, "<p>", d.flips().learned(), " learned, ", d.flips().forgot(),
                      " forgot; list them with <code>emarctl flips JOB --dataset ",
                      svg::Escape(d.dataset()), "</code> or <code>--flips N</code>.</p>\n");
      continue;
    }
    absl::StrAppend(&out, "<p>The first ", d.flip_items_size(), " of ",
                    d.flips().learned() + d.flips().forgot(), " flipped items.</p>\n");
    HtmlTable(ItemsTable(d), &out);
  }
  return out;
}

std::string FlipsPage(const std::string& title, const std::vector<FlipItem>& items,
                      const std::string& intro) {
  std::string out = HtmlPageHead(title);
  absl::StrAppend(&out, "<h1>", svg::Escape(title), "</h1>\n<p>", svg::Escape(kWhy), "</p>\n",
                  intro);
  DocumentTable t{{"candidate", "kind", "id", "references", "base", "candidate prediction"}, {}};
  for (const FlipItem& item : items) {
    t.rows.push_back({item.candidate(), item.kind(), item.id(), References(item), BaseSide(item),
                      CandidateSide(item)});
  }
  HtmlTable(t, &out);
  absl::StrAppend(&out, "</body>\n</html>\n");
  return out;
}

}  // namespace emar
