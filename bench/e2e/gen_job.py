#!/usr/bin/python3
"""Generates the end-to-end benchmark job (1M target + 1M benchmark examples,
base + one candidate) into a directory.

Usage (Debian python, standard library only):
    /usr/bin/python3 bench/e2e/gen_job.py /tmp/emar-e2e [--n-target 1000000] [--n-benchmark 1000000]

Writes, with a fixed seed (same arguments -> byte-identical files):
    DIR/data/target.jsonl           {"id": "t17", "reference": "positive"}        sentiment labels
    DIR/data/benchmark.jsonl        {"id": "q17", "references": ["..", ".."]}     short QA answers
    DIR/out/base.target.jsonl       {"id": ..., "prediction": ...}   ids shuffled
    DIR/out/base.benchmark.jsonl
    DIR/out/cand.target.jsonl
    DIR/out/cand.benchmark.jsonl
    DIR/job.yaml                    accuracy / exact_match, relative_gain, 1000 resamples, seed 12345

Expected scores: target base ~0.70, candidate ~0.85 (candidate better); benchmark base ~0.75,
candidate ~0.74 (slightly worse). Correct predictions are sometimes padded with spaces (target)
or differ from a reference only by case, punctuation, articles or spacing (benchmark), so
trimming and SQuAD normalization matter. A small share of answers is non-ASCII.
"""
import argparse
import json
import os
import random

SEED = 20260501
LABELS = ["positive", "negative", "neutral", "mixed"]
NAMES = ["Paris", "London", "Zürich", "São Paulo", "Tōkyō", "Ελλάδα", "東京", "Leonardo da Vinci",
         "Marie Curie", "Isaac Newton", "Ada Lovelace", "Mount Everest", "the Nile", "Jupiter",
         "carbon dioxide", "oxygen", "photosynthesis", "Shakespeare", "Beethoven", "Pacific Ocean",
         "Amazon River", "Sahara", "Mars", "hydrogen", "Antarctica", "Mozart", "Einstein",
         "Napoléon", "Kraków", "Reykjavík", "Dvořák", "Gödel", "Curaçao", "Malmö"]
WORDS = ["red", "blue", "green", "river", "city", "king", "queen", "war", "peace", "north",
         "south", "east", "west", "old", "new", "great", "little", "first", "second", "third",
         "island", "bridge", "tower", "empire", "republic", "treaty", "battle", "star", "moon"]


def make_answers(rng, count):
    """A pool of distinct short answers: names, 1-3 word phrases, numbers, years."""
    pool = list(NAMES)
    seen = set(pool)
    while len(pool) < count:
        r = rng.random()
        if r < 0.55:
            k = rng.randint(1, 3)
            a = " ".join(rng.choice(WORDS) for _ in range(k)).capitalize() + " %d" % rng.randint(1, 999)
        elif r < 0.75:
            a = str(rng.randint(1000, 2025))
        elif r < 0.9:
            a = "{:,}".format(rng.randint(1000, 10_000_000))
        else:
            a = "%s %s" % (rng.choice(NAMES), rng.choice(WORDS))
        if a not in seen:
            seen.add(a)
            pool.append(a)
    return pool


def variants(answer):
    """Other acceptable references for an answer."""
    out = [answer]
    words = answer.split()
    if len(words) > 1:
        out.append(words[-1])
    if "," in answer:
        out.append(answer.replace(",", ""))
    return out


def correct_form(rng, ref):
    """A prediction that exact_match accepts (normalization-equal to `ref`) but may not be identical."""
    r = rng.random()
    if r < 0.55:
        return ref
    if r < 0.65:
        return ref.lower()
    if r < 0.75:
        return "The " + ref
    if r < 0.85:
        return ref + "."
    if r < 0.92:
        return "  " + ref.upper() + " "
    return '"' + ref + '"!'


def write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def shuffled(rng, rows):
    rows = list(rows)
    rng.shuffle(rows)
    return rows


def generate_target(n, rng):
    refs, base, cand = [], [], []
    for i in range(n):
        ident = "t%07d" % i
        gold = rng.choice(LABELS)
        wrong = [l for l in LABELS if l != gold]
        b_ok = rng.random() < 0.70
        c_ok = rng.random() < (0.95 if b_ok else 0.6167)
        bp = gold if b_ok else rng.choice(wrong)
        cp = gold if c_ok else rng.choice(wrong)
        if rng.random() < 0.05:
            bp = " " + bp + " "
        if rng.random() < 0.05:
            cp = cp + "\n"
        refs.append({"id": ident, "reference": gold})
        base.append({"id": ident, "prediction": bp})
        cand.append({"id": ident, "prediction": cp})
    return refs, base, cand


def generate_benchmark(n, rng):
    pool = make_answers(rng, 20000)
    refs, base, cand = [], [], []
    for i in range(n):
        ident = "q%07d" % i
        answer = rng.choice(pool)
        golds = variants(answer)
        b_ok = rng.random() < 0.75
        c_ok = rng.random() < (0.90 if b_ok else 0.26)
        bp = correct_form(rng, rng.choice(golds)) if b_ok else rng.choice(pool)
        cp = correct_form(rng, rng.choice(golds)) if c_ok else rng.choice(pool)
        refs.append({"id": ident, "references": golds})
        base.append({"id": ident, "prediction": bp})
        cand.append({"id": ident, "prediction": cp})
    return refs, base, cand


JOB = """\
# End-to-end benchmark job (bench/e2e), generated by bench/e2e/gen_job.py.
name: e2e-bench
target:    {name: sentiment, references: data/target.jsonl,    metric: accuracy}
benchmark: {name: short-qa,  references: data/benchmark.jsonl, metric: exact_match}
base:      {name: base, target_outputs: out/base.target.jsonl, benchmark_outputs: out/base.benchmark.jsonl}
candidates:
  - {name: cand, target_outputs: out/cand.target.jsonl, benchmark_outputs: out/cand.benchmark.jsonl}
formula: relative_gain
bootstrap: {resamples: 1000, confidence: 0.95, seed: 12345}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--n-target", type=int, default=1_000_000)
    ap.add_argument("--n-benchmark", type=int, default=1_000_000)
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "data"), exist_ok=True)
    os.makedirs(os.path.join(args.out, "out"), exist_ok=True)
    rng = random.Random(SEED)

    refs, base, cand = generate_target(args.n_target, rng)
    write(os.path.join(args.out, "data", "target.jsonl"), refs)
    write(os.path.join(args.out, "out", "base.target.jsonl"), shuffled(rng, base))
    write(os.path.join(args.out, "out", "cand.target.jsonl"), shuffled(rng, cand))
    del refs, base, cand

    refs, base, cand = generate_benchmark(args.n_benchmark, rng)
    write(os.path.join(args.out, "data", "benchmark.jsonl"), refs)
    write(os.path.join(args.out, "out", "base.benchmark.jsonl"), shuffled(rng, base))
    write(os.path.join(args.out, "out", "cand.benchmark.jsonl"), shuffled(rng, cand))
    del refs, base, cand

    with open(os.path.join(args.out, "job.yaml"), "w", encoding="utf-8") as f:
        f.write(JOB)


if __name__ == "__main__":
    main()
