#!/usr/bin/python3
"""--log-format json on both binaries: every line either process writes, on stdout and on stderr,
is a JSON object, and the events carry numeric durations (docs/operations.md: Logs).

Real processes on 127.0.0.1, each stream in a file of its own:
  1. emar-coordinator --log-format json with an unknown flag: Abseil's flag error is JSON too;
  2. a worker whose coordinator is not there (gRPC's own log turned up with GRPC_VERBOSITY=debug):
     /readyz says it never answered (no made-up duration), lease_failed is logged, SIGTERM drains;
  3. a coordinator takes a job with no worker, stops, and starts again on its data dir: it logs
     jobs_resumed; a worker scores the job; the worker is SIGTERMed (drain) and so is the
     coordinator; every line of the four streams parses and the lifecycle events are checked;
  4. with --log-format text nothing on either stream is JSON.

  /usr/bin/python3 tests/metrics/json_logs_test.py BIN_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testlib"))
from procs import free_port, read_port_file  # noqa: E402  (tests/testlib/)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JOB = os.path.join(REPO, "examples", "restaurant-sentiment", "job.yaml")


def wait_for(predicate, what, timeout=60):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last})")


class Proc:
    """A process whose stdout and stderr go to files NAME.out and NAME.err."""

    def __init__(self, tmp, name, argv, env=None):
        self.name = name
        self.out_path = os.path.join(tmp, name + ".out")
        self.err_path = os.path.join(tmp, name + ".err")
        self.proc = subprocess.Popen(argv, stdout=open(self.out_path, "w"),
                                     stderr=open(self.err_path, "w"), env=env)

    def lines(self):
        return {stream: open(path).read().splitlines()
                for stream, path in (("stdout", self.out_path), ("stderr", self.err_path))}

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=60)
        assert rc == 0, f"{self.name} exited {rc}: {self.lines()}"

    def events(self):
        """Every line of both streams as JSON (asserting each parses), in order per stream."""
        events = []
        for stream, lines in self.lines().items():
            for i, line in enumerate(lines):
                try:
                    event = json.loads(line)
                except ValueError:
                    raise AssertionError(f"{self.name} {stream} line {i + 1} is not JSON: {line!r}")
                assert isinstance(event, dict), (self.name, stream, line)
                for key in ("ts", "level", "event"):
                    assert key in event, (self.name, stream, line)
                event["_stream"] = stream
                events.append(event)
        return events


def of(events, kind):
    return [e for e in events if e["event"] == kind]


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


def check_flag_error(bin_dir, tmp):
    p = subprocess.run([os.path.join(bin_dir, "emar-coordinator"), "--log-format", "json",
                        "--data-dir", os.path.join(tmp, "unused"), "--no-such-flag=1"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p
    lines = (p.stdout + p.stderr).splitlines()
    assert lines, p
    events = [json.loads(line) for line in lines]  # raises on a plain line
    assert any("no_such_flag" in e.get("message", "") and e["level"] == "error"
               for e in events), events
    print("ok: a flag error under --log-format json is JSON:", events[0]["event"])


def check_unreachable_worker(bin_dir, tmp):
    env = dict(os.environ, GRPC_VERBOSITY="debug")
    w = Proc(tmp, "lonely-worker", [os.path.join(bin_dir, "emar-worker"), "--log-format=json",
                                    "--coordinator", f"127.0.0.1:{free_port()}",
                                    "--health-listen", "127.0.0.1:0", "--lease-wait-seconds", "1"],
             env=env)
    health = wait_for(lambda: [e for e in Proc.events(w) if e["event"] == "health_listening"],
                      "the worker announces its health port")[0]
    wait_for(lambda: of(w.events(), "lease_failed"), "lease_failed logged")
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{health['port']}/readyz", timeout=5)
        raise AssertionError("a worker that never reached its coordinator is ready")
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        assert e.code == 503 and body == "the coordinator has not answered for ever\n", body
    w.stop()
    events = w.events()
    failed = of(events, "lease_failed")[0]
    assert is_number(failed["backoff_ms"]) and failed["code"] == 14, failed  # UNAVAILABLE
    assert of(events, "grpc_log"), "GRPC_VERBOSITY=debug should have made gRPC log something"
    stopped = of(events, "worker_stopped")
    assert stopped and stopped[0]["_stream"] == "stdout" and is_number(stopped[0]["duration_ms"])
    print(f"ok: unreachable worker: /readyz 'never answered', {len(of(events, 'grpc_log'))} gRPC "
          f"log lines as JSON, {len(events)} lines in all")


def start_coordinator(bin_dir, tmp, name, data, fmt="json"):
    port_file = os.path.join(tmp, name + ".port")
    c = Proc(tmp, name, [os.path.join(bin_dir, "emar-coordinator"), "--listen", "127.0.0.1:0",
                         "--data-dir", data, "--port-file", port_file, f"--log-format={fmt}"])
    try:
        return c, read_port_file(port_file, c.proc, timeout=60)
    except RuntimeError as e:
        raise AssertionError(f"{name}: {e}: {c.lines()}")


def check_coordinator_events(first, second, job_id):
    created = of(first, "job_created")
    assert len(created) == 1 and created[0]["job"] == job_id, created
    assert is_number(created[0]["duration_ms"]), created  # planning time
    listening = of(first, "listening")
    assert listening and listening[0]["_stream"] == "stdout", listening
    resumed = of(second, "jobs_resumed")
    assert len(resumed) == 1 and resumed[0]["jobs"] == 1, resumed
    assert is_number(resumed[0]["duration_ms"]), resumed
    started = of(second, "job_started")
    assert len(started) == 1 and is_number(started[0]["queued_ms"]), started
    finished = of(second, "job_finished")
    assert len(finished) == 1 and finished[0]["state"] == "JOB_STATE_SUCCEEDED", finished
    assert is_number(finished[0]["duration_ms"]) and is_number(finished[0]["queued_ms"]), finished
    assert finished[0]["duration_ms"] >= finished[0]["queued_ms"], finished
    built = of(second, "report_built")
    assert len(built) == 1 and is_number(built[0]["duration_ms"]), built
    completed = of(second, "shard_completed")
    assert completed and all(is_number(e["store_ms"]) for e in completed), completed
    for events in (first, second):
        assert of(events, "draining") and is_number(of(events, "stopped")[0]["duration_ms"])
    print(f"ok: coordinator: job planned in {created[0]['duration_ms']} ms, resumed "
          f"{resumed[0]['jobs']} job in {resumed[0]['duration_ms']} ms, queued "
          f"{finished[0]['queued_ms']} ms, finished in {finished[0]['duration_ms']} ms")


def check_worker_events(events, shards):
    leased, scored = of(events, "shard_leased"), of(events, "shard_scored")
    completed = of(events, "shard_completed")
    assert len(leased) == len(scored) == len(completed) == shards, (leased, scored, completed)
    for e in scored:
        assert all(is_number(e[k]) for k in ("fetch_ms", "score_ms", "duration_ms")), e
    for e in completed:
        assert e["outcome"] == "scored" and e["duplicate"] == "false", e
        assert is_number(e["upload_ms"]) and is_number(e["duration_ms"]), e
    assert of(events, "draining") and is_number(of(events, "worker_stopped")[0]["duration_ms"])
    print(f"ok: worker: {shards} shards leased, scored and completed, each with durations; drained")


def check_text_mode(bin_dir, tmp):
    c, _ = start_coordinator(bin_dir, tmp, "text-coordinator", os.path.join(tmp, "text-data"),
                             fmt="text")
    c.stop()
    lines = c.lines()
    assert any(line.startswith("listening on ") for line in lines["stdout"]), lines
    for stream, ls in lines.items():
        for line in ls:
            assert not line.lstrip().startswith("{"), (stream, line)
    print("ok: --log-format text: no JSON on either stream")


def main():
    bin_dir = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="emar-json-logs-")
    procs = []
    try:
        check_flag_error(bin_dir, tmp)
        check_unreachable_worker(bin_dir, tmp)
        data = os.path.join(tmp, "data")
        c1, port = start_coordinator(bin_dir, tmp, "coordinator-1", data)
        procs.append(c1)
        out = subprocess.run([os.path.join(bin_dir, "emarctl"), "submit", JOB, "--server",
                              f"127.0.0.1:{port}"], check=True, capture_output=True, text=True,
                             timeout=120).stdout
        job_id = out[out.index("job-"):].split()[0]
        c1.stop()
        c2, port = start_coordinator(bin_dir, tmp, "coordinator-2", data)
        procs.append(c2)
        w = Proc(tmp, "worker", [os.path.join(bin_dir, "emar-worker"), "--log-format", "json",
                                 "--coordinator", f"127.0.0.1:{port}", "--threads", "2"])
        procs.append(w)
        wait_for(lambda: of(c2.events(), "job_finished"), "the job finishes", timeout=120)
        w.stop()
        c2.stop()
        first, second, worker = c1.events(), c2.events(), w.events()
        shards = len(of(second, "shard_completed"))
        check_coordinator_events(first, second, job_id)
        check_worker_events(worker, shards)
        print(f"ok: {sum(len(x) for x in (first, second, worker))} JSON lines parsed")
        check_text_mode(bin_dir, tmp)
        print("PASS")
    except Exception:
        for name in sorted(os.listdir(tmp)):
            if name.endswith((".out", ".err")):
                print(f"--- {name} ---\n" + open(os.path.join(tmp, name)).read()[-3000:],
                      file=sys.stderr)
        raise
    finally:
        for p in procs:
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
