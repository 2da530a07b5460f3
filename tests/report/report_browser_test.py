"""The HTML reports in a real browser. Debian's headless Chromium (chromium.py: the
DevTools protocol on a pipe) renders the example job's report, the suite examples
(examples/support-suite, examples/sliced-suite), a fixed suite report
(testdata/suite-report.json: two candidates, a target with two metrics, four benchmarks with a
per-dataset gate override and failing gates), a fixed five-checkpoint series
(testdata/series.json: two candidates, an undefined EMAR, a failing gate at the last checkpoint)
and a checkpoint-loop series from a live coordinator. Each page must:
  - log nothing (no console message, no exception, no blocked load: the pages carry a
    Content-Security-Policy that allows nothing from outside, so any attempt would be logged);
  - draw no chart label over another or outside its chart, measured on the rendered text;
  - give a screenshot that is not blank (decoded here, pixel by pixel);
  - show the numbers of the same report or series in JSON, and draw its points where its
    numbers say (read back through the chart's own tick labels).

EMAR_SCREENSHOT_DIR=docs keeps the screenshots (how docs/report.png, docs/suite-report.png and
docs/series.png are made). Run by ctest as report_browser_test.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import png_image  # noqa: E402
from chromium import Chromium  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "restaurant-sentiment" / "job.yaml"
SERIES = Path(__file__).resolve().parent / "testdata" / "series.json"
SUITE_REPORT = Path(__file__).resolve().parent / "testdata" / "suite-report.json"
SVG = "{http://www.w3.org/2000/svg}"

# Every <text> of every chart: its own box must stay inside the chart and off every other's.
LABEL_PROBLEMS = r"""(() => {
  const problems = [];
  for (const svg of document.querySelectorAll('svg.chart')) {
    const chart = svg.getAttribute('aria-label');
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll('text')].map(t => ({
      text: [...t.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join(''),
      r: t.getBoundingClientRect()}));
    for (const a of texts) {
      if (a.r.left < box.left - 1 || a.r.right > box.right + 1 || a.r.top < box.top - 1 ||
          a.r.bottom > box.bottom + 1) {
        problems.push(`${chart}: "${a.text}" is outside the chart`);
      }
    }
    for (let i = 0; i < texts.length; ++i) {
      for (let j = i + 1; j < texts.length; ++j) {
        const a = texts[i].r, b = texts[j].r;
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 &&
            b.top < a.bottom - 0.5) {
          problems.push(`${chart}: "${texts[i].text}" overlaps "${texts[j].text}"`);
        }
      }
    }
  }
  return problems;
})()"""


def bin_dir() -> Path:
    return Path(os.environ.get("EMAR_BIN_DIR", REPO / "build" / "bin"))


def render_series_tool() -> Path:
    return Path(os.environ.get("EMAR_RENDER_SERIES", REPO / "build" / "tests" / "render_series"))


def render_report_tool() -> Path:
    return Path(os.environ.get("EMAR_RENDER_REPORT", REPO / "build" / "tests" / "render_report"))


def run(*cmd, ok=(0,), timeout=300):
    env = {k: v for k, v in os.environ.items() if k not in ("EMAR_SERVER", "EMAR_TOKEN")}
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                       env=env)
    assert r.returncode in ok, f"{cmd}: exit {r.returncode}\n{r.stderr[-3000:]}"
    return r.stdout


def charts(html: str):
    """Every chart of the page, parsed as XML (so each must be well-formed on its own)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, re.S)]


