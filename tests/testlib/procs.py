"""Helpers the Python tests that start real processes share: a free loopback port, the port a
process wrote to its --port-file, and a plain HTTP GET on 127.0.0.1.

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testlib"))
    from procs import free_port, http_get, kill_all, read_port_file
"""
import os
import socket
import time
import urllib.error
import urllib.request


def free_port():
    """A port on 127.0.0.1 that was free a moment ago (for programs that take no port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_port_file(path, proc, timeout=30):
    """The port `proc` wrote to `path` (its --port-file), once written. RuntimeError naming the
    program if it exits first or nothing is written within `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read().strip()
            if text:
                return int(text)
        if proc.poll() is not None:
            raise RuntimeError(
                f"{proc.args[0]} exited with {proc.returncode} before writing {path}")
        time.sleep(0.05)
    raise RuntimeError(f"no {path} after {timeout} s")


def kill_all(procs):
    """Kills and reaps every process of `procs` still running (a test's `finally`)."""
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()


def http_get(port, path, timeout=5):
    """(status, body) of GET http://127.0.0.1:PORT/PATH; an HTTP error status is returned, not
    raised."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
