#!/usr/bin/python3
"""Generates the scoring benchmark inputs: JSONL predictions and references, joined by id.

Usage (Debian python, no third-party modules needed):
    /usr/bin/python3 bench/python/gen_scoring_data.py --out /tmp/emar-scoring-data

Writes, with a fixed seed (same seed -> byte-identical files):
    labels.{predictions,references}.jsonl     1M class labels, 5 classes, ~80% correct
    answers.{predictions,references}.jsonl    1M SQuAD-style short answers, 1-2 golds
    sentences.{predictions,references}.jsonl  100k ~20-token sentence pairs (BLEU/chrF/ROUGE)
    logprobs.{predictions,references}.jsonl   100k sequences of 10-30 token log-probs
Predictions are written in a shuffled order so that scoring has to join by id. A small share of
the text is non-ASCII (accents, Greek, CJK) and punctuation-heavy, like real outputs.
"""
import argparse
import json
import os
import random

LABELS = ["positive", "negative", "neutral", "mixed", "unknown"]
COMMON = ["the", "a", "of", "and", "to", "in", "is", "that", "it", "was", "for", "on", "are",
          "as", "with", "his", "they", "at", "be", "this"]
EXTRA = ["café", "naïve", "Zürich", "São", "Ελλάδα", "東京", "don't", "U.S.", "3.14", "1,000",
         "e-mail", "(see", "note)", "\"quoted\"", "end."]


class Vocabulary:
    """Zipf-like word distribution over common words, some odd tokens and w0..w4999."""

    def __init__(self, rng):
        self.rng = rng
        self.words = COMMON + EXTRA + ["w%d" % k for k in range(5000)]
        weights = [1.0 / (k + 1) for k in range(len(self.words))]
        total = 0.0
        self.cum = []
        for w in weights:
            total += w
            self.cum.append(total)

    def sample(self, k):
        return self.rng.choices(self.words, cum_weights=self.cum, k=k)


def perturb(words, p, vocab, rng):
    out = []
    for w in words:
        r = rng.random()
        if r < p:
            out.append(vocab.sample(1)[0])
        elif r < 2 * p:
            pass  # dropped
        else:
            out.append(w)
            if r < 3 * p:
                out.append(vocab.sample(1)[0])
    return out


def write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False))
            f.write("\n")


def write_pair(out, name, preds, refs, rng):
    order = list(range(len(preds)))
    rng.shuffle(order)
    write(os.path.join(out, name + ".predictions.jsonl"), (preds[i] for i in order))
    write(os.path.join(out, name + ".references.jsonl"), refs)


def labels(n, rng):
    preds, refs = [], []
    for i in range(n):
        gold = rng.choice(LABELS)
        pred = gold if rng.random() < 0.8 else rng.choice(LABELS)
        refs.append({"id": "l%d" % i, "reference": gold})
        preds.append({"id": "l%d" % i, "prediction": pred})
    return preds, refs


def answers(n, rng, vocab):
    preds, refs = [], []
    for i in range(n):
        gold = vocab.sample(rng.randint(1, 4))
        golds = [" ".join(gold)]
        if rng.random() < 0.3:
            golds.append(" ".join(vocab.sample(2)))
        r = rng.random()
        if r < 0.5:
            pred = golds[0]
        elif r < 0.7:
            pred = "The %s." % golds[0]
        else:
            pred = " ".join(perturb(gold, 0.3, vocab, rng))
        refs.append({"id": "q%d" % i, "references": golds})
        preds.append({"id": "q%d" % i, "prediction": pred})
    return preds, refs


def sentences(n, rng, vocab):
    preds, refs = [], []
    for i in range(n):
        ref = vocab.sample(rng.randint(15, 25))
        refs.append({"id": "s%d" % i, "reference": " ".join(ref)})
        preds.append({"id": "s%d" % i, "prediction": " ".join(perturb(ref, 0.15, vocab, rng))})
    return preds, refs


def logprobs(n, rng):
    preds, refs = [], []
    for i in range(n):
        lp = [round(-4 * rng.random(), 6) for _ in range(rng.randint(10, 30))]
        refs.append({"id": "p%d" % i, "reference": ""})
        preds.append({"id": "p%d" % i, "prediction": "", "token_logprobs": lp})
    return preds, refs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--n-short", type=int, default=1_000_000,
                    help="examples for labels and short answers")
    ap.add_argument("--n-sentences", type=int, default=100_000,
                    help="sentence pairs and log-prob sequences")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    vocab = Vocabulary(rng)
    write_pair(args.out, "labels", *labels(args.n_short, rng), rng)
    write_pair(args.out, "answers", *answers(args.n_short, rng, vocab), rng)
    write_pair(args.out, "sentences", *sentences(args.n_sentences, rng, vocab), rng)
    write_pair(args.out, "logprobs", *logprobs(args.n_sentences, rng), rng)


if __name__ == "__main__":
    main()
