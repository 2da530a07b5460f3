"""Writes the several-samples-per-item job of samples_test.cc and computes its expectations
independently with numpy (no EMAR code): item means, pass@k by math.comb, the cluster bootstrap
of the judge-score delta (items drawn with replacement, each item's mean over its samples) and,
for contrast, the naive bootstrap that draws single samples.

    samples_reference.py DIR    # writes DIR/job.yaml and its inputs, prints "key value" lines

The data: 150 items with a strong item effect (an item is easy or hard for both models), judge
grades 1..5 from k = 4 samples (base) and k = 5 (candidate), a 0/1 `passed` per sample; the
candidate is better by about a quarter grade. Outputs are written in a shuffled order, so an
item's samples fall into several shards. The same grades are scored a second time as a dataset
without a references file (its ids come from the base outputs). The benchmark has 60 items (a
small 0/1 dataset).
"""
import json
import math
import random
import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm

ITEMS, K_BASE, K_CAND, BENCH = 150, 4, 5, 60
PASS_K = 2
RESAMPLES, CONFIDENCE = 4000, 0.95


def grades(rng, ease, shift, k):
    out = []
    for _ in range(k):
        g = ease + shift + rng.gauss(0, 0.6)
        out.append(min(5.0, max(1.0, round(g * 2) / 2)))
    return out


def pass_at_k(n, c, k):
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def cluster_bootstrap(base, cand, rng, naive=False):
    """Percentile interval of mean(cand items) - mean(base items); `base`/`cand` are per-item
    lists of sample values. naive: resample single samples instead of items."""
    if naive:
        b = np.concatenate([np.array(x) for x in base])
        c = np.concatenate([np.array(x) for x in cand])
        deltas = [rng.choice(c, c.size).mean() - rng.choice(b, b.size).mean()
                  for _ in range(RESAMPLES)]
    else:
        bm = np.array([np.mean(x) for x in base])
        cm = np.array([np.mean(x) for x in cand])
        idx = rng.integers(0, len(bm), size=(RESAMPLES, len(bm)))
        deltas = cm[idx].mean(axis=1) - bm[idx].mean(axis=1)
    a = (1 - CONFIDENCE) / 2
    return [float(np.quantile(deltas, a)), float(np.quantile(deltas, 1 - a)),
            float(np.std(deltas, ddof=1))]


def cells(base, cand):
    a = b = c = d = 0
    for x, y in zip(base, cand):
        rb, rc = x["prediction"] == "yes", y["prediction"] == "yes"
        a += rb and rc
        b += rb and not rc
        c += rc and not rb
        d += not rb and not rc
    return a, b, c, d


def wilson(successes, n, confidence):
    """Wilson (1927) score interval, closed form."""
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def newcombe(a, b, c, d, confidence):
    """Newcombe (1998) method 10 for p_candidate - p_base; a both right, b only base right,
    c only candidate right, d neither."""
    n = a + b + c + d
    p1, p2 = (a + c) / n, (a + b) / n
    l1, u1 = wilson(a + c, n, confidence)
    l2, u2 = wilson(a + b, n, confidence)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(denom) if denom > 0 else 0.0
    low = (p1 - p2) - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = (p1 - p2) + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    return low, high


