"""emarctl's live progress line under a real pseudo-terminal (so emarctl's isatty(2) is true and
it redraws in place, as on a user's screen): `emarctl run` of a generated job of some 30 MiB,
whose inputs are read into the embedded store two files at a time. Checks:
  - the line is redrawn at most every 200 ms (counted: carriage returns against the run's wall
    time), and at least a few times;
  - the phases come in their order (reading, planning, queued/scoring, bootstrap, done) and the
    total read is the same in every line (known before the first byte);
  - nothing but the progress line and the report reaches the terminal.

Prints "redraws: N in S s" (the figure of the progress fix). Run by ctest as
progress_pty_test; EMAR_BIN_DIR picks the emarctl to measure.
"""
import json
import os
import pty
import random
import re
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = ["reading", "planning", "queued", "scoring", "bootstrap", "done"]


def write_job(d: Path, rows: int) -> Path:
    rng = random.Random(7)
    labels = ["billing", "shipping", "returns", "account"]
    pad = "x" * 60  # each line some 100 bytes, so the files are a few MiB each
    with open(d / "refs.jsonl", "w") as refs, open(d / "base.jsonl", "w") as base, \
            open(d / "cand.jsonl", "w") as cand, open(d / "brefs.jsonl", "w") as brefs, \
            open(d / "bbase.jsonl", "w") as bbase, open(d / "bcand.jsonl", "w") as bcand:
        for i in range(rows):
            gold = rng.choice(labels)
            refs.write(json.dumps({"id": i, "reference": gold, "text": pad}) + "\n")
            base.write(json.dumps({"id": i, "prediction": gold if rng.random() < 0.7 else "x",
                                   "note": pad}) + "\n")
            cand.write(json.dumps({"id": i, "prediction": gold if rng.random() < 0.8 else "x",
                                   "note": pad}) + "\n")
            brefs.write(json.dumps({"id": i, "reference": gold, "text": pad}) + "\n")
            right = rng.random() < 0.75
            bbase.write(json.dumps({"id": i, "prediction": gold if right else "y",
                                    "note": pad}) + "\n")
            bcand.write(json.dumps({"id": i, "prediction": gold if right else "z",
                                    "note": pad}) + "\n")
    job = {
        "name": "progress-pty",
        "target": {"name": "t", "references": "refs.jsonl", "metric": "accuracy"},
        "benchmark": {"name": "b", "references": "brefs.jsonl", "metric": "accuracy"},
        "base": {"name": "base", "target_outputs": "base.jsonl",
                 "benchmark_outputs": "bbase.jsonl"},
        "candidates": [{"name": "cand", "target_outputs": "cand.jsonl",
                        "benchmark_outputs": "bcand.jsonl"}],
        "bootstrap": {"resamples": 200},
    }
    path = d / "job.json"
    path.write_text(json.dumps(job))
    return path


def run_in_pty(argv):
    """Runs argv with stderr on a pseudo-terminal (stdout a pipe); returns (exit code, what the
    terminal received, stdout, seconds)."""
    master, slave = pty.openpty()
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env={k: v for k, v in os.environ.items() if k != "EMAR_SERVER"})
    os.close(slave)
    received = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not chunk:
                break
            received += chunk
        elif proc.poll() is not None:
            break
    out = proc.stdout.read()
    code = proc.wait(timeout=60)
    seconds = time.monotonic() - start
    os.close(master)
    return code, received.decode(errors="replace"), out.decode(errors="replace"), seconds


def main():
    emarctl = Path(os.environ.get("EMAR_BIN_DIR", "build/bin")) / "emarctl"
    with tempfile.TemporaryDirectory(prefix="emar-pty-") as tmp:
        job = write_job(Path(tmp), 50_000)
        code, tty, out, seconds = run_in_pty(
            [str(emarctl), "run", str(job), "--progress", "auto"])
    redraws = tty.count("\r")
    print(f"redraws: {redraws} in {seconds:.1f} s")
    assert code == 0, f"exit {code}\n{tty[-2000:]}"
    assert "EMAR" in out, out[:500]
    # pty output turns "\n" into "\r\n": take the progress line's versions between redraws.
    lines = [s for s in re.split(r"\r\n?|\n", tty) if s.strip()]
    phases = [m.group(1) for s in lines for m in [re.match(r"\s*\[(\w+)\]", s)] if m]
    assert phases, tty[-2000:]
    # A live line at all, and within a phase at most one redraw every 200 ms: a phase change is
    # drawn at once (a fast job may pass through all of them within a second), and one more for
    # the final state.
    changes = len(set(phases))
    assert 3 <= redraws <= seconds / 0.2 + changes + 1, \
        f"{redraws} redraws in {seconds:.1f} s over {changes} phases"
    assert set(phases) <= set(PHASES), phases
    order = [PHASES.index(p) for p in phases]
    assert order == sorted(order), f"phases out of order: {phases}"
    assert phases[-1] == "done", phases
    totals = {m.group(1) for s in lines for m in [re.search(r"\[reading\] .* of (.*?)  ", s)]
              if m}
    assert len(totals) <= 1, f"the total read changed: {totals}"
    stray = [s for s in lines if not re.match(r"\s*\[\w+\]", s)]
    assert stray == [], f"other output on the terminal: {stray[:5]}"


if __name__ == "__main__":
    main()
    sys.exit(0)
