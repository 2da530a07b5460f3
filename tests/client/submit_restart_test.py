#!/usr/bin/python3
"""`emarctl submit` (no --wait) survives a coordinator SIGKILLed while an upload is in flight.

Real processes on 127.0.0.1: a coordinator; `emarctl submit` of a job with about 100 MB of
inputs; as soon as a partial upload with bytes in it appears in the coordinator's DATA_DIR/tmp/
(bytes in flight), the coordinator is SIGKILLed and started again on the same data dir and port.
submit must exit 0 printing one job id (having said it retried, under the request id it showed);
exactly one job exists; a worker scores it and its report equals `emarctl run`'s (but job_id).
A bad job (unknown metric) is refused at once, without a retry.

  /usr/bin/python3 tests/client/submit_restart_test.py BIN_DIR
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testlib"))
from procs import kill_all, read_port_file  # noqa: E402  (tests/testlib/)

ROWS = 100_000
FILLER = "x" * 400  # makes each line ~450 bytes: ~45 MB per file


def write_job(d, metric="accuracy"):
    rng = random.Random(7)
    labels = ["positive", "negative", "neutral"]
    refs = [rng.choice(labels) for _ in range(ROWS)]
    with open(os.path.join(d, "target.jsonl"), "w") as f:
        for i, r in enumerate(refs):
            f.write(json.dumps({"id": f"r{i:06d}", "reference": r, "text": FILLER}) + "\n")
    for name, accuracy in (("base", 0.6), ("cand", 0.7)):
        with open(os.path.join(d, name + ".target.jsonl"), "w") as f:
            for i, r in enumerate(refs):
                p = r if rng.random() < accuracy else rng.choice(labels)
                f.write(json.dumps({"id": f"r{i:06d}", "prediction": p, "pad": FILLER}) + "\n")
    with open(os.path.join(d, "bench.jsonl"), "w") as f, \
            open(os.path.join(d, "base.bench.jsonl"), "w") as b, \
            open(os.path.join(d, "cand.bench.jsonl"), "w") as c:
        for i in range(200):
            f.write(json.dumps({"id": f"q{i}", "references": [f"a{i}"]}) + "\n")
            b.write(json.dumps({"id": f"q{i}", "prediction": f"a{i}" if i % 3 else "no"}) + "\n")
            c.write(json.dumps({"id": f"q{i}", "prediction": f"a{i}" if i % 4 else "no"}) + "\n")
    path = os.path.join(d, "job.yaml")
    with open(path, "w") as f:
        f.write(f"""name: submit-restart
target: {{name: t, references: target.jsonl, metric: {metric}}}
benchmark: {{name: b, references: bench.jsonl, metric: exact_match}}
base: {{name: base, target_outputs: base.target.jsonl, benchmark_outputs: base.bench.jsonl}}
candidates:
  - {{name: cand, target_outputs: cand.target.jsonl, benchmark_outputs: cand.bench.jsonl}}
formula: relative_gain
bootstrap: {{resamples: 200, confidence: 0.95, seed: 1}}
""")
    return path


def write_bad_job(tmp):
    """A job the coordinator refuses (INVALID_ARGUMENT: line 2 of its references is not JSON)."""
    d = os.path.join(tmp, "bad")
    os.makedirs(d)
    with open(os.path.join(d, "bad.jsonl"), "w") as f:
        f.write('{"id": "r0", "reference": "positive"}\n{"id": "r1", "reference": \n')
    with open(os.path.join(d, "out.jsonl"), "w") as f:
        f.write('{"id": "r0", "prediction": "positive"}\n{"id": "r1", "prediction": "x"}\n')
    path = os.path.join(d, "job.yaml")
    with open(path, "w") as f:
        f.write("""name: bad
target: {name: t, references: bad.jsonl, metric: accuracy}
benchmark: {name: b, references: bad.jsonl, metric: accuracy}
base: {name: base, target_outputs: out.jsonl, benchmark_outputs: out.jsonl}
candidates:
  - {name: cand, target_outputs: out.jsonl, benchmark_outputs: out.jsonl}
