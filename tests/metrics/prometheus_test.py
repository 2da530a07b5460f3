#!/usr/bin/python3
"""The real Prometheus server scrapes a live coordinator (docs/monitoring.md).

A job is submitted with no worker running: Prometheus must see queued shards rise (the
autoscaling signal). Then a worker starts: queued shards fall to zero, the job is counted as
succeeded and examples as scored. Everything binds 127.0.0.1; Prometheus gets a port the kernel
picked free a moment before (it cannot report one it chose itself).

  /usr/bin/python3 tests/metrics/prometheus_test.py BIN_DIR
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testlib"))
from procs import free_port, read_port_file  # noqa: E402  (tests/testlib/)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def query(prom_port, promql):
    url = f"http://127.0.0.1:{prom_port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=5) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{promql}: {body}")
    return [float(sample["value"][1]) for sample in body["data"]["result"]]


def wait_until(prom_port, promql, predicate, what, timeout=90):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = query(prom_port, promql)
            if last and predicate(last[0]):
                print(f"ok: {what}: {promql} = {last[0]}")
                return last[0]
        except OSError as e:  # Prometheus not up yet
            last = e
        time.sleep(0.5)
    raise AssertionError(f"{what}: {promql} never held within {timeout} s (last: {last})")


def check_worker_metrics(tmp):
    """The worker's own counters agree with the coordinator's."""
    log = open(os.path.join(tmp, "worker.log")).read()
    worker_port = int(log[log.index("metrics on port ") + len("metrics on port "):].split()[0])
    with urllib.request.urlopen(f"http://127.0.0.1:{worker_port}/metrics", timeout=5) as r:
        worker_metrics = r.read().decode()
    assert "emar_worker_examples_scored_total 7000" in worker_metrics, worker_metrics
    assert 'emar_worker_shards_total{outcome="scored"} 4' in worker_metrics, worker_metrics
    print("ok: the worker's /metrics counts the same 4 shards and 7000 examples")


def check_event_log(tmp, job_id):
    """--log-format json: one JSON object per lifecycle event, with job and shard ids."""
    # Every line is JSON (stdout and stderr share the file); the job's events name it.
    events = [e for e in map(json.loads, open(os.path.join(tmp, "coordinator.log"))) if "job" in e]
    kinds = [e["event"] for e in events]
    assert kinds.count("job_created") == 1, kinds
    assert kinds.count("shard_leased") == 4 and kinds.count("shard_completed") == 4, kinds
    finished = [e for e in events if e["event"] == "job_finished"]
    assert len(finished) == 1 and finished[0]["state"] == "JOB_STATE_SUCCEEDED", finished
    assert all(e["job"] == job_id and e["level"] == "info" and e["ts"].endswith("Z")
               for e in events), events
    assert sorted(int(e["shard"]) for e in events if e["event"] == "shard_completed") == [0, 1, 2, 3]
    print("ok: JSON lifecycle log:", ", ".join(sorted(set(kinds))))


def print_log_tails(tmp):
    for name in ("coordinator", "prometheus", "worker"):
        path = os.path.join(tmp, name + ".log")
        if os.path.exists(path):
            print(f"--- {name} log (tail) ---\n" + open(path).read()[-3000:], file=sys.stderr)


def main():
    bin_dir = sys.argv[1]
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        sys.exit("no prometheus binary: scripts/install-deps.sh installs Debian's 'prometheus'")
    tmp = tempfile.mkdtemp(prefix="emar-prom-")
    procs = []
    try:
        def start(argv, name):
            log = open(os.path.join(tmp, name + ".log"), "w")
            p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            procs.append(p)
            return p

        coordinator = start([os.path.join(bin_dir, "emar-coordinator"), "--listen", "127.0.0.1:0",
                             "--data-dir", os.path.join(tmp, "data"),
                             "--port-file", os.path.join(tmp, "port"),
                             "--metrics-listen", "127.0.0.1:0",
                             "--metrics-port-file", os.path.join(tmp, "mport"),
                             "--log-format", "json"], "coordinator")
        metrics_port = read_port_file(os.path.join(tmp, "mport"), coordinator)
        port = read_port_file(os.path.join(tmp, "port"), coordinator)
        server = f"127.0.0.1:{port}"

        prom_port = free_port()
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: emar
    static_configs:
      - targets: ['127.0.0.1:{metrics_port}']
""")
        start([prometheus, "--config.file", os.path.join(tmp, "prometheus.yml"),
               "--storage.tsdb.path", os.path.join(tmp, "tsdb"),
               "--web.listen-address", f"127.0.0.1:{prom_port}"], "prometheus")
        wait_until(prom_port, 'up{job="emar"}', lambda v: v == 1, "Prometheus scrapes the coordinator")
        for probe in ("/healthz", "/readyz"):  # the plain-HTTP probes beside /metrics
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}{probe}", timeout=5) as r:
                assert r.status == 200, (probe, r.status)

        emarctl = os.path.join(bin_dir, "emarctl")
        job = os.path.join(REPO, "examples", "restaurant-sentiment", "job.yaml")
        out = subprocess.run([emarctl, "submit", job, "--server", server], check=True,
                             capture_output=True, text=True, timeout=120).stdout
        job_id = out.split()[0] if out.strip().startswith("job-") else out[out.index("job-"):][:20]
        print("submitted", job_id)
        queued = wait_until(prom_port, 'emar_shards{state="queued"}', lambda v: v > 0,
                            "queued shards rise while no worker runs")
        wait_until(prom_port, 'emar_jobs{state="queued"}', lambda v: v == 1, "the job is queued")

        start([os.path.join(bin_dir, "emar-worker"), "--coordinator", server,
               "--metrics-listen", "127.0.0.1:0"], "worker")
        wait_until(prom_port, 'emar_jobs{state="succeeded"}', lambda v: v == 1,
                   "the job succeeds once a worker runs")
        wait_until(prom_port, 'emar_shards{state="queued"}', lambda v: v == 0, "no queued shards")
        wait_until(prom_port, "emar_examples_scored_total", lambda v: v > 0, "examples scored")
        wait_until(prom_port, "emar_workers", lambda v: v == 1, "one live worker")
        wait_until(prom_port, 'sum(emar_grpc_requests_total{method="/emar.v1.EvaluationService/CreateJob",code="OK"})',
                   lambda v: v == 1, "CreateJob counted")
        wait_until(prom_port, "emar_shard_duration_seconds_count", lambda v: v >= queued,
                   "every shard's duration observed")
        check_worker_metrics(tmp)
        check_event_log(tmp, job_id)
        print("PASS")
    except Exception:
        print_log_tails(tmp)
        raise
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
