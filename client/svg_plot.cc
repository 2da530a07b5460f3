#include "client/svg_plot.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace emar::svg {
namespace {

constexpr double kFontSize = 12;
constexpr double kLegendWidth = 215;  // a line chart's legend column, the same in every chart

std::string Num(double v) { return absl::StrFormat("%.1f", v); }

std::string Text(double x, double y, absl::string_view text, absl::string_view anchor = "start",
                 absl::string_view extra = "") {
  return absl::StrCat("<text x=\"", Num(x), "\" y=\"", Num(y), "\" text-anchor=\"", anchor, "\"",
                      extra.empty() ? "" : " ", extra, ">", Escape(text), "</text>\n");
}

// Text cut to `max_width` pixels; when cut, the whole text is its tooltip.
std::string FittedText(double x, double y, absl::string_view text, double max_width,
                       absl::string_view anchor = "start", absl::string_view extra = "",
                       double font_size = kFontSize) {
  const std::string fitted = Elide(text, max_width, font_size);
  if (fitted == text) return Text(x, y, text, anchor, extra);
  return absl::StrCat("<text x=\"", Num(x), "\" y=\"", Num(y), "\" text-anchor=\"", anchor, "\"",
                      extra.empty() ? "" : " ", extra, "><title>", Escape(text), "</title>",
                      Escape(fitted), "</text>\n");
}

std::string LineEl(double x1, double y1, double x2, double y2, absl::string_view stroke,
                   double width = 1, bool dashed = false) {
  return absl::StrCat("<line x1=\"", Num(x1), "\" y1=\"", Num(y1), "\" x2=\"", Num(x2), "\" y2=\"",
                      Num(y2), "\" stroke=\"", stroke, "\" stroke-width=\"", Num(width), "\"",
                      dashed ? " stroke-dasharray=\"5 4\"" : "", "/>\n");
}

std::string Open(int width, int height, const std::string& title) {
  return absl::StrCat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"", width, "\" height=\"",
      height, "\" viewBox=\"0 0 ", width, " ", height, "\" role=\"img\" aria-label=\"",
      Escape(title), "\" font-family=\"sans-serif\" font-size=\"", kFontSize, "\">\n<title>",
      Escape(title), "</title>\n",
      FittedText(0, 14, title, width, "start", "font-weight=\"bold\" font-size=\"13\"", 14));
}

// [lo, hi] of everything to be drawn, or nullopt when there is nothing.
struct Extent {
  double lo = INFINITY, hi = -INFINITY;
  void Add(std::optional<double> v) {
    if (v && std::isfinite(*v)) {
      lo = std::min(lo, *v);
      hi = std::max(hi, *v);
    }
  }
  bool empty() const { return lo > hi; }
};

}  // namespace

const char* Color(int i) {
  static const char* const kOkabeIto[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                          "#56B4E9", "#D55E00", "#F0E442", "#000000"};
  return kOkabeIto[((i % 8) + 8) % 8];
}

std::string Escape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t') out += c;
    }
  }
  return out;
}

double TextWidth(absl::string_view text, double font_size) {
  // Per-character widths in em, rounded up from DejaVu Sans (the widest of the usual sans-serif
  // fonts; its digits are 0.64 em). UTF-8 continuation bytes take no width of their own.
  double em = 0;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u & 0xC0) == 0x80) continue;
    if (absl::string_view(" .,:;'|!()[]{}iljtf-").find(c) != absl::string_view::npos) {
      em += 0.38;
    } else if ((c >= 'A' && c <= 'Z') || c == 'm' || c == 'w' || c == '_' || c == '%') {
      em += 0.82;
    } else {
      em += 0.66;
    }
  }
  return em * font_size;
}

std::string Elide(absl::string_view text, double max_width, double font_size) {
  if (TextWidth(text, font_size) <= max_width) return std::string(text);
  const double budget = max_width - TextWidth("…", font_size);
  size_t end = 0;  // the longest prefix of whole UTF-8 characters within the budget
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
    if (TextWidth(text.substr(0, i), font_size) > budget) break;
    end = i;
  }
  return absl::StrCat(text.substr(0, end), "…");
}

double LinearScale::operator()(double v) const {
  if (d1 == d0) return (r0 + r1) / 2;
  return r0 + (v - d0) * (r1 - r0) / (d1 - d0);
}