""")
    return path


def start_coordinator(bin_dir, data, listen, port_file, log):
    if os.path.exists(port_file):
        os.remove(port_file)
    p = subprocess.Popen([os.path.join(bin_dir, "emar-coordinator"), "--listen", listen,
                          "--data-dir", data, "--port-file", port_file, "--log-format", "off"],
                         stdout=log, stderr=log)
    return p, read_port_file(port_file, p, timeout=60)


def upload_in_flight(data):
    """A partial upload with bytes in it (DATA_DIR/tmp/SHA.PID.N), or None."""
    try:
        for e in os.scandir(os.path.join(data, "tmp")):
            size = e.stat().st_size
            if size > 0:
                return e.name, size
    except FileNotFoundError:
        pass
    return None


def emarctl(bin_dir, *args, timeout=300):
    return subprocess.run([os.path.join(bin_dir, "emarctl"), *args], capture_output=True,
                          text=True, timeout=timeout)


def without_job_id(report_json):
    lines = [l for l in report_json.splitlines() if not l.strip().startswith('"job_id": ')]
    assert len(lines) == len(report_json.splitlines()) - 1, "no single job_id line"
    return "\n".join(lines)


def main():
    bin_dir = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="emar-submit-restart-")
    procs = []
    log = open(os.path.join(tmp, "service.log"), "w")
    try:
        job = write_job(tmp)
        data, port_file = os.path.join(tmp, "data"), os.path.join(tmp, "port")
        c1, port = start_coordinator(bin_dir, data, "127.0.0.1:0", port_file, log)
        procs.append(c1)
        server = f"127.0.0.1:{port}"
        submit = subprocess.Popen([os.path.join(bin_dir, "emarctl"), "submit", job, "--server",
                                   server, "--progress", "plain", "--progress-every", "0.2"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(submit)
        seen = None
        deadline = time.time() + 120
        while seen is None and time.time() < deadline and submit.poll() is None:
            seen = upload_in_flight(data)
        assert seen, f"never saw an upload in flight (submit exited {submit.poll()})"
        c1.send_signal(signal.SIGKILL)
        c1.wait()
        killed_at = time.monotonic()
        print(f"ok: SIGKILLed the coordinator with {seen[1]} bytes of {seen[0][:12]}… in flight")
        c2, _ = start_coordinator(bin_dir, data, server, port_file, log)
        procs.append(c2)
        out, err = submit.communicate(timeout=300)
        recovered = time.monotonic() - killed_at  # printed, not asserted (bench/ measures speed)
        assert submit.returncode == 0, f"submit exited {submit.returncode}: {err}"
        job_id = out.strip()
        assert job_id.startswith("job-") and len(out.split()) == 1, out
        assert "emarctl: [retrying] " in err and "emarctl: [submit] request id req-" in err, err
        retries = [l for l in err.splitlines() if "trying again" in l]
        print(f"ok: submit exited 0 with {job_id}, {recovered:.1f} s after the kill, after "
              f"{len(retries)} retr(y/ies); the first: {retries[0]}")

        listed = emarctl(bin_dir, "list", "--server", server, "--format", "json")
        assert listed.returncode == 0, listed.stderr
        jobs = json.loads(listed.stdout)
        jobs = jobs.get("jobs", jobs) if isinstance(jobs, dict) else jobs
        assert [j["job_id"] for j in jobs] == [job_id], listed.stdout
        print("ok: exactly one job exists")

        worker = subprocess.Popen([os.path.join(bin_dir, "emar-worker"), "--coordinator", server,
                                   "--threads", "2", "--log-format", "off"], stdout=log, stderr=log)
        procs.append(worker)
        watched = emarctl(bin_dir, "watch", job_id, "--server", server, "--progress", "off")
        assert watched.returncode in (0, 3), watched.stderr
        report = emarctl(bin_dir, "report", job_id, "--server", server, "--format", "json")
        embedded = emarctl(bin_dir, "run", job, "--format", "json", "--progress", "off")
        assert report.returncode in (0, 3) and embedded.returncode == report.returncode, \
            (report.returncode, embedded.returncode, report.stderr, embedded.stderr)
        assert without_job_id(report.stdout) == without_job_id(embedded.stdout), \
            "the report differs from emarctl run's"
        print("ok: its report equals emarctl run's (but job_id)")

        refused = emarctl(bin_dir, "submit", write_bad_job(tmp), "--server", server,
                          "--progress", "plain")
        assert refused.returncode == 1, (refused.returncode, refused.stderr)
        assert "trying again" not in refused.stderr and "bad.jsonl" in refused.stderr, \
            refused.stderr
        print("ok: a bad job is refused at once, not retried:", refused.stderr.splitlines()[-1])
        print("PASS")
    except Exception:
        log.flush()
        print("--- service log ---\n" + open(os.path.join(tmp, "service.log")).read()[-4000:],
              file=sys.stderr)
        raise
    finally:
        kill_all(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
