#!/usr/bin/python3
"""A fine-tuning run, simulated, evaluated checkpoint by checkpoint with the EMAR service.

Five checkpoints (steps 500 ... 2500) "finish" one after another. Their outputs are generated so
that target accuracy rises while benchmark accuracy slowly falls (the model forgets). After each
checkpoint the loop asks the service "did it adapt, did it forget?" with a job labelled
run=<run> step=<step> and a benchmark-regression gate, prints the answer, and stops at the first
checkpoint whose gate fails. Then it prints the run's series (GetSeries).

The base model's outputs are the same bytes in every job, so after the first checkpoint the
service reuses their scores (the score cache): each later job scores only the new checkpoint.

    # against a running coordinator (and its workers):
    PYTHONPATH=build/python /usr/bin/python3 examples/checkpoint-loop/checkpoint_loop.py --server HOST:PORT
    # or let it start a local coordinator and worker from build/bin on a free port:
    PYTHONPATH=build/python /usr/bin/python3 examples/checkpoint-loop/checkpoint_loop.py

Exit status: 0 when the loop ran (whether or not a checkpoint failed its gate), 1 on an error.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import emar_client

REPO = Path(__file__).resolve().parents[2]
STEPS = [500, 1000, 1500, 2000, 2500]
N_TARGET, N_BENCHMARK = 600, 400
LABELS = ["positive", "negative", "neutral"]
# Target accuracy of the base model and of each checkpoint (it adapts) ...
BASE_TARGET_ACC = 0.60
TARGET_ACC = [0.68, 0.75, 0.80, 0.84, 0.86]
# ... and the benchmark items each checkpoint has forgotten of the base model's right answers.
BASE_BENCHMARK_ACC = 0.80
FORGOTTEN = [0, 2, 6, 36, 60]
MAX_BENCHMARK_REGRESSION = 0.05  # gate: lower CI bound of dB >= -0.05


def write_jsonl(path: Path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def write_data(work: Path):
    """References, the base model's outputs and every checkpoint's outputs (deterministic)."""
    rng = random.Random(2026)
    target = [(f"t{i}", rng.choice(LABELS)) for i in range(N_TARGET)]
    questions = [(f"q{i}", f"answer {i}") for i in range(N_BENCHMARK)]
    write_jsonl(work / "target.jsonl", ({"id": i, "reference": y} for i, y in target))
    write_jsonl(work / "benchmark.jsonl", ({"id": i, "references": [a]} for i, a in questions))
    order = list(range(N_TARGET))
    rng.shuffle(order)  # which target items become right first

    def wrong(label):
        return LABELS[(LABELS.index(label) + 1) % len(LABELS)]

    def target_outputs(acc):
        right = set(order[:round(acc * N_TARGET)])
        return ({"id": i, "prediction": y if k in right else wrong(y)}
                for k, (i, y) in enumerate(target))

    base_right = set(range(round(BASE_BENCHMARK_ACC * N_BENCHMARK)))

    def benchmark_outputs(forgotten):
        right = base_right - set(range(forgotten))  # forgets some of what the base knew
        return ({"id": i, "prediction": a if k in right else "I do not know"}
                for k, (i, a) in enumerate(questions))

    write_jsonl(work / "base.target.jsonl", target_outputs(BASE_TARGET_ACC))
    write_jsonl(work / "base.benchmark.jsonl", benchmark_outputs(0))
    for step, acc, forgotten in zip(STEPS, TARGET_ACC, FORGOTTEN):
        write_jsonl(work / f"step-{step}.target.jsonl", target_outputs(acc))
        write_jsonl(work / f"step-{step}.benchmark.jsonl", benchmark_outputs(forgotten))


def job_for(step: int) -> dict:
    """The job of one checkpoint, in the job file's shape (paths relative to the work dir)."""
    return {
        "name": f"checkpoint-{step}",
        "target": {"name": "support-tickets", "references": "target.jsonl", "metric": "accuracy"},
        "benchmark": {"name": "general-qa", "references": "benchmark.jsonl",
                      "metric": "exact_match"},
        "base": {"name": "base", "target_outputs": "base.target.jsonl",
                 "benchmark_outputs": "base.benchmark.jsonl"},
        "candidates": [{"name": "finetuned", "target_outputs": f"step-{step}.target.jsonl",
                        "benchmark_outputs": f"step-{step}.benchmark.jsonl"}],
        "bootstrap": {"resamples": 1000},
        "gates": {"max_benchmark_regression": MAX_BENCHMARK_REGRESSION},
    }


