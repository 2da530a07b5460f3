#!/usr/bin/python3
"""emar-worker --health-listen: /healthz is live while the lease loop runs; /readyz is ready only
while the coordinator answers (Kubernetes probes, deploy/k8s); --metrics-listen: the worker's own
counters. Real processes on 127.0.0.1.

  /usr/bin/python3 tests/metrics/worker_health_test.py BIN_DIR
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testlib"))
from procs import http_get, kill_all, read_port_file  # noqa: E402


def wait_for(predicate, what, timeout=30):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last is True:
            print("ok:", what)
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last})")


def main():
    bin_dir = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="emar-health-")
    procs = []
    try:
        coordinator = subprocess.Popen(
            [os.path.join(bin_dir, "emar-coordinator"), "--listen", "127.0.0.1:0", "--data-dir",
             os.path.join(tmp, "data"), "--port-file", os.path.join(tmp, "port")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(coordinator)
        port_file = os.path.join(tmp, "port")
        port = read_port_file(port_file, coordinator)
        worker = subprocess.Popen(
            [os.path.join(bin_dir, "emar-worker"), "--coordinator", f"127.0.0.1:{port}",
             "--lease-wait-seconds", "1", "--health-listen", "127.0.0.1:0",
             "--metrics-listen", "127.0.0.1:0",  # the same address: one endpoint serves both
             "--ready-window-seconds", "3"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(worker)
        health_port = None
        for line in worker.stdout:
            if line.startswith("health on port "):
                health_port = int(line.split()[-1])
                break
        assert health_port, "the worker never printed its health port"
        assert http_get(health_port, "/healthz")[0] == 200

        def readyz():
            return http_get(health_port, "/readyz")
        wait_for(lambda: readyz()[0] == 200 or readyz(), "ready once the coordinator answered")
        coordinator.kill()  # the coordinator goes away: live, but no longer ready
        coordinator.wait()
        wait_for(lambda: readyz()[0] == 503 or readyz(),
                 "not ready after the coordinator stopped answering", timeout=30)
        status, body = http_get(health_port, "/readyz")
        assert "has not answered for" in body, body
        assert http_get(health_port, "/healthz")[0] == 200, \
            "a worker waiting for its coordinator is live"
        status, metrics = http_get(health_port, "/metrics")
        assert status == 200, status
        for name in ("emar_worker_shards_total{outcome=\"scored\"} 0", "emar_worker_busy 0",
                     "emar_worker_threads 1", "emar_worker_examples_scored_total 0"):
            assert name in metrics, (name, metrics)
        errors = [l for l in metrics.splitlines() if l.startswith("emar_worker_lease_errors_total ")]
        assert errors and int(errors[0].split()[1]) > 0, metrics  # the coordinator is gone
        print("ok: worker metrics")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        print("PASS")
    finally:
        kill_all(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