def main():
    out = Path(sys.argv[1])
    (out / "data").mkdir(parents=True, exist_ok=True)
    rng = random.Random(20240521)
    refs, base_rows, cand_rows = [], [], []
    base_g, cand_g, base_p, cand_p = [], [], [], []
    for i in range(ITEMS):
        item = f"q{i:03d}"
        refs.append({"id": item, "reference": "ok"})
        ease = rng.uniform(1.2, 4.6)
        bg, cg = grades(rng, ease, 0.0, K_BASE), grades(rng, ease, 0.25, K_CAND)
        bp = [int(g >= 3.5) for g in bg]
        cp = [int(g >= 3.5) for g in cg]
        base_g.append(bg)
        cand_g.append(cg)
        base_p.append(bp)
        cand_p.append(cp)
        for s, (g, p) in enumerate(zip(bg, bp)):
            base_rows.append({"id": item, "sample": s, "prediction": "...", "grade": g,
                              "passed": bool(p)})
        for s, (g, p) in enumerate(zip(cg, cp)):
            cand_rows.append({"id": item, "sample": s + 10, "prediction": "...", "grade": g,
                              "passed": bool(p)})
    rng.shuffle(base_rows)
    rng.shuffle(cand_rows)
    write_jsonl(out / "data/judge.refs.jsonl", refs)
    write_jsonl(out / "data/base.judge.jsonl", base_rows)
    write_jsonl(out / "data/cand.judge.jsonl", cand_rows)

    bench_refs, bench_base, bench_cand = [], [], []
    for i in range(BENCH):
        bench_refs.append({"id": f"b{i}", "reference": "yes"})
        right_b = rng.random() < 0.8
        right_c = right_b if rng.random() < 0.85 else not right_b
        bench_base.append({"id": f"b{i}", "prediction": "yes" if right_b else "no"})
        bench_cand.append({"id": f"b{i}", "prediction": "yes" if right_c else "no"})
    write_jsonl(out / "data/bench.refs.jsonl", bench_refs)
    write_jsonl(out / "data/base.bench.jsonl", bench_base)
    write_jsonl(out / "data/cand.bench.jsonl", bench_cand)

    (out / "job.yaml").write_text(f"""name: judge-samples
targets:
  - name: judge
    references: data/judge.refs.jsonl
    fields: {{sample_field: sample}}
    metrics:
      - {{name: score, field: grade, range: [1, 5]}}
      - {{name: pass_at_k, k: {PASS_K}, field: passed}}
  - name: judge-noref
    fields: {{sample_field: sample}}
    metrics: [{{name: score, field: grade, range: [1, 5]}}]
benchmarks:
  - {{name: bench, references: data/bench.refs.jsonl, metrics: [accuracy]}}
base: {{name: base, outputs: {{judge: data/base.judge.jsonl, judge-noref: data/base.judge.jsonl,
                             bench: data/base.bench.jsonl}}}}
candidates:
  - {{name: tuned, outputs: {{judge: data/cand.judge.jsonl, judge-noref: data/cand.judge.jsonl,
                              bench: data/cand.bench.jsonl}}}}
bootstrap: {{resamples: 2000, confidence: {CONFIDENCE}, seed: 777}}
gates: {{max_benchmark_regression: 0.02}}
""")
    np_rng = np.random.default_rng(5)
    b_right = sum(r["prediction"] == "yes" for r in bench_base)
    c_right = sum(r["prediction"] == "yes" for r in bench_cand)
    expect = {
        "items": ITEMS, "k_base": K_BASE, "k_candidate": K_CAND, "bench_items": BENCH,
        "judge_base": float(np.mean([np.mean(g) for g in base_g])),
        "judge_candidate": float(np.mean([np.mean(g) for g in cand_g])),
        "pass_base": float(np.mean([pass_at_k(K_BASE, sum(p), PASS_K) for p in base_p])),
        "pass_candidate": float(np.mean([pass_at_k(K_CAND, sum(p), PASS_K) for p in cand_p])),
        "cluster": cluster_bootstrap(base_g, cand_g, np_rng),
        "naive": cluster_bootstrap(base_g, cand_g, np_rng, naive=True),
        "bench_base": b_right / BENCH, "bench_candidate": c_right / BENCH,
        "wilson_base": list(wilson(b_right, BENCH, CONFIDENCE)),
        "wilson_candidate": list(wilson(c_right, BENCH, CONFIDENCE)),
        "newcombe": list(newcombe(*cells(bench_base, bench_cand), CONFIDENCE)),
    }
    for key, value in expect.items():
        if isinstance(value, list):
            for part, v in zip(("low", "high", "se"), value):
                print(f"{key}_{part} {v!r}")
        else:
            print(f"{key} {value!r}")


if __name__ == "__main__":
    main()