Ticks NiceTicks(double lo, double hi, int max_count) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = hi = 0;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo < 1e-12) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  max_count = std::max(max_count, 1);
  const double raw = (hi - lo) / max_count;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (raw <= m * magnitude * (1 + 1e-9)) {
      step = m * magnitude;
      break;
    }
  }
  Ticks t;
  t.step = step;
  const double first = std::floor(lo / step + 1e-9) * step;
  const double last = std::ceil(hi / step - 1e-9) * step;
  for (int i = 0;; ++i) {
    double v = first + i * step;
    if (std::abs(v) < step * 1e-9) v = 0;  // no "-0"
    t.values.push_back(v);
    if (v >= last - step * 1e-9) break;
  }
  return t;
}

std::string TickLabel(double value, double step) {
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  if (std::abs(value) < step * 1e-9) value = 0;
  return absl::StrFormat("%.*f", decimals, value);
}

std::vector<double> SpreadLabels(const std::vector<double>& wanted, double gap, double lo,
                                 double hi) {
  const size_t n = wanted.size();
  if (n == 0) return {};
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return wanted[a] < wanted[b]; });
  std::vector<double> pos(n);
  if (gap * (n - 1) > hi - lo) {  // they cannot all fit: evenly over the range
    for (size_t k = 0; k < n; ++k)
      pos[order[k]] = n == 1 ? (lo + hi) / 2 : lo + k * (hi - lo) / (n - 1);
    return pos;
  }
  // Push down from the top, then back up from the bottom; each pass only moves labels apart.
  std::vector<double> p(n);
  for (size_t k = 0; k < n; ++k) {
    p[k] = std::clamp(wanted[order[k]], lo, hi);
    if (k > 0) p[k] = std::max(p[k], p[k - 1] + gap);
  }
  p[n - 1] = std::min(p[n - 1], hi);
  for (size_t k = n - 1; k-- > 0;) p[k] = std::min(p[k], p[k + 1] - gap);
  for (size_t k = 0; k < n; ++k) pos[order[k]] = p[k];
  return pos;
}

namespace {

// A whisker chart's columns: row labels left of `left`, the plot to `right`, notes after it.
struct WhiskerFrame {
  double left, right, label_width, note_width;
  int width;
  LinearScale x;
};

// One row at height `cy`: its label, its interval and dot, its own threshold mark, its note.
std::string WhiskerRow(const WhiskerFrame& f, const Whisker& w, double cy) {
  std::string out = FittedText(f.left - 8, cy + 4, w.label, f.label_width, "end");
  if (w.limit && std::isfinite(*w.limit)) {
    out += LineEl(f.x(*w.limit), cy - 10, f.x(*w.limit), cy + 10, "#B00020", 2, true);
  }
  if (w.value && std::isfinite(*w.value)) {
    const char* color = Color(w.color);
    if (w.low && w.high) {
      out += LineEl(f.x(*w.low), cy, f.x(*w.high), cy, color, 2);
      out += LineEl(f.x(*w.low), cy - 5, f.x(*w.low), cy + 5, color, 2);
      out += LineEl(f.x(*w.high), cy - 5, f.x(*w.high), cy + 5, color, 2);
    }
    absl::StrAppend(&out, "<circle cx=\"", Num(f.x(*w.value)), "\" cy=\"", Num(cy),
                    "\" r=\"4.5\" fill=\"", color, "\"/>\n");
  }
  if (w.value) {
    out += FittedText(f.right + 10, cy + 4, w.note, f.note_width);
  } else {  // nothing is drawn on this row, so its note may use the plot's width too
    out += FittedText(f.left + 4, cy + 4, w.note, f.width - f.left - 8, "start", "fill=\"#a00\"");
  }
  return out;
}

}  // namespace

