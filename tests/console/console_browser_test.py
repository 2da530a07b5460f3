"""The web console in Debian's headless Chromium (tests/report/chromium.py: DevTools on a pipe),
against a live emar-coordinator (--tokens, --console-listen) and emar-worker started here:
  - a visitor is sent to the login form and logs in with a token (the session cookie);
  - a job's page shows its progress changing while it runs, without a reload (the worker is
    paused mid-job with SIGSTOP so the running state is seen), then its report;
  - a three-checkpoint run's series page, refreshed without a reload when the third arrives;
  - the job page's flips counts open a dataset's flips page, which lists what `emarctl flips`
    lists and links back;
  - another principal's job is neither listed nor reachable (404);
  - the login outlives a crash of the coordinator (SIGKILL, then a restart on the same data dir);
  - every page logs nothing (no console message, no blocked load or script: the console's policy
    would log any) and fits 390 px and 1280 px windows (no horizontal overflow).
EMAR_SCREENSHOT_DIR=docs keeps the screenshots (docs/console-*.png). Run by ctest as
console_browser_test.
"""
import base64
import importlib.util
import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
import png_image  # noqa: E402
from chromium import Chromium  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "restaurant-sentiment" / "job.yaml"
TOKENS = [("client", "alice", "alice-console-token"), ("client", "bob", "bob-console-token"),
          ("worker", "workers", "worker-console-token")]
ALICE, BOB, WORKER = (t[2] for t in TOKENS)
ROWS_PER_SHARD = 25  # the example's 3,500 rows of two models: 280 shards


def load_services():
    spec = importlib.util.spec_from_file_location("emar_test_service",
                                                  REPO / "tests" / "python" / "conftest.py")
    services = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(services)
    return services


class Browser(Chromium):
    def submit_form(self, form_selector, fields):
        """Fills the form's fields and submits it (as a user's click), then waits for the load."""
        self.events.clear()
        self.evaluate("(() => {" + "".join(
            f"document.querySelector({json.dumps(form_selector + ' [name=' + k + ']')}).value = "
            f"{json.dumps(v)};" for k, v in fields.items()) +
            f"document.querySelector({json.dumps(form_selector)}).requestSubmit();}})()")
        if not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._wait(lambda m: m.get("method") == "Page.loadEventFired",
                                          "load event"))

    def click(self, selector):
        """Clicks the first element `selector` matches (as a user would) and waits for the page
        it leads to."""
        self.events.clear()
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")
        if not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._wait(lambda m: m.get("method") == "Page.loadEventFired",
                                          "load event"))

    def screenshot_top(self, width, height):
        """A PNG of the window's first `height` pixels (a long page's top, for the docs)."""
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  self.session)
        data = self.call("Page.captureScreenshot", {"format": "png"}, self.session)["data"]
        return base64.b64decode(data)

    def text(self, selector="body"):
        return self.evaluate(f"document.querySelector({json.dumps(selector)})?.textContent ?? ''"
                             ).replace("\xa0", " ")

    def until(self, expression, what, timeout=60):
        """Polls a JavaScript expression in the page until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"{what}: not within {timeout} s; the page shows:\n{self.text()}")

    def status(self):
        """The HTTP status of the page shown."""
        return self.evaluate("performance.getEntriesByType('navigation')[0].responseStatus")

    def overflow(self):
        return self.evaluate("document.documentElement.scrollWidth - window.innerWidth")


class Console:
    def __init__(self, tmp_path):
        self.service = load_services().Service(tmp_path / "service", TOKENS, WORKER)
        self.port_file = tmp_path / "console-port"
        self.service.start_coordinator(
            ["--rows-per-shard", str(ROWS_PER_SHARD), "--console-listen", "127.0.0.1:0",
             "--console-port-file", str(self.port_file)])
        self.url = f"http://127.0.0.1:{int(self.port_file.read_text())}"

    def restart(self):
        """Kills the coordinator (no draining) and starts it again on the same data dir."""
        self.service.kill_coordinator()
        self.port_file.unlink()
        self.service.start_coordinator()
        self.url = f"http://127.0.0.1:{int(self.port_file.read_text())}"

    def submit(self, token, *labels):
        args = ["submit", str(EXAMPLE), "--format", "json", "--progress", "off"]
        for label in labels:
            args += ["--label", label]
        code, out, err = self.service.emarctl(*args, token=token)
        assert code == 0, err
        return json.loads(out)["job_id"]

    def wait_done(self, job_id, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if json.loads(self.get(f"/jobs/{job_id}/status", ALICE)[1])["done"]:
                return
            time.sleep(0.1)
        raise AssertionError(f"{job_id} did not finish within {timeout} s")

    def get(self, path, token):
        """(status, body) of a GET with a bearer token."""
        request = urllib.request.Request(self.url + path,
                                         headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


def check_page(browser, url, name, keep=False):
    """The page at both widths: nothing logged, nothing wider than the window; with `keep`, its
    1280 px screenshot goes to EMAR_SCREENSHOT_DIR as NAME.png."""
    for width in (390, 1280):
        browser.open(url, width)
        assert browser.console() == [], f"{name} at {width}px:\n" + "\n".join(browser.console())
        assert browser.overflow() == 0, f"{name} is {browser.overflow()}px too wide at {width}px"
    png = browser.screenshot(1280)
    width, height, pixels = png_image.pixels(png)
    assert len(set(pixels)) > 20, f"{name}: a blank page"
    if keep and os.environ.get("EMAR_SCREENSHOT_DIR"):
        Path(os.environ["EMAR_SCREENSHOT_DIR"], f"{name}.png").write_bytes(png)


def wait_for_partial_progress(console, job_id, worker):
    """Stops the worker (SIGSTOP) once the job runs with some shards done; returns that count."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = json.loads(console.get(f"/jobs/{job_id}/status", ALICE)[1])
        if status["shards_done"] > 0:
            worker.send_signal(signal.SIGSTOP)
            time.sleep(1)  # a result already on its way still lands
            status = json.loads(console.get(f"/jobs/{job_id}/status", ALICE)[1])
            assert status["state"] == "running" and status["shards_done"] < status["shards_total"], \
                f"the job ran to the end before the worker could be paused: {status}"
            return status["shards_done"]
        time.sleep(0.01)
    raise AssertionError("no shard was scored within 60 s")


