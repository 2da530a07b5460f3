// The chart pieces of the HTML reports: scales, nice ticks over many ranges, tick labels, label
// spreading (never overlapping, order kept), escaping, and charts that stay well-formed with
// hostile names and undefined values.
#include "client/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "tests/client/count_matches.h"

namespace emar::svg {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(SvgPlotTest, LinearScaleMapsAndDegenerateDomainsGoToTheMiddle) {
  LinearScale s{0, 10, 100, 200};
  EXPECT_DOUBLE_EQ(s(0), 100);
  EXPECT_DOUBLE_EQ(s(5), 150);
  EXPECT_DOUBLE_EQ(s(10), 200);
  LinearScale flipped{0, 1, 300, 100};  // y grows downwards
  EXPECT_DOUBLE_EQ(flipped(0.25), 250);
  LinearScale degenerate{3, 3, 0, 50};
  EXPECT_DOUBLE_EQ(degenerate(3), 25);
}

TEST(SvgPlotTest, NiceTicksUseOneTwoOrFiveTimesAPowerOfTenAndCoverTheRange) {
  struct Case {
    double lo, hi;
  };
  for (const Case c :
       {Case{0, 1}, Case{0.1839, 0.2482}, Case{-0.0140, 0.1695}, Case{-0.12, 0}, Case{500, 2500},
        Case{0.7, 0.85}, Case{-3e-5, 7e-5}, Case{1e6, 4e6}, Case{0.999, 1.001}}) {
    const Ticks t = NiceTicks(c.lo, c.hi, 5);
    ASSERT_GE(t.values.size(), 2u) << c.lo << " " << c.hi;
    EXPECT_LE(t.values.size(), 12u) << c.lo << " " << c.hi;
    EXPECT_LE(t.values.front(), c.lo + t.step * 1e-9);  // up to rounding: 14 * 0.05 > 0.7
    EXPECT_GE(t.values.back(), c.hi - t.step * 1e-9);
    const double mantissa = t.step / std::pow(10, std::floor(std::log10(t.step)));
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 ||
                std::abs(mantissa - 5) < 1e-9)
        << t.step;
    for (size_t i = 1; i < t.values.size(); ++i) {
      EXPECT_NEAR(t.values[i] - t.values[i - 1], t.step, t.step * 1e-6);
    }
  }
  EXPECT_THAT(NiceTicks(0, 1, 5).values, ElementsAre(0, 0.2, 0.4, 0.6000000000000001, 0.8, 1));
  // Degenerate and empty ranges still get an axis around their value.
  const Ticks zero = NiceTicks(0, 0);
  EXPECT_LT(zero.values.front(), 0);
  EXPECT_GT(zero.values.back(), 0);
  const Ticks same = NiceTicks(0.75, 0.75);
  EXPECT_LT(same.values.front(), 0.75);
  EXPECT_GT(same.values.back(), 0.75);
  EXPECT_EQ(NiceTicks(NAN, 1).values.empty(), false);
}

TEST(SvgPlotTest, TickLabelsHaveTheDecimalsTheStepNeedsAndNoNegativeZero) {
  EXPECT_EQ(TickLabel(0.05, 0.05), "0.05");
  EXPECT_EQ(TickLabel(0.1, 0.05), "0.10");
  EXPECT_EQ(TickLabel(-0.1, 0.1), "-0.1");
  EXPECT_EQ(TickLabel(200, 100), "200");
  EXPECT_EQ(TickLabel(-1e-17, 0.02), "0.00");
}

