#!/usr/bin/python3
"""numpy index-gather paired bootstrap for the 1M + 1M job, the baseline stats_bench is held to.

1,000 resamples over N target + N benchmark examples, base + one candidate: per resample and
dataset, draw N indices, gather the rows of both systems (the same indices: paired), sum,
finalize, then EMAR = (T1 - T0) / T0. Data are synthetic, with the same shapes and
distributions as bench/stats/stats_bench.cc.

  /usr/bin/python3 bench/stats/bootstrap_numpy.py --metric ratio --n 1000000 --resamples 1000

Prints one line: `numpy <metric> <seconds>` (the bootstrap only, data generation excluded).
Needs Debian's python3-numpy (apt-get install -y python3-numpy).
"""
import argparse
import time

import numpy as np


def make(metric, n, rng):
    """Stacked rows of base and candidate: shape (n, 2 * width)."""
    if metric == "binary":
        return np.stack([rng.random(n) < 0.70, rng.random(n) < 0.78], axis=1).astype(np.float64)
    if metric == "ratio":
        total = 5 + rng.integers(0, 40, n)
        return np.stack([np.floor(total * rng.random(n)), total,
                         np.floor(total * rng.random(n)), total], axis=1).astype(np.float64)
    if metric == "bleu10":
        cols = []
        for _ in range(2):
            length = 5 + rng.integers(0, 40, n)
            m = np.floor(length * rng.random(n))
            cols += [np.maximum(0, m - k) for k in range(4)]
            cols += [length - k for k in range(4)]
            cols += [length, length + rng.integers(0, 5, n)]
        return np.stack(cols, axis=1).astype(np.float64)
    if metric == "macro_f1":
        gold = rng.integers(0, 5, n)
        base = np.where(rng.random(n) < 0.7, gold, rng.integers(0, 5, n))
        cand = np.where(rng.random(n) < 0.8, gold, rng.integers(0, 5, n))
        return np.stack([base, gold, cand, gold], axis=1)
    raise ValueError(metric)


def scores(metric, picked):
    """Per-system corpus scores of the gathered rows."""
    if metric == "binary":
        return picked.mean(axis=0)
    if metric == "ratio":
        s = picked.sum(axis=0)
        return np.array([s[0] / s[1], s[2] / s[3]])
    if metric == "bleu10":
        s = picked.sum(axis=0)
        out = []
        for k in range(2):
            c = s[10 * k:10 * k + 10]
            prec = np.log(np.maximum(c[0:4], 1e-9) / c[4:8]).mean()
            bp = 1.0 if c[8] >= c[9] else np.exp(1 - c[9] / c[8])
            out.append(bp * np.exp(prec))
        return np.array(out)
    if metric == "macro_f1":
        out = []
        for k in range(2):
            conf = np.bincount(picked[:, 2 * k] * 5 + picked[:, 2 * k + 1], minlength=25).reshape(5, 5)
            tp = np.diag(conf)
            p = np.divide(tp, conf.sum(axis=1), out=np.zeros(5), where=conf.sum(axis=1) > 0)
            r = np.divide(tp, conf.sum(axis=0), out=np.zeros(5), where=conf.sum(axis=0) > 0)
            f = np.divide(2 * p * r, p + r, out=np.zeros(5), where=(p + r) > 0)
            out.append(f.mean())
        return np.array(out)
    raise ValueError(metric)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--metric", default="ratio", choices=["binary", "ratio", "bleu10", "macro_f1"])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=12345)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    target, bench = make(args.metric, args.n, rng), make(args.metric, args.n, rng)
    start = time.perf_counter()
    emar = np.empty(args.resamples)
    for r in range(args.resamples):
        t = scores(args.metric, target[rng.integers(0, args.n, args.n)])
        b = scores(args.metric, bench[rng.integers(0, args.n, args.n)])
        emar[r] = (t[1] - t[0]) / t[0]
    lo, hi = np.sort(emar)[[args.resamples // 40, args.resamples - args.resamples // 40 - 1]]
    elapsed = time.perf_counter() - start
    print(f"numpy {args.metric} {elapsed:.3f}  (emar ci {lo:.4f} {hi:.4f})")


if __name__ == "__main__":
    main()
