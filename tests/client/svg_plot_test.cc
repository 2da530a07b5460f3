// The chart pieces of the HTML reports: scales, nice ticks over many ranges, tick labels, label
// spreading (never overlapping, order kept), escaping, and charts that stay well-formed with
// hostile names and undefined values.
#include "client/svg_plot.h"

#include <cmath>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

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

// Every '<' opens a tag that is closed; no raw name text leaks into markup.
void ExpectBalanced(const std::string& svg) {
  int depth = 0;
  for (size_t i = 0; i < svg.size(); ++i) {
    if (svg[i] != '<') continue;
    const size_t end = svg.find('>', i);
    ASSERT_NE(end, std::string::npos);
    const std::string tag = svg.substr(i, end - i + 1);
    if (tag[1] == '/') {
      --depth;
    } else if (tag[tag.size() - 2] != '/') {
      ++depth;
    }
    ASSERT_GE(depth, 0) << tag;
  }
  EXPECT_EQ(depth, 0);
}

TEST(SvgPlotTest, WhiskerChartDrawsDefinedRowsAndNotesUndefinedOnes) {
  const std::string svg =
      WhiskerChart("EMAR <all>",
                   {{.label = "a<b", .value = 0.2, .low = 0.1, .high = 0.3, .note = "0.2000"},
                    {.label = "undef", .note = "undefined: T0 is 0"}},
                   {{.at = 0.15, .label = "min_emar 0.15"}});
  ExpectBalanced(svg);
  EXPECT_THAT(svg, HasSubstr("<title>EMAR &lt;all&gt;</title>"));
  EXPECT_THAT(svg, HasSubstr(">a&lt;b</text>"));
  EXPECT_THAT(svg, Not(HasSubstr("a<b")));
  EXPECT_THAT(svg, HasSubstr(">undefined: T0 is 0</text>"));
  EXPECT_THAT(svg, HasSubstr(">min_emar 0.15</text>"));
  EXPECT_EQ(std::count(svg.begin(), svg.end(), 'c') > 0, true);
  size_t circles = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1))
    ++circles;
  EXPECT_EQ(circles, 1u);  // the undefined row draws nothing
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
  ExpectBalanced(svg);
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

}  // namespace
}  // namespace emar::svg
