"""The HTML pages on every screen, in Debian's headless Chromium (chromium.py): the example job's
report, the suite example (examples/support-suite, with --flips 3), the fixed suite report
(testdata/suite-report.json) and the fixed series
(testdata/series.json), each at 1280 px (a laptop) and 390 px (a phone, emulated as one, so the
page's viewport meta tag decides its layout), in the light and the dark colour scheme. At each:
  - the layout is as wide as the screen (a phone page without a viewport tag is laid out 980 px
    wide and shrunk), and nothing widens the page: every table and chart fits the screen or
    scrolls sideways inside its own box;
  - no text is smaller than 11 px as shown (a chart's text scaled by how its SVG is drawn);
  - every text has a contrast of at least 4.5:1 (WCAG AA) against what is behind it;
  - the dark scheme gives a dark page, the light one a light page.
The series chart marks the checkpoint whose gate failed. EMAR_SCREENSHOT_DIR=docs keeps the phone
and dark screenshots (docs/*-phone.png, docs/*-dark.png). Run by ctest as
report_responsive_test.
"""
import json
import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import sys
sys.path.insert(0, str(Path(__file__).resolve().parent))
from chromium import Chromium  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "restaurant-sentiment" / "job.yaml"
SUPPORT_SUITE = REPO / "examples" / "support-suite" / "job.yaml"
TESTDATA = Path(__file__).resolve().parent / "testdata"
WIDTHS = (1280, 390)

# Layout facts of the loaded page, measured by the browser.
LAYOUT_FACTS = r"""(() => {
  // The layout viewport. On a phone, content wider than it makes the browser zoom out, and
  // window.innerWidth (the visual viewport) grows: that is reported too.
  const vw = document.documentElement.clientWidth;
  const problems = [];
  const name = el => el.tagName.toLowerCase() + (el.getAttribute('aria-label') ?
      ` "${el.getAttribute('aria-label')}"` : '');
  // A table or chart fits the screen, or the box that scrolls it sideways does.
  for (const el of document.querySelectorAll('table, svg.chart')) {
    let box = el;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll') { box = p; break; }
    }
    const r = box.getBoundingClientRect();
    if (r.left < -0.5 || r.right > vw + 0.5) {
      problems.push(`${name(el)} runs past the screen (${r.left}..${r.right} of ${vw})`);
    }
  }
  const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = el => {
    for (let p = el; p; p = p.parentElement) {
      const c = rgb(getComputedStyle(p).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let smallest = Infinity, lowest = Infinity, texts = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.data.trim() || el.closest('title, style')) continue;
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    ++texts;
    let px = parseFloat(style.fontSize);
    const svg = el.ownerSVGElement;
    if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) {
      px *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    }
    const fg = rgb(svg ? style.fill : style.color).slice(0, 3);
    const bg = background(el), a = lum(fg), b = lum(bg);
    const contrast = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (px < 10.99) problems.push(`"${n.data.trim().slice(0, 40)}" is ${px.toFixed(1)} px`);
    if (contrast < 4.5) {
      problems.push(`"${n.data.trim().slice(0, 40)}" has contrast ${contrast.toFixed(2)} ` +
                    `(${fg} on ${bg})`);
    }
    smallest = Math.min(smallest, px);
    lowest = Math.min(lowest, contrast);
  }
  return {width: vw, inner: window.innerWidth,
          overflow: document.documentElement.scrollWidth - vw, problems, texts,
          smallest, lowest, page: lum(background(document.body))};
})()"""


def run(*cmd, ok=(0,)):
    env = {k: v for k, v in os.environ.items() if k not in ("EMAR_SERVER", "EMAR_TOKEN")}
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode in ok, f"{cmd}: exit {r.returncode}\n{r.stderr[-3000:]}"
    return r.stdout


def tool(name: str) -> Path:
    env = {"render_report": "EMAR_RENDER_REPORT", "render_series": "EMAR_RENDER_SERIES"}[name]
    return Path(os.environ.get(env, REPO / "build" / "tests" / name))


@pytest.fixture(scope="module")
def pages():
    """name -> HTML of each page under test."""
    bin_dir = Path(os.environ.get("EMAR_BIN_DIR", REPO / "build" / "bin"))
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        report.write_text(run(bin_dir / "emarctl", "run", EXAMPLE, "--format", "json",
                              "--progress", "off"))
        yield {
            "report": run(tool("render_report"), "html", report),
            # The suite example with slices, a judge dataset and flips (its gates fail: exit 3).
            "support-suite": run(bin_dir / "emarctl", "run", SUPPORT_SUITE, "--format", "html",
                                 "--flips", "3", "--progress", "off", ok=(3,)),
            "suite-report": run(tool("render_report"), "html", TESTDATA / "suite-report.json"),
            "series": run(tool("render_series"), "html", TESTDATA / "series.json"),
        }