TEST(SvgPlotTest, SpreadLabelsKeepsOrderAndGapAndMovesOnlyWhatOverlaps) {
  // Far apart: untouched.
  EXPECT_THAT(SpreadLabels({10, 50, 90}, 10, 0, 100), ElementsAre(10, 50, 90));
  // Three labels wanting the same place: spread by the gap, in input order, within bounds.
  std::vector<double> p = SpreadLabels({50, 50, 50}, 14, 0, 100);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_GE(p[1] - p[0], 14 - 1e-9);
  EXPECT_GE(p[2] - p[1], 14 - 1e-9);
  // Pressed against the top bound: pushed back inside.
  p = SpreadLabels({98, 99, 100}, 10, 0, 100);
  EXPECT_LE(p[2], 100);
  EXPECT_GE(p[2] - p[1], 10 - 1e-9);
  EXPECT_GE(p[1] - p[0], 10 - 1e-9);
  // Unsorted input: each label keeps its own index, the order of positions follows the wanted.
  p = SpreadLabels({60, 20, 58}, 10, 0, 100);
  EXPECT_EQ(p[1], 20);
  EXPECT_LT(p[2], p[0]);
  EXPECT_GE(p[0] - p[2], 10 - 1e-9);
  // Too many to fit: evenly over the range.
  EXPECT_THAT(SpreadLabels({5, 5, 5}, 100, 0, 10), ElementsAre(0, 5, 10));
  EXPECT_TRUE(SpreadLabels({}, 10, 0, 1).empty());
}

TEST(SvgPlotTest, EscapeCoversMarkupQuotesAndControlCharacters) {
  EXPECT_EQ(Escape("a<b>&\"c'\x01"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(Escape("Δ é"), "Δ é");  // UTF-8 passes through
}

TEST(SvgPlotTest, PaletteIsOkabeItoAndCycles) {
  EXPECT_STREQ(Color(0), "#0072B2");
  EXPECT_STREQ(Color(1), "#E69F00");
  EXPECT_STREQ(Color(8), Color(0));
  EXPECT_STREQ(Color(-1), Color(7));
}

// The chart is well-formed XML with <svg> at its root: every tag closed in order, attribute
// values quoted and free of '<', and '&' only in the five entities Escape writes. (The browser
// test parses every chart of the real pages with an XML parser as well.)
void ExpectWellFormed(const std::string& svg) {
  std::vector<std::string> open;
  bool saw_root = false;
  for (size_t i = 0; i < svg.size(); ++i) {
    if (svg[i] == '&') {
      const size_t semi = svg.find(';', i);
      ASSERT_NE(semi, std::string::npos);
      const std::string entity = svg.substr(i, semi - i + 1);
      EXPECT_THAT(entity, ::testing::AnyOf("&amp;", "&lt;", "&gt;", "&quot;", "&#39;"));
      continue;
    }
    if (svg[i] != '<') continue;
    const size_t end = svg.find('>', i);
    ASSERT_NE(end, std::string::npos);
    const std::string tag = svg.substr(i + 1, end - i - 1);
    ASSERT_FALSE(tag.empty());
    if (tag[0] == '/') {
      ASSERT_FALSE(open.empty()) << tag;
      EXPECT_EQ(tag.substr(1), open.back());
      open.pop_back();
    } else {
      const std::string name = tag.substr(0, tag.find_first_of(" /"));
      if (!saw_root) EXPECT_EQ(name, "svg");
      EXPECT_TRUE(saw_root == false || !open.empty()) << "a second root: " << tag;
      saw_root = true;
      // name="value" pairs: quotes balanced, no '<' inside a value.
      EXPECT_EQ(std::count(tag.begin(), tag.end(), '"') % 2, 0) << tag;
      EXPECT_EQ(tag.find('<'), std::string::npos) << tag;
      if (tag.back() != '/') open.push_back(name);
    }
    i = end;
  }
  EXPECT_TRUE(saw_root);
  EXPECT_TRUE(open.empty()) << open.back();
}

double Attr(const std::string& tag, const std::string& name, double otherwise = 0) {
  const size_t at = tag.find(" " + name + "=\"");
  if (at == std::string::npos) return otherwise;
  return std::stod(tag.substr(at + name.size() + 3));
}

// The box each <text> of `svg` covers, by the same width estimate the charts lay out with.
struct Box {
  std::string text;
  double x0, x1, y0, y1;
};
std::vector<Box> TextBoxes(const std::string& svg) {
  std::vector<Box> out;
  for (size_t at = svg.find("<text "); at != std::string::npos; at = svg.find("<text ", at + 1)) {
    const size_t close = svg.find('>', at);
    const std::string tag = svg.substr(at, close - at);
    std::string text = svg.substr(close + 1, svg.find("</text>", close) - close - 1);
    if (text.rfind("<title>", 0) == 0) text = text.substr(text.find("</title>") + 8);
    const double size = Attr(tag, "font-size", 12), x = Attr(tag, "x"), y = Attr(tag, "y");
    const double w = TextWidth(text, size);
    double x0 = x;
    if (tag.find("text-anchor=\"middle\"") != std::string::npos) x0 = x - w / 2;
    if (tag.find("text-anchor=\"end\"") != std::string::npos) x0 = x - w;
    out.push_back({text, x0, x0 + w, y - size * 0.8, y + size * 0.2});
  }
  return out;
}

// No two labels overlap, and every label lies inside the chart.
void ExpectLabelsApart(const std::string& svg) {
  const double width = Attr(svg, "width"), height = Attr(svg, "height");
  const std::vector<Box> boxes = TextBoxes(svg);
  ASSERT_FALSE(boxes.empty());
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Box& a = boxes[i];
    EXPECT_GE(a.x0, -0.5) << a.text;
    EXPECT_LE(a.x1, width + 0.5) << a.text;
    EXPECT_GE(a.y0, -0.5) << a.text;
    EXPECT_LE(a.y1, height + 0.5) << a.text;
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      const Box& b = boxes[j];
      EXPECT_FALSE(a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1)
          << "\"" << a.text << "\" overlaps \"" << b.text << "\"";
    }
  }
}