std::string WhiskerChart(const std::string& title, const std::vector<Whisker>& rows,
                         const std::vector<RefLine>& lines, int width) {
  constexpr double kRow = 26, kTop = 34, kBottom = 34;
  double label_width = 40, note_width = 40;
  for (const Whisker& w : rows) {
    label_width = std::max(label_width, TextWidth(w.label));
    if (w.value) note_width = std::max(note_width, TextWidth(w.note));
  }
  label_width = std::min(label_width, width * 0.3);
  note_width = std::min(note_width, width * 0.42);  // the p-value ends the note: keep it whole
  const double left = label_width + 12, right = width - note_width - 12;
  const int height = static_cast<int>(kTop + rows.size() * kRow + kBottom + 14 * lines.size());
  Extent e;
  for (const Whisker& w : rows) {
    e.Add(w.value);
    e.Add(w.low);
    e.Add(w.high);
    e.Add(w.limit);
  }
  for (const RefLine& l : lines) e.Add(l.at);
  if (e.empty()) e.lo = e.hi = 0;
  const double pad = (e.hi - e.lo) * 0.05;
  const Ticks ticks =
      NiceTicks(e.lo - pad, e.hi + pad, std::max(2, static_cast<int>((right - left) / 70)));
  const WhiskerFrame f{left,       right, label_width,
                       note_width, width, {ticks.values.front(), ticks.values.back(), left, right}};
  const double plot_bottom = kTop + rows.size() * kRow;

  std::string out = Open(width, height, title);
  double last_end = -INFINITY;  // tick labels that would touch their neighbour are left out
  for (double t : ticks.values) {
    out += LineEl(f.x(t), kTop - 6, f.x(t), plot_bottom, "#e4e4e4");
    const std::string label = TickLabel(t, ticks.step);
    const double w = TextWidth(label);
    if (f.x(t) - w / 2 < last_end + 6) continue;
    out += Text(f.x(t), plot_bottom + 16, label, "middle", "fill=\"#444\"");
    last_end = f.x(t) + w / 2;
  }
  for (const RefLine& l : lines) {
    out += LineEl(f.x(l.at), kTop - 8, f.x(l.at), plot_bottom, l.color, 1.5, l.dashed);
  }
  // Reference-line labels under the axis, one row each (so they never overlap), each under its
  // line but kept inside the chart.
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string label = Elide(lines[i].label, width - 4, 11);
    const double w = TextWidth(label, 11);
    const double cx = std::clamp(f.x(lines[i].at), w / 2 + 2, width - w / 2 - 2);
    out += FittedText(cx, plot_bottom + 30 + 14 * i, lines[i].label, width - 4, "middle",
                      absl::StrCat("fill=\"", lines[i].color, "\" font-size=\"11\""), 11);
  }
  for (size_t i = 0; i < rows.size(); ++i)
    out += WhiskerRow(f, rows[i], kTop + i * kRow + kRow / 2);
  out += "</svg>\n";
  return out;
}