@pytest.fixture(scope="module")
def browser():
    with Chromium() as b:
        yield b


def show(browser, tmp_path, html, name, width, dark):
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    browser.open(path.as_uri(), width, mobile=width < 600, dark=dark)
    facts = browser.evaluate(LAYOUT_FACTS)
    shots = os.environ.get("EMAR_SCREENSHOT_DIR")
    keep = {(390, False): "phone", (1280, True): "dark"}.get((width, dark))
    if shots and keep and name in ("report", "suite-report", "series"):
        Path(shots, f"{name}-{keep}.png").write_bytes(browser.screenshot(width))
    return facts


@pytest.mark.parametrize("name", ["report", "suite-report", "support-suite", "series"])
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_page_reads_well(browser, pages, tmp_path, name, width, dark):
    facts = show(browser, tmp_path, pages[name], name, width, dark)
    assert facts["width"] == width, "the page is not laid out at the screen's width"
    assert facts["inner"] == width, "the browser zoomed out to show the page"
    assert facts["overflow"] <= 0, f"the page is {facts['overflow']} px wider than the screen"
    assert facts["texts"] > 50
    assert facts["problems"] == [], "\n".join(facts["problems"][:20])
    assert facts["smallest"] >= 11
    assert (facts["page"] < 0.05) if dark else (facts["page"] > 0.9), facts["page"]


def test_the_checks_catch_a_page_made_for_desktops_only(browser, tmp_path):
    """The detectors themselves: a page without a viewport tag, a wide table outside a scroll
    box, a chart scaled down to fit and grey-on-white text all fail on a phone."""
    html = ('<!DOCTYPE html><html><head><style>svg{max-width:100%;height:auto}</style></head>'
            '<body><table><tr>' + '<td>wide cell of a table</td>' * 30 + '</tr></table>'
            '<p style="color:#aaa">faint</p><svg xmlns="http://www.w3.org/2000/svg" '
            'class="chart" width="900" height="100" viewBox="0 0 900 100">'
            '<text x="10" y="50" font-size="12">label</text></svg></body></html>')
    facts = show(browser, tmp_path, html, "desktop-only", 390, False)
    assert facts["width"] > 390  # no viewport tag: laid out wider and shrunk
    path = tmp_path / "with-viewport.html"
    path.write_text(html.replace("<head>", '<head><meta name="viewport" '
                                 'content="width=device-width, initial-scale=1">'))
    browser.open(path.as_uri(), 390, mobile=True)
    facts = browser.evaluate(LAYOUT_FACTS)
    problems = "\n".join(facts["problems"])
    assert facts["overflow"] > 0 and facts["inner"] > 390
    assert "table runs past the screen" in problems
    assert '"faint" has contrast' in problems
    assert '"label" is 5.' in problems  # 12 px drawn at 390/900 of its size


def test_series_chart_marks_the_failing_checkpoint(pages):
    """testdata/series.json: lora-r8 fails min_emar at step 1500 (its EMAR is undefined there, so
    only its defined values are marked) and lora-r16 max_benchmark_regression at 2500. Each mark
    is a red square around its point's dot, with a tooltip; each chart's legend says what the
    squares mean."""
    series = json.loads((TESTDATA / "series.json").read_text())
    failing = [(p, c) for p in series["points"] for c in p["candidates"]
               if not c.get("gates_passed", True)]
    assert [(p["value"], c["name"]) for p, c in failing] == [
        ("1500", "lora-r8"), ("2500", "lora-r16")]
    keys = ("emar", "target_delta", "benchmark_delta")
    marks = sum(1 for _, c in failing for key in keys if "value" in c[key])
    html = pages["series"]
    assert html.count('<rect class="failed"') == marks + 3  # and one legend entry per chart
    assert html.count("lora-r16 at step 2500 failed max_benchmark_regression</title>") == 3
    assert html.count(">failed a gate</text>") == 3
    svg = "{http://www.w3.org/2000/svg}"
    for chart in re.findall(r"<svg\b.*?</svg>", html, re.S):
        root = ET.fromstring(chart)
        dots = {(round(float(c.get("cx")), 1), round(float(c.get("cy")), 1))
                for c in root.iter(f"{svg}circle")}
        for rect in root.iter(f"{svg}rect"):
            if rect.get("class") != "failed" or rect.find(f"{svg}title") is None:
                continue  # the legend's sample
            centre = (round(float(rect.get("x")) + 7, 1), round(float(rect.get("y")) + 7, 1))
            assert centre in dots, (rect.find(f"{svg}title").text, centre)
