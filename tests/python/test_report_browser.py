"""Issue 12: the HTML reports in a real browser. Debian's headless Chromium renders the example
job's report and a checkpoint series' report; each must log nothing to the console (no errors,
no blocked loads: the pages carry a Content-Security-Policy that allows nothing from outside),
give a screenshot that is not blank (decoded here, pixel by pixel) and show the report's numbers
in its DOM, taken from the same job's JSON.

EMAR_SCREENSHOT_DIR=docs keeps the screenshots (how docs/report.png and docs/series.png are
made).
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

import pytest

from conftest import EXAMPLE, REPO, bin_dir

CHROMIUM = shutil.which("chromium") or "chromium is not installed: run scripts/install-deps.sh"


def chromium(tmp_path, *args):
    """Runs headless Chromium (own profile, no sandbox: CI runs as root) and returns
    (stdout, console lines)."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-extensions", "--hide-scrollbars",
                        f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    console = [line for line in r.stderr.splitlines() if ":CONSOLE" in line]
    return r.stdout, console


def render(tmp_path, html: str, name: str, height: int, width: int = 1100):
    """(png bytes, DOM, console lines) of the page."""
    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    png = tmp_path / f"{name}.png"
    _, console = chromium(tmp_path, f"--screenshot={png}", f"--window-size={width},{height}",
                          page.as_uri())
    dom, console2 = chromium(tmp_path, "--dump-dom", page.as_uri())
    keep = os.environ.get("EMAR_SCREENSHOT_DIR")
    if keep:
        shutil.copy(png, os.path.join(keep, f"{name}.png"))
    return png.read_bytes(), dom, console + console2


def png_pixels(data: bytes):
    """(width, height, [(r, g, b), ...]) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    pixels = []
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels.extend(tuple(line[i:i + 3]) for i in range(0, stride, bpp))
        prev = line
    return width, height, pixels


def assert_not_blank(png: bytes):
    width, height, pixels = png_pixels(png)
    assert width >= 800 and height >= 600
    inked = sum(1 for p in pixels if p != (255, 255, 255)) / len(pixels)
    assert inked > 0.01, f"only {inked:.2%} of the screenshot is not white"
    colours = set(pixels)
    assert len(colours) > 20, f"{len(colours)} colours: a blank or one-colour page"
    # The charts' palette (Okabe-Ito orange, the first candidate's colour) is on the page.
    assert any(abs(r - 0xE6) < 12 and abs(g - 0x9F) < 12 and b < 20 for r, g, b in colours)


def emarctl(*args, timeout=300):
    r = subprocess.run([str(bin_dir() / "emarctl"), *args, "--progress", "off"],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode in (0, 3), r.stderr
    return r.stdout


def interval(e):
    return f"{e['value']:.4f} [{e['ci_low']:.4f}, {e['ci_high']:.4f}]"


def test_console_check_catches_a_page_that_loads_from_outside(tmp_path):
    """The detector itself: a blocked load and a blocked script are console lines."""
    html = ('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
            'content="default-src \'none\'"></head><body><img src="http://192.0.2.1/x.png">'
            '<script>console.error("boom")</script></body></html>')
    _, _, console = render(tmp_path, html, "bad", 600)
    assert len(console) >= 1


def test_example_report_renders_in_chromium(tmp_path):
    html = emarctl("run", str(EXAMPLE), "--format", "html")
    report = json.loads(emarctl("run", str(EXAMPLE), "--format", "json"))
    png, dom, console = render(tmp_path, html, "report", 1500, width=1300)
    assert console == [], "\n".join(console)
    assert_not_blank(png)
    assert dom.count("<svg") == 4  # EMAR, deltas, target and benchmark scores
    c = report["candidates"][0]
    for estimate in (c["emar"], c["target"]["base"], c["target"]["candidate"],
                     c["benchmark"]["base"], c["benchmark"]["candidate"]):
        assert interval(estimate) in dom, interval(estimate)
    assert f"{c['target']['delta']['value']:+.4f}" in dom
    for g in c["gates"]:
        assert f"{g['gate']} {g['threshold'] * (-1 if g['gate'] == 'max_benchmark_regression' else 1):g}" in dom


def test_series_report_renders_in_chromium(service, tmp_path):
    r = subprocess.run([sys.executable, str(REPO / "examples/checkpoint-loop/checkpoint_loop.py"),
                        "--server", service.address, "--run", "browser",
                        "--work-dir", str(tmp_path / "work")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    args = ("series", "--label", "run=browser", "--by", "step", "--server", service.address)
    html = emarctl(*args, "--format", "html")
    series = json.loads(emarctl(*args, "--format", "json"))
    assert [p["value"] for p in series["points"]] == ["500", "1000", "1500", "2000"]
    png, dom, console = render(tmp_path, html, "series", 1500)
    assert console == [], "\n".join(console)
    assert_not_blank(png)
    assert dom.count("<svg") == 3  # EMAR, target delta, benchmark delta
    for point in series["points"]:
        c = point["candidates"][0]
        assert interval(c["emar"]) in dom
        assert point["job_id"] in dom
    assert "max_benchmark_regression -0.05" in dom
    assert '<td class="fail">FAIL</td>' in dom  # the last checkpoint's gate