def check_flips(console, browser, job):
    """From the job page, the first dataset's flips: the items `emarctl flips` lists (first page
    of 200), nothing logged; the page links back to the job."""
    browser.open(f"{console.url}/jobs/{job}", 1280)
    browser.click("#report table.flips a")
    url = browser.evaluate("location.href")
    assert browser.status() == 200 and "/flips?dataset=" in url, (url, browser.text())
    assert browser.console() == [], browser.console()
    dataset = browser.evaluate("new URL(location.href).searchParams.get('dataset')")
    code, out, err = console.service.emarctl("flips", job, "--dataset", dataset, "--format",
                                             "json", token=ALICE)
    assert code == 0, err
    listed = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(listed) > 0, f"no flips on {dataset}"
    rows = browser.evaluate("[...document.querySelectorAll('main table tr')].slice(1)"
                            ".map(r => [...r.cells].slice(1, 3).map(c => c.textContent))")
    assert rows == [[i["kind"], i["id"]] for i in listed[:200]], rows[:5]
    assert f"of {len(listed)}" in browser.text(".pager"), browser.text(".pager")
    check_page(browser, url, "console-flips")
    if os.environ.get("EMAR_SCREENSHOT_DIR"):  # 200 items are 6,000 px: the docs show the top
        Path(os.environ["EMAR_SCREENSHOT_DIR"], "console-flips.png").write_bytes(
            browser.screenshot_top(1280, 1000))
    browser.click("main p.meta a")
    assert browser.evaluate("location.pathname") == f"/jobs/{job}"


def check_login_outlives_a_crash(console, browser, job):
    """The session is in the job store: a coordinator killed and started again (a new console
    port; cookies ignore ports) still knows the browser's login."""
    console.restart()
    browser.open(f"{console.url}/jobs/{job}", 1280)
    assert browser.evaluate("location.pathname") == f"/jobs/{job}", browser.text()
    assert browser.text("header .who") == "alice"
    assert browser.console() == [], browser.console()


def test_console_in_chromium(tmp_path):
    console = Console(tmp_path)
    try:
        run_console_checks(console)
    finally:
        console.service.stop()


