#!/usr/bin/env python3
"""Writes the suite benchmark's inputs (standard library only, fixed seed).

    gen_suite.py DIR [--datasets 10] [--rows 100000] [--target-rows 100000] [--no-single]
                     [--checkpoints 0]

DIR/suite.yaml: one target (accuracy) and DATASETS benchmarks of ROWS rows each (exact_match).
DIR/single.yaml: the same target and one benchmark holding the same DATASETS x ROWS rows
(the concatenation of the suite's benchmark files), so both jobs score exactly the same rows;
--no-single leaves it out (the memory benchmark needs only the suite).
--checkpoints N: DIR/series/stepK.yaml for K in 1..N, the suite with the same base and a new
candidate per checkpoint (out/stepK.*.jsonl: the candidate's predictions with a different 5 % of
them changed at each step), so a series of N jobs reuses the base from the score cache.
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
    ap.add_argument("--no-single", action="store_true")
    ap.add_argument("--checkpoints", type=int, default=0)
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

    all_refs, all_out, cand_out = [], {"base": [], "cand": []}, []
    for k in range(args.datasets):
        qs = [rng.randrange(len(ANSWERS)) for _ in range(args.rows)]
        refs = ['{"id": "b%d-%d", "references": ["%s"]}\n' % (k, i, ANSWERS[q][0])
                for i, q in enumerate(qs)]
        write("data/bench%d.jsonl" % k, refs)
        for model, p in (("base", 0.75), ("cand", 0.74)):
            out = ['{"id": "b%d-%d", "prediction": "%s"}\n'
                   % (k, i, ANSWERS[q][0 if rng.random() < p else 1]) for i, q in enumerate(qs)]
            write("out/%s.bench%d.jsonl" % (model, k), out)
            if not args.no_single:
                all_out[model] += out
            if model == "cand":
                cand_out.append(out)
        if not args.no_single:
            all_refs += refs
    if not args.no_single:
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
    if args.checkpoints:
        write_series(d, names, args.checkpoints, cand_out, write)
    if args.no_single:
        return
    write("single.yaml", [
        "name: single-bench\n",
        "target: {name: target, references: data/target.jsonl, metric: accuracy}\n",
        "benchmark: {name: bench-all, references: data/bench-all.jsonl, metric: exact_match}\n",
        "base: {name: base, target_outputs: out/base.target.jsonl, "
        "benchmark_outputs: out/base.bench-all.jsonl}\n",
        "candidates:\n  - {name: cand, target_outputs: out/cand.target.jsonl, "
        "benchmark_outputs: out/cand.bench-all.jsonl}\n"])



def write_series(d, names, checkpoints, cand_out, write):
    """stepK.yaml: the same base, a candidate whose predictions differ at every step."""
    os.makedirs(os.path.join(d, "series"), exist_ok=True)
    target = open(os.path.join(d, "out/cand.target.jsonl")).read().splitlines(True)
    for step in range(1, checkpoints + 1):
        def changed(lines, wrong):
            # A different 5 % of the lines each step: their prediction becomes `wrong`.
            return [(line[:line.index('"prediction"')] + '"prediction": "%s"}\n' % wrong)
                    if (i * 7 + step) % 20 == 0 else line for i, line in enumerate(lines)]
        write("out/step%d.target.jsonl" % step, changed(target, "neutral"))
        for k, n in enumerate(names):
            write("out/step%d.%s.jsonl" % (step, n), changed(cand_out[k], "nothing"))
        outs = ", ".join(["target: ../out/step%d.target.jsonl" % step] +
                         ["%s: ../out/step%d.%s.jsonl" % (n, step, n) for n in names])
        base = ", ".join(["target: ../out/base.target.jsonl"] +
                         ["%s: ../out/base.%s.jsonl" % (n, n) for n in names])
        write("series/step%d.yaml" % step, [
            "name: series-step%d\n" % step, "targets:\n",
            "  - {name: target, references: ../data/target.jsonl, metrics: [accuracy]}\n",
            "benchmarks:\n"] +
            ["  - {name: %s, references: ../data/%s.jsonl, metrics: [exact_match]}\n" % (n, n)
             for n in names] +
            ["base: {name: base, outputs: {%s}}\n" % base,
             "candidates:\n  - {name: step%d, outputs: {%s}}\n" % (step, outs)])


if __name__ == "__main__":
    main()
