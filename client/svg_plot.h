// Small SVG charts for the HTML reports (client/report_document.cc, client/series_format.cc):
// self-contained markup (no scripts, no fonts or files from anywhere), drawn from numbers the
// caller takes from the report object itself.
//
//   svg::WhiskerChart("EMAR", {{.label = "lora-r16", .value = 0.21, .low = 0.18, .high = 0.25}},
//                     {{.at = 0.1, .label = "min_emar 0.1"}});
//
// The pieces are tested on their own (tests/client/svg_plot_test.cc): linear scales, "nice" ticks
// (1, 2 or 5 times a power of ten), labels spread so they never overlap, XML escaping, and the
// Okabe-Ito palette (distinguishable with every common colour-vision deficiency).
#ifndef EMAR_CLIENT_SVG_PLOT_H_
#define EMAR_CLIENT_SVG_PLOT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace emar::svg {

// The i-th colour of the Okabe-Ito palette (cycles after 7).
const char* Color(int i);

// Text for XML content and attribute values: & < > " ' escaped, control characters dropped.
std::string Escape(absl::string_view text);

// The estimated width in pixels of `text` in the charts' 12px sans-serif (UTF-8 aware), and
// `text` cut to at most `max_width` pixels with a trailing "…" when it is wider. The estimate
// is a little generous for DejaVu Sans and Liberation Sans; the browser test measures the real
// text (tests/report/report_browser_test.py).
double TextWidth(absl::string_view text, double font_size = 12);
std::string Elide(absl::string_view text, double max_width, double font_size = 12);

// Maps [d0, d1] onto [r0, r1]; a degenerate domain maps to the middle of the range.
struct LinearScale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  double operator()(double v) const;
};

// Ticks covering [lo, hi] at a "nice" step (1, 2 or 5 times a power of ten), at most about
// `max_count` + 1 of them, the first <= lo and the last >= hi (up to rounding: 14 * 0.05 is a
// hair above 0.7). An empty or degenerate range is widened around its value first.
struct Ticks {
  std::vector<double> values;
  double step = 1;
};
Ticks NiceTicks(double lo, double hi, int max_count = 5);
// A tick's text with as many decimals as the step needs ("0.05", "-0.1", "200").
std::string TickLabel(double value, double step);

// Positions for labels that want to sit at `wanted` (any order) but must be at least `gap`
// apart and inside [lo, hi]: each moves as little as it can, their order is kept. When they
// cannot all fit, they are spaced evenly over [lo, hi].
std::vector<double> SpreadLabels(const std::vector<double>& wanted, double gap, double lo,
                                 double hi);

// A vertical (whisker charts) or horizontal (line charts) reference line, e.g. a gate threshold.
struct RefLine {
  double at = 0;
  std::string label;
  bool dashed = true;
  std::string color = "#555555";
};

// One row of a dot-and-whisker chart: a point estimate and its interval, `note` right of the
// plot. Without a value the row draws nothing and shows `note` (say, why it is undefined) across
// the plot instead.
struct Whisker {
  std::string label;
  std::optional<double> value, low, high;
  int color = 0;
  std::string note;  // printed right of the plot, e.g. "0.2143 [0.1839, 0.2482]"
  // A threshold of this row alone (a forest plot's per-dataset gate), drawn as a short dashed
  // red mark across the row.
  std::optional<double> limit;
};

// Rows top to bottom, values along x, with `lines` across. `title` heads the chart.
std::string WhiskerChart(const std::string& title, const std::vector<Whisker>& rows,
                         const std::vector<RefLine>& lines, int width = 720);

// A line of a line chart: one point per x position (absent values break the line), with an
// interval band where low and high are known. A point without a value draws nothing; its `note`
// (say, "undefined: T0 is 0") is listed under the chart with the line's name and the x label.
struct LinePoint {
  std::optional<double> value, low, high;
  std::string note;
  // Non-empty: the point failed a gate (say "lora-r16 at step 2500 failed
  // max_benchmark_regression"). Its dot gets a red square, this text as its tooltip, and the
  // legend a "failed a gate" entry.
  std::string failed;
};
struct Line {
  std::string name;
  int color = 0;
  std::vector<LinePoint> points;
};

// Lines over x positions `xs` (numbers; pass 0, 1, 2, ... for categories) labelled `x_labels`,
// a band per line, `hlines` across (thresholds, zero), a legend of the line names and the
// reference lines in a column of fixed width (so charts of one page line up), then the notes of
// undefined points.
std::string LineChart(const std::string& title, const std::string& x_title,
                      const std::vector<double>& xs, const std::vector<std::string>& x_labels,
                      const std::vector<Line>& lines, const std::vector<RefLine>& hlines,
                      int width = 720, int height = 280);

}  // namespace emar::svg

#endif  // EMAR_CLIENT_SVG_PLOT_H_
