#!/usr/bin/python3
"""lm-evaluation-harness multiple-choice scoring, for multiple_choice_scorer_test.

    harness_mc_reference.py SAMPLES.jsonl CHOICES_KEY GOLD_KEY

Prints {"acc": ..., "acc_norm": ..., "n": ...}: the task's numbers in the harness's
results_*.json, computed by ConfigurableTask.process_results for output_type multiple_choice
(lm_eval/api/task.py) and the `mean` aggregation. It reads what process_results reads: the
log-likelihoods (the first element of each response) and the doc itself, through
doc_to_choice (doc[CHOICES_KEY], dotted) and doc_to_target (doc[GOLD_KEY], an int index, a
choice's text or a list of ints), not the logged `target` or `arguments`.
"""
import json
import math
import sys


def dig(obj, dotted):
    for part in dotted.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def loglikelihood(resp):
    while isinstance(resp, list) and isinstance(resp[0], list):
        resp = resp[0]
    if isinstance(resp, list):
        resp = resp[0]
    return float(resp)


def divide(a, b):
    """numpy float64 division: x/0 is ±inf, or NaN for 0/0."""
    if b:
        return a / b
    return math.copysign(math.inf, a) if a else math.nan


def argmax(values):
    """numpy.argmax: the first maximum; a NaN is the maximum."""
    best = 0
    for i, v in enumerate(values):
        if v != v:
            return i
        if v > values[best]:
            best = i
    return best


def process_results(doc, lls, choices_key, gold_key):
    choices = dig(doc, choices_key)
    completion_len = [float(len(c)) for c in choices]
    pred = argmax(lls)
    pred_norm = argmax([divide(ll, n) for ll, n in zip(lls, completion_len)])
    gold = dig(doc, gold_key)
    if isinstance(gold, list):
        gold = [i if i < len(choices) else -100 for i in gold]
        return float(pred in gold), float(pred_norm in gold)
    if isinstance(gold, int):
        gold = gold if gold < len(choices) else -100
    elif isinstance(gold, str):
        gold = choices.index(gold) if gold in choices else -100
    return float(pred == gold), float(pred_norm == gold)


def main():
    path, choices_key, gold_key = sys.argv[1:4]
    acc, acc_norm = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            sample = json.loads(line)
            lls = [loglikelihood(r) for r in sample["filtered_resps"]]
            a, n = process_results(sample["doc"], lls, choices_key, gold_key)
            acc.append(a)
            acc_norm.append(n)
    print(json.dumps({"acc": sum(acc) / len(acc), "acc_norm": sum(acc_norm) / len(acc_norm),
                      "n": len(acc)}))


if __name__ == "__main__":
    main()