def fmt(estimate: emar_client.Estimate, signed=False) -> str:
    if estimate.value is None:
        return f"undefined ({estimate.undefined_reason})"
    v = f"{estimate.value:+.4f}" if signed else f"{estimate.value:.4f}"
    if estimate.ci_low is not None and estimate.ci_high is not None:
        v += f" [{estimate.ci_low:+.4f}, {estimate.ci_high:+.4f}]"
    return v


class LocalService:
    """emar-coordinator and one emar-worker on 127.0.0.1, a free port, a temporary data dir."""

    def __init__(self, bin_dir: Path, work: Path):
        port_file = work / "coordinator.port"
        self.log = open(work / "service.log", "wb")
        self.procs = [subprocess.Popen(
            [str(bin_dir / "emar-coordinator"), "--listen", "127.0.0.1:0", "--port-file",
             str(port_file), "--data-dir", str(work / "coordinator-data"), "--log-format", "off"],
            stdout=self.log, stderr=subprocess.STDOUT)]
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.procs[0].poll() is not None or time.monotonic() > deadline:
                self.close()
                raise SystemExit(f"checkpoint-loop: emar-coordinator did not start; see "
                                 f"{work / 'service.log'}")
            time.sleep(0.05)
        self.address = f"127.0.0.1:{port_file.read_text().strip()}"
        self.procs.append(subprocess.Popen(
            [str(bin_dir / "emar-worker"), "--coordinator", self.address, "--threads", "2"],
            stdout=self.log, stderr=subprocess.STDOUT))

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.log.close()


def run(client: emar_client.Client, work: Path, run_id: str) -> int:
    print(f"run {run_id}: {len(STEPS)} checkpoints, gate max_benchmark_regression "
          f"{MAX_BENCHMARK_REGRESSION}")
    for step in STEPS:
        # In a real loop: the trainer saved checkpoint `step` and the outputs were generated.
        report = client.evaluate(job_for(step), labels={"run": run_id, "step": step},
                                 base_dir=str(work), timeout=600)
        progress = report.job.progress  # the job evaluate() watched: no second call
        c = report.candidates[0]
        print(f"step {step:>5}: EMAR {fmt(c.emar)}  dT {fmt(c.target.delta, True)}  "
              f"dB {fmt(c.benchmark.delta, True)}  "
              f"gates {'PASS' if c.gates_passed else 'FAIL'}  "
              f"(shards reused {progress.shards_reused}/{progress.shards_total}, "
              f"examples scored {progress.examples_scored})")
        if not report.gates_passed:
            failed = ", ".join(g for _, g in report.failed_gates())
            print(f"stopping: checkpoint {step} failed its gate ({failed}): the model is "
                  f"forgetting the benchmark")
            break
    series = client.series({"run": run_id}, by="step")
    print(f"\nseries of run {run_id} by step:")
    print(f"{'step':>6}  {'EMAR':>8}  {'dT':>8}  {'dB':>8}  gates  job")
    for point in series["points"]:
        c = point["candidates"][0]
        print(f"{point['value']:>6}  {c['emar']['value']:>8.4f}  "
              f"{c['target_delta']['value']:>+8.4f}  {c['benchmark_delta']['value']:>+8.4f}  "
              f"{'PASS ' if c['gates_passed'] else 'FAIL '}  {point['job_id']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", help="coordinator HOST:PORT (default: start a local one)")
    parser.add_argument("--bin-dir", default=os.environ.get("EMAR_BIN_DIR", str(REPO / "build/bin")),
                        help="where emar-coordinator and emar-worker are (local mode)")
    parser.add_argument("--work-dir", help="where to write the generated outputs (default: a "
                        "temporary directory)")
    parser.add_argument("--run", default=f"ckpt-demo-{int(time.time())}", help="the run label")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="emar-checkpoint-loop-") as tmp:
        work = Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        write_data(work)
        service = None if args.server else LocalService(Path(args.bin_dir), work)
        try:
            with emar_client.Client(args.server or service.address) as client:
                return run(client, work, args.run)
        except emar_client.EmarError as e:
            print(f"checkpoint-loop: {e}", file=sys.stderr)
            return 1
        finally:
            if service:
                service.close()


if __name__ == "__main__":
    sys.exit(main())