namespace {

// A line chart's layout: the plot box, its scales and the value axis' ticks.
struct LineFrame {
  double left, right, top, bottom;
  Ticks yt;
  LinearScale x, y;
};

// The notes of undefined points ("NAME at X_TITLE X_LABEL: NOTE"), at most kMaxNotes lines.
std::vector<std::string> UndefinedPointNotes(const std::string& x_title, size_t n,
                                             const std::vector<std::string>& x_labels,
                                             const std::vector<Line>& lines) {
  constexpr size_t kMaxNotes = 6;
  std::vector<std::string> notes;
  for (const Line& l : lines) {
    for (size_t i = 0; i < l.points.size() && i < n; ++i) {
      const LinePoint& p = l.points[i];
      if (!p.value && !p.note.empty()) {
        notes.push_back(absl::StrCat(l.name, " at ", x_title, " ",
                                     i < x_labels.size() ? x_labels[i] : "", ": ", p.note));
      }
    }
  }
  if (notes.size() > kMaxNotes) {
    const size_t more = notes.size() - (kMaxNotes - 1);
    notes.resize(kMaxNotes - 1);
    notes.push_back(absl::StrCat("and ", more, " more points without a value (see the table)"));
  }
  return notes;
}

LineFrame LineChartFrame(const std::vector<double>& xs, const std::vector<Line>& lines,
                         const std::vector<RefLine>& hlines, int width, int height) {
  constexpr double kTop = 30, kBottom = 46, kLeft = 58;
  const double legend_width = std::min(kLegendWidth, width * 0.4);
  LineFrame f{.left = kLeft,
              .right = width - legend_width - 10,
              .top = kTop,
              .bottom = height - kBottom,
              .yt = {},
              .x = {},
              .y = {}};
  Extent ye, xe;
  for (double v : xs) xe.Add(v);
  for (const Line& l : lines) {
    for (size_t i = 0; i < l.points.size() && i < xs.size(); ++i) {
      ye.Add(l.points[i].value);
      ye.Add(l.points[i].low);
      ye.Add(l.points[i].high);
    }
  }
  for (const RefLine& l : hlines) ye.Add(l.at);
  if (ye.empty()) ye.lo = ye.hi = 0;
  if (xe.empty()) xe.lo = xe.hi = 0;
  const double pad = (ye.hi - ye.lo) * 0.05;
  f.yt = NiceTicks(ye.lo - pad, ye.hi + pad, 5);
  f.y = {f.yt.values.front(), f.yt.values.back(), f.bottom, f.top};
  const double xpad = xe.hi > xe.lo ? 0 : 1;
  f.x = {xe.lo - xpad, xe.hi + xpad, f.left + 16, f.right - 16};
  return f;
}

// The grid and value ticks, the x axis with its labels (thinned so that neighbours do not
// overlap) and title, and the reference lines across.
std::string LineAxes(const LineFrame& f, const std::vector<double>& xs,
                     const std::vector<std::string>& x_labels, const std::string& x_title,
                     const std::vector<RefLine>& hlines) {
  std::string out;
  for (double t : f.yt.values) {
    out += LineEl(f.left, f.y(t), f.right, f.y(t), "#e4e4e4");
    out += Text(f.left - 6, f.y(t) + 4, TickLabel(t, f.yt.step), "end", "fill=\"#444\"");
  }
  out += LineEl(f.left, f.bottom, f.right, f.bottom, "#888");
  double last_end = -INFINITY;
  for (size_t i = 0; i < xs.size() && i < x_labels.size(); ++i) {
    const std::string label = Elide(x_labels[i], 120);
    const double w = TextWidth(label);
    if (f.x(xs[i]) - w / 2 < last_end + 6) continue;
    out += LineEl(f.x(xs[i]), f.bottom, f.x(xs[i]), f.bottom + 4, "#888");
    out += FittedText(f.x(xs[i]), f.bottom + 17, x_labels[i], 120, "middle", "fill=\"#444\"");
    last_end = f.x(xs[i]) + w / 2;
  }
  out += FittedText((f.left + f.right) / 2, f.bottom + 36, x_title, f.right - f.left, "middle",
                    "fill=\"#444\"");
  for (const RefLine& l : hlines) {
    out += LineEl(f.left, f.y(l.at), f.right, f.y(l.at), l.color, 1.5, l.dashed);
  }
  return out;
}

// The interval band of a line: a polygon per run of points with both bounds, a whisker for a
// run of one.
std::string LineBand(const LineFrame& f, const std::vector<double>& xs, const Line& l) {
  const char* color = Color(l.color);
  std::string out;
  for (size_t i = 0; i < l.points.size() && i < xs.size();) {
    size_t j = i;
    while (j < l.points.size() && j < xs.size() && l.points[j].low && l.points[j].high) ++j;
    if (j == i + 1) {
      out +=
          LineEl(f.x(xs[i]), f.y(*l.points[i].low), f.x(xs[i]), f.y(*l.points[i].high), color, 6);
    } else if (j > i) {
      std::string pts;
      for (size_t k = i; k < j; ++k) {
        absl::StrAppend(&pts, Num(f.x(xs[k])), ",", Num(f.y(*l.points[k].high)), " ");
      }
      for (size_t k = j; k-- > i;) {
        absl::StrAppend(&pts, Num(f.x(xs[k])), ",", Num(f.y(*l.points[k].low)), " ");
      }
      pts.pop_back();
      absl::StrAppend(&out, "<polygon points=\"", pts, "\" fill=\"", color,
                      "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n");
    }
    i = j + 1;
  }
  return out;
}

// The open tag of a failed point's mark: a red square around (cx, cy).
std::string FailedMark(double cx, double cy) {
  return absl::StrCat("<rect class=\"failed\" x=\"", Num(cx - 7), "\" y=\"", Num(cy - 7),
                      "\" width=\"14\" height=\"14\" fill=\"none\" stroke=\"#B00020\" "
                      "stroke-width=\"2\">");
}

// The line, broken where a value is undefined, and its points.
std::string LinePathAndDots(const LineFrame& f, const std::vector<double>& xs, const Line& l) {
  const char* color = Color(l.color);
  std::string path, out;
  bool pen_down = false;
  for (size_t i = 0; i < l.points.size() && i < xs.size(); ++i) {
    if (!l.points[i].value) {
      pen_down = false;
      continue;
    }
    absl::StrAppend(&path, pen_down ? " L" : " M", Num(f.x(xs[i])), " ",
                    Num(f.y(*l.points[i].value)));
    pen_down = true;
  }
  if (!path.empty()) {
    absl::StrAppend(&out, "<path d=\"", path.substr(1), "\" fill=\"none\" stroke=\"", color,
                    "\" stroke-width=\"2\"/>\n");
  }
  for (size_t i = 0; i < l.points.size() && i < xs.size(); ++i) {
    if (!l.points[i].value) continue;
    const double cx = f.x(xs[i]), cy = f.y(*l.points[i].value);
    absl::StrAppend(&out, "<circle cx=\"", Num(cx), "\" cy=\"", Num(cy), "\" r=\"3.5\" fill=\"",
                    color, "\"/>\n");
    if (!l.points[i].failed.empty()) {
      absl::StrAppend(&out, FailedMark(cx, cy), "<title>", Escape(l.points[i].failed),
                      "</title></rect>\n");
    }
  }
  return out;
}

bool AnyFailed(const std::vector<Line>& lines) {
  for (const Line& l : lines) {
    for (const LinePoint& p : l.points) {
      if (!p.failed.empty()) return true;
    }
  }
  return false;
}

// The legend: the lines, then the reference lines' labels spread to their own heights.
std::string LineLegend(const LineFrame& f, const std::vector<Line>& lines,
                       const std::vector<RefLine>& hlines, int width) {
  std::string out;
  double ly = f.top + 6;
  for (const Line& l : lines) {
    out += LineEl(f.right + 14, ly, f.right + 30, ly, Color(l.color), 3);
    out += FittedText(f.right + 34, ly + 4, l.name, width - f.right - 36);
    ly += 18;
  }
  if (AnyFailed(lines)) {
    absl::StrAppend(&out, FailedMark(f.right + 22, ly), "</rect>\n");
    out += FittedText(f.right + 34, ly + 4, "failed a gate", width - f.right - 36, "start",
                      "fill=\"#B00020\"");
    ly += 18;
  }
  std::vector<double> wanted;
  wanted.reserve(hlines.size());
  for (const RefLine& l : hlines) wanted.push_back(f.y(l.at) - 4);
  const std::vector<double> at = SpreadLabels(wanted, 14, ly + 8, f.bottom);
  for (size_t i = 0; i < hlines.size(); ++i) {
    out += FittedText(f.right + 6, at[i] + 4, hlines[i].label, width - f.right - 8, "start",
                      absl::StrCat("fill=\"", hlines[i].color, "\" font-size=\"11\""), 11);
  }
  return out;
}

}  // namespace

std::string LineChart(const std::string& title, const std::string& x_title,
                      const std::vector<double>& xs, const std::vector<std::string>& x_labels,
                      const std::vector<Line>& lines, const std::vector<RefLine>& hlines, int width,
                      int height) {
  constexpr double kNoteRow = 14;
  const LineFrame frame = LineChartFrame(xs, lines, hlines, width, height);
  const std::vector<std::string> notes = UndefinedPointNotes(x_title, xs.size(), x_labels, lines);
  const double notes_height = notes.empty() ? 0 : kNoteRow * notes.size() + 8;
  std::string out = Open(width, static_cast<int>(height + notes_height), title);
  out += LineAxes(frame, xs, x_labels, x_title, hlines);
  for (const Line& l : lines) out += LineBand(frame, xs, l) + LinePathAndDots(frame, xs, l);
  out += LineLegend(frame, lines, hlines, width);
  for (size_t i = 0; i < notes.size(); ++i) {
    out += FittedText(frame.left, height + 10 + kNoteRow * i, notes[i], width - frame.left - 4,
                      "start", "fill=\"#a00\" font-size=\"11\"", 11);
  }
  out += "</svg>\n";
  return out;
}

}  // namespace emar::svg
