#!/usr/bin/python3
"""The straightforward Python/numpy pipeline for the end-to-end benchmark job,
written as a competent data scientist would: the baseline `emarctl run` is compared with.

Usage (Debian python with python3-numpy):
    /usr/bin/python3 bench/e2e/python_pipeline.py /tmp/emar-e2e

Reads the files bench/e2e/gen_job.py writes (the job of DIR/job.yaml: accuracy on the target,
SQuAD v1.1 exact match on the benchmark, base + one candidate, relative_gain, 1000 paired
bootstrap resamples, seed 12345), and
  1. sha256 of every input (hashlib),
  2. reads and json.loads every line,
  3. joins outputs to references by id (dict), every reference answered exactly once,
  4. scores accuracy (equality after str.strip(), any reference) and exact match
     (SQuAD v1.1 normalize_answer, max over references),
  5. a paired numpy bootstrap: per resample one index vector per dataset (rng.integers), shared
     by base and candidate; T0 T1 B0 B1, dT, dB and EMAR = (T1 - T0) / T0 per resample,
     95 % percentile intervals.
Prints one JSON object on stdout (point values, intervals, phase timings); phases on stderr.
"""
import hashlib
import json
import os
import re
import string
import sys
import time

import numpy as np

RESAMPLES = 1000
SEED = 12345
CONFIDENCE = 0.95


def read_jsonl(path, digests):
    with open(path, "rb") as f:
        data = f.read()
    digests[path] = hashlib.sha256(data).hexdigest()
    return [json.loads(line) for line in data.split(b"\n") if line.strip()]


def normalize_answer(s):
    """SQuAD v1.1 evaluate-v1.1.py."""
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def exact_match(prediction, references):
    p = normalize_answer(prediction)
    return max(float(p == normalize_answer(r)) for r in references)


def accuracy(prediction, references):
    p = prediction.strip()
    return float(any(p == r.strip() for r in references))


def load_references(path, digests):
    refs = {}
    for row in read_jsonl(path, digests):
        ident = row["id"]
        if ident in refs:
            raise SystemExit("%s: duplicate id %r" % (path, ident))
        refs[ident] = row["references"] if "references" in row else [row["reference"]]
    return refs


def score(refs, path, metric, digests):
    """Per-example scores in reference order."""
    position = {ident: i for i, ident in enumerate(refs)}
    values = np.full(len(refs), np.nan)
    for row in read_jsonl(path, digests):
        i = position.get(row["id"])
        if i is None:
            raise SystemExit("%s: id %r not in the references" % (path, row["id"]))
        if not np.isnan(values[i]):
            raise SystemExit("%s: duplicate id %r" % (path, row["id"]))
        values[i] = metric(row["prediction"], refs[row["id"]])
    if np.isnan(values).any():
        raise SystemExit("%s: a reference has no prediction" % path)
    return values


def interval(samples):
    lo, hi = np.percentile(samples, [100 * (1 - CONFIDENCE) / 2, 100 * (1 + CONFIDENCE) / 2])
    return [float(lo), float(hi)]


def main():
    root = sys.argv[1]
    p = lambda *parts: os.path.join(root, *parts)
    digests = {}
    times = {}
    start = t = time.perf_counter()

    target_refs = load_references(p("data", "target.jsonl"), digests)
    bench_refs = load_references(p("data", "benchmark.jsonl"), digests)
    t0_rows = score(target_refs, p("out", "base.target.jsonl"), accuracy, digests)
    t1_rows = score(target_refs, p("out", "cand.target.jsonl"), accuracy, digests)
    b0_rows = score(bench_refs, p("out", "base.benchmark.jsonl"), exact_match, digests)
    b1_rows = score(bench_refs, p("out", "cand.benchmark.jsonl"), exact_match, digests)
    times["hash_parse_join_score"] = time.perf_counter() - t
    t = time.perf_counter()

    T0, T1, B0, B1 = (float(x.mean()) for x in (t0_rows, t1_rows, b0_rows, b1_rows))
    point = {"T0": T0, "T1": T1, "B0": B0, "B1": B1, "dT": T1 - T0, "dB": B1 - B0,
             "EMAR": (T1 - T0) / T0}

    rng = np.random.default_rng(SEED)
    nt, nb = len(t0_rows), len(b0_rows)
    s = {k: np.empty(RESAMPLES) for k in ("T0", "T1", "B0", "B1")}
    for b in range(RESAMPLES):
        idx = rng.integers(0, nt, size=nt)
        s["T0"][b] = t0_rows[idx].mean()
        s["T1"][b] = t1_rows[idx].mean()
        idx = rng.integers(0, nb, size=nb)
        s["B0"][b] = b0_rows[idx].mean()
        s["B1"][b] = b1_rows[idx].mean()
    s["dT"] = s["T1"] - s["T0"]
    s["dB"] = s["B1"] - s["B0"]
    s["EMAR"] = s["dT"] / s["T0"]
    ci = {k: interval(v) for k, v in s.items()}
    times["bootstrap"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - start

    for k, v in times.items():
        print("python %-22s %8.3f s" % (k, v), file=sys.stderr)
    json.dump({"point": point, "ci": ci, "n_target": nt, "n_benchmark": nb,
               "sha256": digests, "seconds": times}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