TEST(SvgPlotTest, TheCheckersAboveCatchOverlapsAndBadMarkup) {
  EXPECT_NONFATAL_FAILURE(ExpectLabelsApart("<svg width=\"100\" height=\"50\">"
                                            "<text x=\"10\" y=\"20\">abc</text>"
                                            "<text x=\"12\" y=\"22\">def</text></svg>"),
                          "overlaps");
  EXPECT_NONFATAL_FAILURE(ExpectLabelsApart("<svg width=\"100\" height=\"50\">"
                                            "<text x=\"90\" y=\"20\">outside</text></svg>"),
                          "outside");
  EXPECT_NONFATAL_FAILURE(ExpectWellFormed("<svg><g></text></svg>"), "open.back()");
  EXPECT_NONFATAL_FAILURE(ExpectWellFormed("<svg></svg><svg></svg>"), "a second root");
  EXPECT_NONFATAL_FAILURE(ExpectWellFormed("<svg>&nbsp;</svg>"), "&nbsp;");
}

TEST(SvgPlotTest, TextWidthCountsCharactersNotBytesAndElideCutsWholeCharacters) {
  EXPECT_DOUBLE_EQ(TextWidth("Δ"), TextWidth("a"));
  EXPECT_GT(TextWidth("0.2143 [0.1839, 0.2482]"), TextWidth("0.2143"));
  EXPECT_DOUBLE_EQ(TextWidth("ab", 24), 2 * TextWidth("ab", 12));
  EXPECT_EQ(Elide("short", 200), "short");
  const std::string cut = Elide("a-very-long-candidate-name-from-a-sweep", 80);
  EXPECT_LE(TextWidth(cut), 80);
  EXPECT_THAT(cut, ::testing::EndsWith("…"));
  EXPECT_THAT(cut, ::testing::StartsWith("a-very"));
  // A cut never splits a multi-byte character.
  const std::string greek = Elide("ΔΔΔΔΔΔΔΔΔΔΔΔΔΔΔΔΔΔΔΔ", 60);
  EXPECT_EQ((greek.size() - std::string("…").size()) % std::string("Δ").size(), 0u);
}

TEST(SvgPlotTest, WhiskerChartDrawsDefinedRowsAndNotesUndefinedOnes) {
  const std::string svg =
      WhiskerChart("EMAR <all>",
                   {{.label = "a<b", .value = 0.2, .low = 0.1, .high = 0.3, .note = "0.2000"},
                    {.label = "undef", .note = "undefined: T0 is 0"}},
                   {{.at = 0.15, .label = "min_emar 0.15"}});
  ExpectWellFormed(svg);
  ExpectLabelsApart(svg);
  EXPECT_THAT(svg, HasSubstr("<title>EMAR &lt;all&gt;</title>"));
  EXPECT_THAT(svg, HasSubstr(">a&lt;b</text>"));
  EXPECT_THAT(svg, Not(HasSubstr("a<b")));
  EXPECT_THAT(svg, HasSubstr(">undefined: T0 is 0</text>"));
  EXPECT_THAT(svg, HasSubstr(">min_emar 0.15</text>"));
  EXPECT_EQ(Count(svg, "<circle"), 1u);  // the undefined row draws nothing
}

