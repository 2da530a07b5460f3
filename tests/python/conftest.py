"""Real emar-coordinator and emar-worker processes for the Python client's tests.

EMAR_BIN_DIR names the directory of the binaries (ctest passes build/bin); PYTHONPATH must reach
build/python (emar_client and the generated emar.v1 stubs).
"""
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "restaurant-sentiment" / "job.yaml"


def bin_dir() -> Path:
    d = os.environ.get("EMAR_BIN_DIR")
    if not d:
        d = str(REPO / "build" / "bin")
    return Path(d)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Service:
    """One coordinator (restartable on its port and data dir) and its workers."""

    def __init__(self, tmp: Path, tokens=None, worker_token=None):
        self.tmp = tmp
        tmp.mkdir(parents=True, exist_ok=True)
        self.data_dir = tmp / "data"
        self.port_file = tmp / "port"
        self.tokens_file = None
        if tokens:
            self.tokens_file = tmp / "tokens"
            self.tokens_file.write_text("".join(
                f"{role} {principal} {sha256_hex(token)}\n"
                for role, principal, token in tokens))
        self.worker_token = worker_token
        self.port = 0
        self.coordinator = None
        self.workers = []
        self.logs = []
        self.starts = 0
        self.extra = ()
        self.clients = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _log(self, name):
        path = self.tmp / f"{name}.{len(self.logs)}.log"
        self.logs.append(path)
        return open(path, "wb")

    def start_coordinator(self, extra=None):
        """On port 0 the first time, then on the same port and flags (a restart)."""
        if extra is not None:
            self.extra = tuple(extra)
        if self.port_file.exists():
            self.port_file.unlink()
        cmd = [str(bin_dir() / "emar-coordinator"), "--listen", f"127.0.0.1:{self.port}",
               "--data-dir", str(self.data_dir), "--port-file", str(self.port_file)]
        if self.tokens_file:
            cmd += ["--tokens", str(self.tokens_file)]
        cmd += list(self.extra)
        with self._log("coordinator") as log:
            self.coordinator = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.coordinator.poll() is not None:
                raise AssertionError(f"emar-coordinator exited with {self.coordinator.returncode}:"
                                     f" {self.logs[-1].read_text()}")
            if self.port_file.exists() and self.port_file.read_text().strip():
                port = int(self.port_file.read_text())
                assert self.port in (0, port), (self.port, port)
                self.port = port
                return
            time.sleep(0.05)
        raise AssertionError("emar-coordinator did not write its port file within 30 s")

    def start_worker(self, extra=()):
        env = dict(os.environ)
        env.pop("EMAR_TOKEN", None)
        if self.worker_token:
            env["EMAR_TOKEN"] = self.worker_token
        with self._log("worker") as log:
            worker = subprocess.Popen(
                [str(bin_dir() / "emar-worker"), "--coordinator", self.address,
                 "--lease-wait-seconds", "1", *extra], stdout=log, stderr=subprocess.STDOUT,
                env=env)
        self.workers.append(worker)
        return worker

    def client(self, **kwargs):
        """A Client of this coordinator, closed before the coordinator stops."""
        from emar_client import Client
        return self.track(Client(self.address, **kwargs))

    def track(self, client):
        """Closes `client` at the end: an open connection holds a draining coordinator for its
        whole grace period."""
        self.clients.append(client)
        return client

    def kill_coordinator(self):
        self.coordinator.send_signal(signal.SIGKILL)
        self.coordinator.wait()

    def stop(self):
        for c in self.clients:
            c.close()
        for p in self.workers + [self.coordinator]:
            if p is None or p.poll() is not None:
                continue
            try:
                os.kill(p.pid, signal.SIGCONT)  # a worker a test left stopped
            except ProcessLookupError:
                pass
            p.send_signal(signal.SIGTERM)
        for p in self.workers + [self.coordinator]:
            if p is None:
                continue
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def emarctl(self, *args, token=None):
        """emarctl against this coordinator: (exit code, stdout, stderr)."""
        env = dict(os.environ)
        env.pop("EMAR_TOKEN", None)
        env.pop("EMAR_SERVER", None)
        if token:
            env["EMAR_TOKEN"] = token
        r = subprocess.run([str(bin_dir() / "emarctl"), *args, "--server", self.address],
                           capture_output=True, text=True, env=env, timeout=120)
        return r.returncode, r.stdout, r.stderr


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """The caller's EMAR_SERVER / EMAR_TOKEN must not reach the clients under test."""
    monkeypatch.delenv("EMAR_SERVER", raising=False)
    monkeypatch.delenv("EMAR_TOKEN", raising=False)


@pytest.fixture
def make_service(tmp_path):
    """make_service(workers=1, tokens=None, worker_token=None, extra=(), worker_extra=()) -> a
    started Service; `extra` and `worker_extra` are more flags of the coordinator and workers."""
    services = []

    def make(workers=1, tokens=None, worker_token=None, extra=(), worker_extra=()):
        s = Service(tmp_path / f"svc{len(services)}", tokens, worker_token)
        services.append(s)
        s.start_coordinator(extra)
        for _ in range(workers):
            s.start_worker(worker_extra)
        return s

    yield make
    for s in services:
        s.stop()
    for s in services:
        for log in s.logs:  # shown by pytest for a failed test
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture
def service(make_service):
    """A coordinator with one worker, no tokens."""
    return make_service()


@pytest.fixture
def pki(tmp_path):
    """PEM files made by tests/pki/make-test-pki.sh (shared with tests/system/tls_test.cc):
    ca.crt, server.{crt,key} (SAN IP:127.0.0.1) and client.{crt,key}, both signed by ca, and
    other-ca.crt. Returns {name: path}."""
    d = tmp_path / "pki"
    script = Path(__file__).resolve().parents[1] / "pki" / "make-test-pki.sh"
    r = subprocess.run(["bash", str(script), str(d)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (script, r.stdout, r.stderr)
    return {name: str(d / name) for name in ("ca.crt", "other-ca.crt", "server.crt", "server.key",
                                             "client.crt", "client.key")}