def assert_self_contained(html: str):
    assert "<script" not in html
    urls = set(re.findall(r"(?:https?|ftp)://[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert "default-src 'none'" in html


class Page:
    """A page as Chromium shows it."""

    def __init__(self, png, dom, text, console, problems, overflow):
        self.png = png  # a full-page screenshot
        self.dom = dom  # the document's markup, as the browser holds it
        self.text = text  # the text the page shows, spaces (non-breaking too) as spaces
        self.console = console  # what it logged (Chromium.console)
        self.problems = problems  # labels over others or outside their chart
        self.overflow = overflow  # pixels the page is wider than the window (a table too wide)


def in_browser(tmp_path, html: str, name: str, width: int, keep=False) -> Page:
    """Loads the page; with `keep`, EMAR_SCREENSHOT_DIR gets its screenshot as NAME.png."""
    path = tmp_path / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    with Chromium() as browser:
        browser.open(path.as_uri(), width)
        page = Page(png=browser.screenshot(width),
                    dom=browser.evaluate("document.documentElement.outerHTML"),
                    text=browser.evaluate("document.body.textContent").replace("\xa0", " "),
                    console=browser.console(), problems=browser.evaluate(LABEL_PROBLEMS),
                    overflow=browser.evaluate(
                        "document.documentElement.scrollWidth - window.innerWidth"))
    if keep and os.environ.get("EMAR_SCREENSHOT_DIR"):
        Path(os.environ["EMAR_SCREENSHOT_DIR"], f"{name}.png").write_bytes(page.png)
    return page


def assert_not_blank(png: bytes):
    width, height, pixels = png_image.pixels(png)
    assert width >= 800 and height >= 600, (width, height)
    inked = sum(1 for p in pixels if p != (255, 255, 255)) / len(pixels)
    assert inked > 0.01, f"only {inked:.2%} of the screenshot is not white"
    colours = set(pixels)
    assert len(colours) > 20, f"{len(colours)} colours: a blank or one-colour page"
    # The charts' palette (Okabe-Ito orange, the first candidate's colour) is on the page.
    assert any(abs(r - 0xE6) < 12 and abs(g - 0x9F) < 12 and b < 20 for r, g, b in colours)


def interval(e, signed=False):
    value = f"{e['value']:+.4f}" if signed else f"{e['value']:.4f}"
    return f"{value} [{e['ci_low']:.4f}, {e['ci_high']:.4f}]"


def axis(svg, horizontal: bool):
    """The chart's value axis, read back from its tick labels: value -> pixel."""
    ticks = []
    for t in svg.iter(f"{SVG}text"):
        if t.get("fill") != "#444" or not re.fullmatch(r"-?\d+(\.\d+)?", t.text or ""):
            continue
        anchor = t.get("text-anchor")
        if horizontal and anchor == "middle":
            ticks.append((float(t.text), float(t.get("x"))))
        elif not horizontal and anchor == "end":
            ticks.append((float(t.text), float(t.get("y")) - 4))
    assert len(ticks) >= 2, ET.tostring(svg)[:500]
    (v0, p0), (v1, p1) = ticks[0], ticks[-1]
    return lambda v: p0 + (v - v0) * (p1 - p0) / (v1 - v0)


def test_the_console_check_catches_blocked_loads_and_errors(tmp_path):
    """The detector itself: a blocked load and a blocked script are logged, and so is an error
    from a script that ran."""
    blocked = ('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
               'content="default-src \'none\'"></head><body><p>x</p>'
               '<img src="http://192.0.2.1/x.png"><script>console.log("ran")</script>'
               '</body></html>')
    console = in_browser(tmp_path, blocked, "blocked", 800).console
    assert any("192.0.2.1" in line for line in console), console
    assert any("inline script" in line for line in console), console
    ran = '<!DOCTYPE html><html><body><script>console.error("boom")</script></body></html>'
    assert in_browser(tmp_path, ran, "ran", 800).console == ["console.error: boom"]


def test_the_label_check_catches_overlapping_labels(tmp_path):
    html = ('<!DOCTYPE html><html><body><svg xmlns="http://www.w3.org/2000/svg" class="chart" '
            'width="200" height="50" aria-label="t"><text x="10" y="20">first label</text>'
            '<text x="30" y="24">second</text><text x="190" y="40">outside</text></svg>'
            '</body></html>')
    problems = in_browser(tmp_path, html, "overlap", 800).problems
    assert 't: "first label" overlaps "second"' in problems
    assert 't: "outside" is outside the chart' in problems


def test_example_report_in_chromium(tmp_path):
    html = run(bin_dir() / "emarctl", "run", EXAMPLE, "--format", "html", "--progress", "off")
    report = json.loads(run(bin_dir() / "emarctl", "run", EXAMPLE, "--format", "json",
                            "--progress", "off"))
    assert_self_contained(html)
    svgs = charts(html)
    assert len(svgs) == 4  # EMAR, the deltas, then the candidate's T0 T1 and B0 B1
    page = in_browser(tmp_path, html, "report", 1280, keep=True)
    assert page.console == [], "\n".join(page.console)
    assert page.problems == [], "\n".join(page.problems)
    assert_not_blank(page.png)
    shown = page.text

    c = report["candidates"][0]
    for estimate in (c["emar"], c["target"]["base"], c["target"]["candidate"],
                     c["benchmark"]["base"], c["benchmark"]["candidate"]):
        assert interval(estimate) in shown, interval(estimate)
    for which in ("target", "benchmark"):
        delta = c[which]["delta"]
        assert f"{interval(delta, signed=True)}  p={delta['p_value']:.3g}" in shown
    for g in c["gates"]:
        at = -g["threshold"] if g["gate"] == "max_benchmark_regression" else g["threshold"]
        assert f"{g['gate']} {at:g}" in shown
    for i in report["provenance"]["inputs"]:
        assert i["sha256"] in shown

    # The points sit where the report's numbers are, on each chart's own axis (within a pixel).
    emar_chart, delta_chart, target_chart, benchmark_chart = svgs
    dots = lambda svg: [float(e.get("cx")) for e in svg.iter(f"{SVG}circle")]  # noqa: E731
    x = axis(emar_chart, horizontal=True)
    assert dots(emar_chart) == pytest.approx([x(c["emar"]["value"])], abs=1)
    x = axis(delta_chart, horizontal=True)
    assert dots(delta_chart) == pytest.approx(
        [x(c["target"]["delta"]["value"]), x(c["benchmark"]["delta"]["value"])], abs=1)
    for svg, which in ((target_chart, "target"), (benchmark_chart, "benchmark")):
        x = axis(svg, horizontal=True)
        assert dots(svg) == pytest.approx(
            [x(c[which]["base"]["value"]), x(c[which]["candidate"]["value"])], abs=1)


def check_suite_page(tmp_path, html: str, report: dict, name: str, keep=False):
    """What every suite page must satisfy: the per-dataset tables and the forest plot of the
    benchmark deltas, each row with its own gate threshold, the aggregate first. Returns the page."""
    assert_self_contained(html)
    svgs = charts(html)
    # EMAR, the aggregate deltas, the forest plot, then T0 T1 and B0 B1 per candidate, and a
    # forest plot per sliced dataset.
    sliced = sum(1 for c in report["candidates"] for d in c["datasets"] if d.get("slices"))
    assert len(svgs) == 3 + 2 * len(report["candidates"]) + sliced
    page = in_browser(tmp_path, html, name, 1280, keep=keep)
    assert page.overflow == 0, f"the page is {page.overflow}px wider than the window"
    assert page.console == [], "\n".join(page.console)
    assert page.problems == [], "\n".join(page.problems)
    assert_not_blank(page.png)
    shown = page.text
    ranked = sorted(report["candidates"], key=lambda c: c["rank"])
    for c in ranked:
        for d in c["datasets"]:  # every dataset and metric, with its scores and test
            for key in ("base", "candidate"):
                assert interval(d[key]) in shown, (c["name"], d["dataset"], key)
            delta = d["delta"]
            assert f"[{delta['ci_low']:.4f}, {delta['ci_high']:.4f}]" in shown
            assert f"{delta['p_value']:.3g} ({delta['test']})" in shown
    # The forest plot: the aggregate rows first, then each benchmark's primary metric; each note
    # carries the raw and Holm p-values, each dot sits at its value on the chart's own axis and
    # each threshold mark at its gate's bound.
    forest = svgs[2]
    assert forest.get("aria-label").startswith("Benchmark Δ per dataset")
    gate = lambda c, g, ds: next((-x["threshold"] for x in c["gates"]  # noqa: E731
                                  if x["gate"] == g and x.get("dataset", "") == ds), None)
    rows = [c["benchmark"]["delta"] for c in ranked]
    limits = [gate(c, "max_suite_regression", "") for c in ranked]
    benchmarks = [d["dataset"] for d in ranked[0]["datasets"]
                  if d["role"] == "benchmark" and d["primary"]]
    for dataset in benchmarks:
        for c in ranked:
            d = next(d for d in c["datasets"] if d["dataset"] == dataset and d["primary"])
            rows.append(d["delta"])
            limits.append(gate(c, "max_benchmark_regression", dataset))
            note = (f"{interval(d['delta'], signed=True)}  p={d['delta']['p_value']:.3g}, "
                    f"Holm {d['delta']['p_value_holm']:.3g}")
            assert note in ET.tostring(forest, encoding="unicode"), note
    x = axis(forest, horizontal=True)
    dots = [float(e.get("cx")) for e in forest.iter(f"{SVG}circle")]
    assert dots == pytest.approx([x(r["value"]) for r in rows], abs=1)
    marks = [float(e.get("x1")) for e in forest.iter(f"{SVG}line")
             if e.get("stroke") == "#B00020" and e.get("stroke-dasharray")]
    assert marks == pytest.approx([x(v) for v in limits if v is not None], abs=1)
    return page, limits


def test_suite_report_in_chromium(tmp_path):
    """A fixed suite report: two candidates, a target with two metrics, four benchmarks, one
    threshold override, failing gates."""
    report = json.loads(SUITE_REPORT.read_text())
    html = run(render_report_tool(), "html", SUITE_REPORT)
    page, limits = check_suite_page(tmp_path, html, report, "suite-report", keep=True)
    assert -0.05 in limits and -0.02 in limits  # wmt-de-en's override beside the job's gate
    # The gates per dataset: lora-r8 fails mmlu, gsm8k and the suite's aggregate.
    failed = [(c["name"], g["gate"], g.get("dataset", "")) for c in report["candidates"]
              for g in c["gates"] if not g["passed"]]
    assert failed == [("lora-r8", "max_benchmark_regression", "mmlu"),
                      ("lora-r8", "max_benchmark_regression", "gsm8k"),
                      ("lora-r8", "max_suite_regression", "")]
    assert page.dom.count('<td class="fail">FAIL</td>') == 1 + 2 + 3  # leaderboard, datasets, gates


def test_live_suite_report_in_chromium(tmp_path):
    """A suite job run by emarctl: the example's target scored by two metrics, its QA benchmark
    by two, and a generated benchmark that regresses, with its own gate."""
    shutil.copytree(EXAMPLE.parent, tmp_path / "ex")  # paths relative to the job, as usual
    example = Path("ex")
    with open(tmp_path / "arith.jsonl", "w") as refs, \
            open(tmp_path / "base.arith.jsonl", "w") as base, \
            open(tmp_path / "r16.arith.jsonl", "w") as r16:
        for i in range(600):
            gold = str(i % 7)
            refs.write(json.dumps({"id": f"a{i:04d}", "reference": gold}) + "\n")
            right = i % 5 != 0  # 80 % right; the candidate forgets 24 of those
            base.write(json.dumps({"id": f"a{i:04d}",
                                   "prediction": gold if right else "x"}) + "\n")
            r16.write(json.dumps({"id": f"a{i:04d}",
                                  "prediction": gold if right and i % 25 != 1 else "x"}) + "\n")
    job = {
        "name": "restaurant-sentiment suite",
        "targets": [{"name": "restaurant-reviews", "references": str(example / "data/target.jsonl"),
                     "metrics": ["accuracy", "macro_f1"]}],
        "benchmarks": [
            {"name": "general-qa", "references": str(example / "data/benchmark.jsonl"),
             "metrics": ["exact_match", "token_f1"]},
            {"name": "arith", "references": "arith.jsonl", "metrics": ["accuracy"], "weight": 2,
             "gates": {"max_benchmark_regression": 0.05}}],
        "base": {"name": "base", "outputs": {
            "restaurant-reviews": str(example / "out/base.target.jsonl"),
            "general-qa": str(example / "out/base.benchmark.jsonl"),
            "arith": "base.arith.jsonl"}},
        "candidates": [{"name": "lora-r16", "outputs": {
            "restaurant-reviews": str(example / "out/r16.target.jsonl"),
            "general-qa": str(example / "out/r16.benchmark.jsonl"),
            "arith": "r16.arith.jsonl"}}],
        "gates": {"min_emar": 0.1, "max_benchmark_regression": 0.02, "max_suite_regression": 0.01},
    }
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(job))
    args = (bin_dir() / "emarctl", "run", path, "--progress", "off")
    html = run(*args, "--format", "html", ok=(0, 3))
    report = json.loads(run(*args, "--format", "json", ok=(0, 3)))
    c = report["candidates"][0]
    assert [(d["dataset"], d["metric"], d["primary"]) for d in c["datasets"]] == [
        ("restaurant-reviews", "accuracy", True), ("restaurant-reviews", "macro_f1", False),
        ("general-qa", "exact_match", True), ("general-qa", "token_f1", False),
        ("arith", "accuracy", True)]
    page, limits = check_suite_page(tmp_path, html, report, "live-suite-report")
    assert limits == [-0.01, -0.02, -0.05]  # the suite's, general-qa's, arith's override
    # arith lost 24 of 600 answers: about -0.04, inside its own 0.05 but the aggregate (weight 2)
    # falls past max_suite_regression.
    arith = next(d for d in c["datasets"] if d["dataset"] == "arith")
    assert arith["delta"]["value"] == pytest.approx(-24 / 600)
    assert "arith" in page.text and "(aggregate)" in page.text


SLICED_SUITE = REPO / "examples" / "sliced-suite" / "job.yaml"


def test_sliced_suite_report_in_chromium(tmp_path):
    """examples/sliced-suite run by emarctl with --flips 5: per dataset a slice forest plot (dots
    at each slice's delta, worst first, the max_slice_regression mark on gated rows only), the
    slice table, the flip counts linking to each dataset's flips table, and the listed flips."""
    args = (bin_dir() / "emarctl", "run", SLICED_SUITE, "--progress", "off", "--flips", "5")
    html = run(*args, "--format", "html", ok=(0, 3))
    report = json.loads(run(*args, "--format", "json", ok=(0, 3)))
    assert_self_contained(html)
    page = in_browser(tmp_path, html, "sliced-suite-report", 1280, keep=True)
    assert page.overflow == 0, f"the page is {page.overflow}px wider than the window"
    assert page.console == [], "\n".join(page.console)
    assert page.problems == [], "\n".join(page.problems)
    assert_not_blank(page.png)
    shown = page.text
    c = report["candidates"][0]
    gate = next(g for g in c["gates"] if g["gate"] == "max_slice_regression")
    svgs = {svg.get("aria-label"): svg for svg in charts(html)}
    for d in c["datasets"]:
        slices = d["slices"]
        assert len(slices) >= 5, d["dataset"]
        deltas = [s["delta"]["value"] for s in slices]
        assert deltas == sorted(deltas), "worst slice first"
        forest = next(svg for label, svg in svgs.items()
                      if label.startswith(f"Δ per slice of {d['dataset']}"))
        x = axis(forest, horizontal=True)
        dots = [float(e.get("cx")) for e in forest.iter(f"{SVG}circle")]
        assert dots == pytest.approx([x(v) for v in deltas], abs=1)
        marks = [float(e.get("x1")) for e in forest.iter(f"{SVG}line")
                 if e.get("stroke") == "#B00020" and e.get("stroke-dasharray")]
        gated = [s for s in slices if s["gated"]]
        assert marks == pytest.approx([x(-gate["threshold"])] * len(gated), abs=1)
        for s in slices:
            assert f"[{s['delta']['ci_low']:.4f}, {s['delta']['ci_high']:.4f}]" in shown
        # The counts link to this dataset's flips table, which lists the first 5 of each kind.
        anchor = re.sub(r"[^A-Za-z0-9]", "-", f"flips-{c['name']}-{d['dataset']}-{d['metric']}")
        assert f'href="#{anchor}"' in page.dom and f'id="{anchor}"' in page.dom
        learned, forgot = int(d["flips"]["learned"]), int(d["flips"]["forgot"])  # int64: strings
        assert learned > 0 and forgot > 0
        listed = d["flip_items"]
        assert len(listed) == min(5, learned) + min(5, forgot)
        for item in listed:
            assert item["id"] in shown and item["candidate_prediction"] in shown
    small = [s for d in c["datasets"] for s in d["slices"] if not s["gated"]]
    assert [s["slice"] for s in small] == ["ja"]  # 24 tickets, under min_slice_items


SUPPORT_SUITE = REPO / "examples" / "support-suite" / "job.yaml"


def test_support_suite_report_in_chromium(tmp_path):
    """examples/support-suite (docs/suites.md's example) run by emarctl with --flips 3: the
    suite page's tables and forest plot, the judge-scored dataset's row as n items × k samples,
    the sliced benchmark's slice table and forest plot, and the listed flips, the judge's with
    their per-item means, samples and first sample."""
    args = (bin_dir() / "emarctl", "run", SUPPORT_SUITE, "--progress", "off", "--flips", "3")
    html = run(*args, "--format", "html", ok=(3,))  # general-qa, arc-mini and the suite fail
    report = json.loads(run(*args, "--format", "json", ok=(3,)))
    page, limits = check_suite_page(tmp_path, html, report, "support-suite-report", keep=True)
    assert -0.5 in limits and -0.05 in limits  # helpfulness's and news-de-en's own bounds
    c = report["candidates"][0]
    judge = next(d for d in c["datasets"] if d["dataset"] == "helpfulness")
    n, k = judge["n"], judge["base_samples_per_item"]
    assert (n, k, judge["candidate_samples_per_item"]) == (120, 3, 3)
    row = re.search(r"<tr><td>benchmark</td><td>helpfulness</td><td>score</td><td>0.25</td>"
                    r"<td>([^<]*)</td>", page.dom)
    assert row and row.group(1) == f"{n} items × {k} samples", row
    assert f"helpfulness (score): {n} items, {k} samples per item" in page.text
    # The sliced benchmark: its slice table (every slice, worst first) and forest plot.
    mmlu = next(d for d in c["datasets"] if d["dataset"] == "mmlu-mini")
    slices = mmlu["slices"]
    assert len(slices) == 6
    assert [s["delta"]["value"] for s in slices] == sorted(s["delta"]["value"] for s in slices)
    assert "slices of mmlu-mini (exact_match), worst delta first" in page.text
    table = re.search(r"<tr><th>slice</th>.*?</table>", page.dom, re.S).group(0)
    assert re.findall(r"<tr><td>([^<]*)</td>", table) == [s["slice"] for s in slices]
    for s in slices:
        assert f"[{s['delta']['ci_low']:.4f}, {s['delta']['ci_high']:.4f}]" in table
    assert any(svg.get("aria-label").startswith("Δ per slice of mmlu-mini") for svg in charts(html))
    # Flips: the judge's counts link to its table; each listed item shows both per-item means
    # over 3 samples and the first sample's answer.
    anchor = "flips-lora-r16-helpfulness-score"
    assert f'href="#{anchor}"' in page.dom and f'id="{anchor}"' in page.dom
    listed = judge["flip_items"]
    assert len(listed) == 6 and int(judge["flips"]["learned"]) >= 3
    for item in listed:
        assert item["references"] == [] and item["base_samples"] == 3
        assert f"mean {item['base_value']:.4g} of 3 samples; first sample" in page.text
        assert item["candidate_prediction"][:60] in page.text
    # arc-mini's harness lines are listed as the choice each model picked (numpy's argmax of the
    # log-likelihoods, per character for mc_acc_norm), not as raw lines.
    path = SUPPORT_SUITE.parent / "out" / "lora-r16" / "samples_arc-mini.jsonl"
    rows = {r["doc_id"]: r for r in map(json.loads, path.read_text().splitlines())}
    for metric in ("mc_acc", "mc_acc_norm"):
        arc = next(d for d in c["datasets"] if d["dataset"] == "arc-mini" and d["metric"] == metric)
        assert len(arc["flip_items"]) == 6
        for item in arc["flip_items"]:
            row = rows[int(item["id"])]
            texts = row["doc"]["choices"]["text"]
            scores = [float(ll) / (len(t) if metric == "mc_acc_norm" else 1)
                      for (ll, _), t in zip(row["filtered_resps"], texts)]
            pick = scores.index(max(scores))
            assert item["candidate_prediction"] == f"choice {pick} ({texts[pick]})", item
    # docs/suites.md quotes the example's text output: every quoted run of lines is printed.
    text = run(*args, "--format", "text", ok=(3,))
    docs = (REPO / "docs" / "suites.md").read_text(encoding="utf-8")
    quoted = re.search(r"It prints, among the rest.*?```\n(.*?)```", docs, re.S).group(1)
    chunks = quoted.split("...\n")
    assert len(chunks) == 4 and all(chunks), quoted
    for chunk in chunks:
        assert chunk in text, chunk


def check_series_page(tmp_path, html: str, series: dict, name: str, keep=False):
    """What every series page must satisfy, whatever the series; returns (svgs, page)."""
    assert_self_contained(html)
    svgs = charts(html)
    assert len(svgs) == 3  # EMAR, target delta, benchmark delta
    page = in_browser(tmp_path, html, name, 1280, keep)
    assert page.console == [], "\n".join(page.console)
    assert page.problems == [], "\n".join(page.problems)
    assert_not_blank(page.png)
    for point in series["points"]:
        assert point["job_id"] in page.text
        for c in point["candidates"]:
            for key, signed in (("emar", False), ("target_delta", True),
                                ("benchmark_delta", True)):
                e = c[key]
                text = (interval(e, signed) if "value" in e
                        else f"undefined: {e['undefined_reason']}")
                assert text in page.text, (point["value"], c["name"], key, text)
    # Every defined value is a dot at its own height on its chart's axis.
    for svg, key in zip(svgs, ("emar", "target_delta", "benchmark_delta")):
        y = axis(svg, horizontal=False)
        drawn = sorted(float(e.get("cy")) for e in svg.iter(f"{SVG}circle"))
        wanted = sorted(y(c[key]["value"]) for p in series["points"] for c in p["candidates"]
                        if "value" in c[key])
        assert drawn == pytest.approx(wanted, abs=1), key
    return svgs, page


def test_series_fixture_in_chromium(tmp_path):
    series = json.loads(SERIES.read_text())
    html = run(render_series_tool(), "html", SERIES)
    svgs, page = check_series_page(tmp_path, html, series, "series", keep=True)
    emar_chart, target_chart, benchmark_chart = svgs
    # The undefined point draws nothing, breaks lora-r8's line and is noted under the charts.
    note = "lora-r8 at step 1500: undefined: a score it depends on is undefined"
    assert note in ET.tostring(emar_chart, encoding="unicode")
    assert note in ET.tostring(target_chart, encoding="unicode")
    paths = [p.get("d") for p in emar_chart.iter(f"{SVG}path")]
    assert sorted(d.count("M") for d in paths) == [1, 2]
    # The gate thresholds: min_emar at +x, max_benchmark_regression at -x.
    assert "min_emar 0.05" in ET.tostring(emar_chart, encoding="unicode")
    assert "max_benchmark_regression -0.05" in ET.tostring(benchmark_chart, encoding="unicode")
    # The last checkpoint's failing gate is marked in the table.
    rows = re.findall(r"<tr><td>2500</td><td>([^<]*)</td>(.*?)</tr>", page.dom)
    assert [(name, '<td class="fail">FAIL</td>' in cells) for name, cells in rows] == [
        ("lora-r16", True), ("lora-r8", False)]
    assert "step 1500, lora-r8: target score (T1) undefined: every one of the 600 predictions " \
        "was empty" in page.text
    assert "job-3000c0ffee5a: running (12 of 16 shards done)" in page.text


def test_checkpoint_loop_series_in_chromium(tmp_path):
    """emarctl series --format html against a live coordinator fed by examples/checkpoint-loop."""
    spec = importlib.util.spec_from_file_location("emar_test_service",
                                                  REPO / "tests" / "python" / "conftest.py")
    services = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(services)
    service = services.Service(tmp_path / "service")
    try:
        service.start_coordinator()
        service.start_worker()
        run(sys.executable, REPO / "examples" / "checkpoint-loop" / "checkpoint_loop.py",
            "--server", service.address, "--run", "browser", "--work-dir", tmp_path / "work",
            timeout=600)
        args = (bin_dir() / "emarctl", "series", "--label", "run=browser", "--by", "step",
                "--server", service.address)
        html = run(*args, "--format", "html")
        series = json.loads(run(*args, "--format", "json"))
    finally:
        service.stop()
    assert [p["value"] for p in series["points"]] == ["500", "1000", "1500", "2000"]
    _, page = check_series_page(tmp_path, html, series, "checkpoint-loop")
    assert "max_benchmark_regression -0.05" in page.text
    assert page.dom.count('<td class="fail">FAIL</td>') == 1  # the last checkpoint's gate