TEST(SvgPlotTest, WhiskerRowsMayCarryTheirOwnThreshold) {
  const std::string svg = WhiskerChart(
      "forest",
      {{.label = "a", .value = 0.0, .low = -0.01, .high = 0.01, .note = "a", .limit = -0.05},
       {.label = "b", .value = 0.01, .low = 0.0, .high = 0.02, .note = "b"}},
      {});
  ExpectWellFormed(svg);
  ExpectLabelsApart(svg);
  // The mark is on the first row only, and the axis reaches it (the limit counts in the extent).
  EXPECT_EQ(Count(svg, "stroke=\"#B00020\""), 1u);
  EXPECT_THAT(svg, HasSubstr(">-0.05</text>"));
}

TEST(SvgPlotTest, LineChartBreaksAtUndefinedPointsAndDrawsBands) {
  Line line{.name = "r16 & co", .color = 1, .points = {}};
  line.points = {{0.1, 0.05, 0.15},
                 {std::nullopt, std::nullopt, std::nullopt},
                 {0.3, 0.2, 0.4},
                 {0.35, 0.25, 0.45}};
  const std::string svg =
      LineChart("EMAR", "step", {500, 1000, 1500, 2000}, {"500", "1000", "1500", "2000"}, {line},
                {{.at = 0.2, .label = "min_emar 0.2"}});
  ExpectWellFormed(svg);
  ExpectLabelsApart(svg);
  EXPECT_THAT(svg, HasSubstr(">r16 &amp; co</text>"));
  // Two runs: one moveto for the first point, one for the pair after the gap.
  const size_t path = svg.find("<path d=\"");
  ASSERT_NE(path, std::string::npos);
  const std::string d = svg.substr(path, svg.find('"', path + 9) - path);
  EXPECT_EQ(std::count(d.begin(), d.end(), 'M'), 2) << d;
  EXPECT_EQ(std::count(d.begin(), d.end(), 'L'), 1) << d;
  EXPECT_THAT(svg, HasSubstr("<polygon"));  // the band of the last two points
  EXPECT_THAT(svg, HasSubstr(">1500</text>"));
}

TEST(SvgPlotTest, WhiskerChartKeepsCrowdedLabelsApartAndInside) {
  std::vector<Whisker> rows;
  for (int i = 0; i < 6; ++i) {
    rows.push_back({.label = "sweep-lr" + std::to_string(i) + "-a-name-longer-than-its-column",
                    .value = 0.1 * i - 0.2,
                    .low = 0.1 * i - 0.25,
                    .high = 0.1 * i - 0.15,
                    .color = i,
                    .note = "-0.2000 [-0.2500, -0.1500]  p=3.15e-53"});
  }
  rows.push_back({.label = "undefined-one", .note = std::string(200, 'x')});
  // Thresholds a hair apart: each label gets a row of its own.
  const std::vector<RefLine> lines = {{.at = 0.1, .label = "min_emar 0.1"},
                                      {.at = 0.1001, .label = "min_target_gain 0.1001"},
                                      {.at = 0.3, .label = "another threshold 0.3"}};
  for (int width : {320, 470, 720}) {
    const std::string svg = WhiskerChart("Crowded", rows, lines, width);
    ExpectWellFormed(svg);
    ExpectLabelsApart(svg);
    // A cut label keeps its whole text as a tooltip.
    EXPECT_THAT(svg, HasSubstr("<title>sweep-lr0-a-name-longer-than-its-column</title>"));
    EXPECT_EQ(Count(svg, "<circle"), 6u);
  }
}

