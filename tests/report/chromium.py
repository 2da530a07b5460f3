"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: no
port, no network), for the report tests: load a local page, collect everything it logs (console
messages, exceptions, blocked loads), evaluate expressions in it, take a full-page screenshot.

Each Chromium gets its own temporary profile and process group, runs without the sandbox (CI
runs as root) and is closed, then its group killed, when the `with` block ends, also when a call
passed its deadline.
"""
import base64
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

CHROMIUM = shutil.which("chromium") or "chromium is not installed: run scripts/install-deps.sh"


class Chromium:
    def __init__(self, timeout=60):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="emar-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def pipes_on_3_and_4():  # in the child: Chromium reads fd 3 and writes fd 4
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--disable-sync", "--hide-scrollbars", "--mute-audio",
             # no traffic of its own (updates, metrics, safe browsing): the tests stay offline
             "--disable-background-networking", "--disable-component-update",
             "--disable-domain-reliability", "--disable-client-side-phishing-detection",
             "--no-pings",
             f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            pass_fds=(3, 4), preexec_fn=pipes_on_3_and_4, start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []
        try:
            targets = self.call("Target.getTargets")["targetInfos"]
            page = next(t for t in targets if t["type"] == "page")
            self.session = self.call("Target.attachToTarget",
                                     {"targetId": page["targetId"], "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Page"):
                self.call(f"{domain}.enable", session=self.session)
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Asks Chromium to quit, then kills what is left of its process group."""
        if self.process.poll() is None:
            self.timeout = min(self.timeout, 5)
            try:
                self.call("Browser.close")
                self.process.wait(timeout=5)
            except (OSError, RuntimeError, TimeoutError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own group: start_new_session
        except ProcessLookupError:
            pass
        self.process.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        for _ in range(50):  # the killed children may still be writing to the profile
            shutil.rmtree(self.profile, ignore_errors=True)
            if not os.path.exists(self.profile):
                break
            time.sleep(0.1)

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def call(self, method, params=None, session=None):
        """Sends one command and returns its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        reply = self._wait(lambda m: m.get("id") == self._next_id, f"the reply to {method}")
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def _wait(self, done, what):
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if done(message):
                    return message
                self.events.append(message)
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_chrome], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError(f"chromium: no {what} within {self.timeout} s")
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                raise RuntimeError(f"chromium exited while waiting for {what}:\n{self.stderr()}")
            self._buffer += chunk

    def open(self, url, width, mobile=False, dark=False):
        """Loads `url` in a window `width` pixels wide and waits for its load event. `mobile`
        emulates a phone (the page's viewport meta tag decides its layout width, as on one);
        `dark` a system in dark mode (prefers-color-scheme: dark)."""
        self._mobile = mobile
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": mobile},
                  self.session)
        self.call("Emulation.setEmulatedMedia",
                  {"features": [{"name": "prefers-color-scheme",
                                 "value": "dark" if dark else "light"}]}, self.session)
        self.events.clear()
        self.call("Page.navigate", {"url": url}, self.session)
        if not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._wait(lambda m: m.get("method") == "Page.loadEventFired",
                                          "load event"))

    def console(self):
        """Every console message, uncaught exception and browser log entry (a blocked load, a
        Content-Security-Policy violation) of the page so far, as text."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled":
                args = " ".join(str(a.get("value", a.get("description", ""))) for a in
                                params.get("args", []))
                out.append(f"console.{params.get('type')}: {args}")
            elif method == "Runtime.exceptionThrown":
                out.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif method == "Log.entryAdded":
                entry = params["entry"]
                out.append(f"{entry['level']} ({entry['source']}): {entry['text']}")
        return out

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (run by DevTools, not by the page:
        the page itself may run no scripts)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                           self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, width):
        """A PNG of the whole page, `width` pixels wide."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": getattr(self, "_mobile", False)}, self.session)
        data = self.call("Page.captureScreenshot", {"format": "png"}, self.session)["data"]
        return base64.b64decode(data)
