#!/usr/bin/env python3
"""Writes the suite benchmark's inputs (standard library only, fixed seed).

    gen_suite.py DIR [--datasets 10] [--rows 100000] [--target-rows 100000]

DIR/suite.yaml: one target (accuracy) and DATASETS benchmarks of ROWS rows each (exact_match).
DIR/single.yaml: the same target and one benchmark holding the same DATASETS x ROWS rows
(the concatenation of the suite's benchmark files), so both jobs score exactly the same rows.
"""
import argparse
import os
import random

ANSWERS = [("Paris", "London"), ("Shakespeare", "Dickens"), ("carbon dioxide", "oxygen"),
           ("1989", "1991"), ("blue whale", "shark")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--datasets", type=int, default=10)
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--target-rows", type=int, default=100000)
    args = ap.parse_args()
    rng = random.Random(20261207)
    d = args.dir
    for sub in ("data", "out"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)

    def write(path, lines):
        with open(os.path.join(d, path), "w") as f:
            f.write("".join(lines))

    labels = ["positive", "negative", "neutral"]
    gold = [rng.randrange(3) for _ in range(args.target_rows)]
    write("data/target.jsonl", ['{"id": "t%d", "reference": "%s"}\n' % (i, labels[g])
                                for i, g in enumerate(gold)])
    for model, p in (("base", 0.70), ("cand", 0.85)):
        write("out/%s.target.jsonl" % model,
              ['{"id": "t%d", "prediction": "%s"}\n'
               % (i, labels[g if rng.random() < p else (g + 1) % 3]) for i, g in enumerate(gold)])

    all_refs, all_out = [], {"base": [], "cand": []}
    for k in range(args.datasets):
        qs = [rng.randrange(len(ANSWERS)) for _ in range(args.rows)]
        refs = ['{"id": "b%d-%d", "references": ["%s"]}\n' % (k, i, ANSWERS[q][0])
                for i, q in enumerate(qs)]
        write("data/bench%d.jsonl" % k, refs)
        all_refs += refs
        for model, p in (("base", 0.75), ("cand", 0.74)):
            out = ['{"id": "b%d-%d", "prediction": "%s"}\n'
                   % (k, i, ANSWERS[q][0 if rng.random() < p else 1]) for i, q in enumerate(qs)]
            write("out/%s.bench%d.jsonl" % (model, k), out)
            all_out[model] += out
    write("data/bench-all.jsonl", all_refs)
    for model in ("base", "cand"):
        write("out/%s.bench-all.jsonl" % model, all_out[model])

    names = ["bench%d" % k for k in range(args.datasets)]
    suite = ["name: suite-bench\n", "targets:\n",
             "  - {name: target, references: data/target.jsonl, metrics: [accuracy]}\n",
             "benchmarks:\n"]
    suite += ["  - {name: %s, references: data/%s.jsonl, metrics: [exact_match]}\n" % (n, n)
              for n in names]
    for model in ("base", "cand"):
        outs = ", ".join(["target: out/%s.target.jsonl" % model] +
                         ["%s: out/%s.%s.jsonl" % (n, model, n) for n in names])
        suite.append(("base: " if model == "base" else "candidates:\n  - ") +
                     "{name: %s, outputs: {%s}}\n" % (model, outs))
    write("suite.yaml", suite)
    write("single.yaml", [
        "name: single-bench\n",
        "target: {name: target, references: data/target.jsonl, metric: accuracy}\n",
        "benchmark: {name: bench-all, references: data/bench-all.jsonl, metric: exact_match}\n",
        "base: {name: base, target_outputs: out/base.target.jsonl, "
        "benchmark_outputs: out/base.bench-all.jsonl}\n",
        "candidates:\n  - {name: cand, target_outputs: out/cand.target.jsonl, "
        "benchmark_outputs: out/cand.bench-all.jsonl}\n"])


if __name__ == "__main__":
    main()