TEST(SvgPlotTest, LineChartNotesUndefinedPointsUnderTheChart) {
  Line a{.name = "lora-r8", .color = 2, .points = {}};
  a.points = {{0.1, 0.05, 0.15}, {.note = "undefined: T0 is 0"}, {0.2, 0.1, 0.3}};
  const std::string with_note =
      LineChart("EMAR", "step", {1, 2, 3}, {"1", "2", "3"}, {a}, {}, 720, 280);
  ExpectWellFormed(with_note);
  ExpectLabelsApart(with_note);
  EXPECT_THAT(with_note, HasSubstr(">lora-r8 at step 2: undefined: T0 is 0</text>"));
  EXPECT_GT(Attr(with_note, "height"), 280);  // the note has a row below the chart
  EXPECT_EQ(Count(with_note, "<circle"), 2u);

  // Many undefined points: the first few, then how many more.
  Line b{.name = "b", .color = 1, .points = {}};
  std::vector<double> xs;
  std::vector<std::string> labels;
  for (int i = 0; i < 20; ++i) {
    xs.push_back(i);
    labels.push_back(std::to_string(i));
    b.points.push_back({.note = "undefined: no outputs"});
  }
  const std::string many = LineChart("dB", "checkpoint", xs, labels, {b}, {}, 720, 280);
  ExpectWellFormed(many);
  ExpectLabelsApart(many);
  EXPECT_EQ(Count(many, "undefined: no outputs"), 5u);
  EXPECT_THAT(many, HasSubstr(">and 15 more points without a value (see the table)</text>"));
  EXPECT_THAT(many, Not(HasSubstr("<path")));  // nothing defined, nothing drawn
}

TEST(SvgPlotTest, LineChartThinsCrowdedXLabelsAndSpreadsThresholdLabels) {
  Line line{
      .name = "a-candidate-name-far-too-long-for-the-legend-column", .color = 1, .points = {}};
  std::vector<double> xs;
  std::vector<std::string> labels;
  for (int i = 0; i < 40; ++i) {
    xs.push_back(1000.0 * i);
    labels.push_back("step-" + std::to_string(1000 * i));
    line.points.push_back({0.01 * i, 0.01 * i - 0.02, 0.01 * i + 0.02});
  }
  const std::vector<RefLine> hlines = {
      {.at = 0, .label = "no change", .dashed = false},
      {.at = 0.001, .label = "min_target_gain 0.001"},
      {.at = -0.001, .label = "max_benchmark_regression -0.001"},
      {.at = 0.002, .label = "a fourth line, close to the others"}};
  const std::string svg = LineChart("Crowded", "step", xs, labels, {line}, hlines);
  ExpectWellFormed(svg);
  ExpectLabelsApart(svg);
  EXPECT_LT(Count(svg, ">step-"), 40u);  // thinned
  EXPECT_THAT(svg, HasSubstr(">step-0</text>"));
  EXPECT_THAT(svg, HasSubstr("<title>a-candidate-name-far-too-long-for-the-legend-column</title>"));
}

TEST(SvgPlotTest, DegenerateChartsStillHaveAnAxisAndDrawWhatIsDefined) {
  // One point: a whisker for its interval instead of a band, and an x axis around it.
  Line one{.name = "only", .color = 1, .points = {{0.5, 0.4, 0.6}}};
  std::string svg = LineChart("One", "step", {100}, {"100"}, {one}, {});
  ExpectWellFormed(svg);
  ExpectLabelsApart(svg);
  EXPECT_THAT(svg, Not(HasSubstr("<polygon")));
  EXPECT_THAT(svg, HasSubstr("stroke-width=\"6.0\""));
  EXPECT_EQ(Count(svg, "<circle"), 1u);
  // Every value equal: ticks around it.
  Line flat{.name = "flat", .color = 1, .points = {{0.3}, {0.3}, {0.3}}};
  svg = LineChart("Flat", "step", {1, 2, 3}, {"1", "2", "3"}, {flat}, {});
  ExpectWellFormed(svg);
  ExpectLabelsApart(svg);
  EXPECT_THAT(svg, HasSubstr(">0.30</text>"));
  // No rows and no lines at all.
  svg = WhiskerChart("Empty", {}, {});
  ExpectWellFormed(svg);
  svg = LineChart("Empty", "step", {}, {}, {}, {});
  ExpectWellFormed(svg);
  // Whiskers that are all the same value, one without an interval.
  svg = WhiskerChart("Same",
                     {{.label = "a", .value = 0.75, .note = "0.7500"},
                      {.label = "b", .value = 0.75, .low = 0.75, .high = 0.75}},
                     {});
  ExpectWellFormed(svg);
  ExpectLabelsApart(svg);
  EXPECT_EQ(Count(svg, "<circle"), 2u);
}

}  // namespace
}  // namespace emar::svg