def run_console_checks(console):
    job = console.submit(ALICE)  # no worker yet: queued
    secret = console.submit(BOB)
    with Browser() as browser:
        # Not logged in: the job's URL leads to the login form, which leads back to it.
        check_page(browser, console.url + "/login", "console-login")
        browser.open(f"{console.url}/jobs/{job}", 1280)
        assert "/login?next=" in browser.evaluate("location.href")
        browser.submit_form("form[action='/login']", {"token": ALICE})
        assert browser.evaluate("location.pathname") == f"/jobs/{job}", browser.text()
        assert browser.console() == [], browser.console()
        assert browser.text(".state") == "queued"
        total = (2000 + 1500) * 2 // ROWS_PER_SHARD
        assert browser.text(".progress-text").startswith(f"0 of {total} shards")

        # The job runs: the page follows it without reloading (the marker would be gone).
        browser.evaluate("window.notReloaded = true")
        worker = console.service.start_worker()
        done = wait_for_partial_progress(console, job, worker)
        browser.until(f"document.querySelector('.progress-text').textContent.startsWith("
                      f"'{done} of {total} shards')", "the paused job's progress")
        assert browser.text(".state") == "running"
        assert browser.evaluate("document.querySelector('progress').value") == done
        worker.send_signal(signal.SIGCONT)
        browser.until("!!document.querySelector('#report h1')", "the report", timeout=120)
        assert browser.evaluate("window.notReloaded") is True, "the page was reloaded"
        assert browser.text(".state") == "succeeded"
        assert browser.text(".progress-text").startswith(f"{total} of {total} shards")
        report = json.loads(console.get(f"/jobs/{job}/report.json", ALICE)[1])
        emar = report["candidates"][0]["emar"]
        shown = browser.text("#report")
        assert f"{emar['value']:.4f} [{emar['ci_low']:.4f}, {emar['ci_high']:.4f}]" in shown
        assert browser.console() == [], browser.console()
        check_page(browser, f"{console.url}/jobs/{job}", "console-job", keep=True)
        links = browser.evaluate("[...document.querySelectorAll('#report-links a')]"
                                 ".map(a => a.href)")
        assert [h.rsplit("/", 1)[1] for h in links[:3]] == ["report.json", "report.md",
                                                            "report.html"], links
        for link in links[:3]:  # the report's links work
            browser.open(link, 1280)
            assert browser.status() == 200, link
            assert browser.console() == [], (link, browser.console())

        check_flips(console, browser, job)

        # A three-checkpoint run: the page shows two, then the third without a reload.
        steps = [console.submit(ALICE, "run=exp-42", f"step={s}") for s in (500, 1000)]
        for j in steps:
            console.wait_done(j)
        runs = f"{console.url}/runs?label=run%3Dexp-42&by=step"
        browser.open(runs, 1280)
        assert all(j in browser.text() for j in steps)
        browser.evaluate("window.notReloaded = true")
        steps.append(console.submit(ALICE, "run=exp-42", "step=1500"))
        browser.until(f"document.body.textContent.includes('{steps[2]}')", "the third checkpoint",
                      timeout=120)
        assert browser.evaluate("window.notReloaded") is True, "the series page was reloaded"
        assert browser.evaluate("document.querySelectorAll('#live svg.chart').length") == 3
        assert browser.console() == [], browser.console()
        check_page(browser, runs, "console-runs", keep=True)

        # The list: alice's jobs, newest first, never bob's; bob's job is 404 by URL.
        check_page(browser, console.url + "/", "console-jobs", keep=True)
        listed = browser.evaluate("[...document.querySelectorAll('table.jobs tbody tr small')]"
                                  ".map(e => e.textContent)")
        assert listed == [steps[2], steps[1], steps[0], job], listed
        assert secret not in browser.text()
        browser.open(f"{console.url}/jobs/{secret}", 1280)
        assert browser.status() == 404
        assert "Not found" in browser.text("h1")
        assert secret not in browser.text()
        assert console.get(f"/jobs/{secret}", ALICE)[0] == 404
        assert console.get(f"/jobs/{secret}", BOB)[0] == 200
        check_page(browser, f"{console.url}/compare?a={steps[0]}&b={job}", "console-compare")
        check_login_outlives_a_crash(console, browser, job)
