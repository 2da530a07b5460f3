#!/usr/bin/python3
"""Straightforward Python implementations of the EMAR metrics, for speed and value comparison.

Usage (Debian python; python3-sklearn is used for macro_f1/micro_f1/mcc when installed):
    /usr/bin/python3 bench/python/score_reference.py --metric bleu \\
        --predictions DIR/sentences.predictions.jsonl --references DIR/sentences.references.jsonl

Reads both JSONL files ({"id", "prediction"[, "token_logprobs"]} and {"id", "reference"} or
{"id", "references": [...]}), joins them by id, scores, and prints one JSON object:
    {"metric": ..., "value": ..., "n": ..., "seconds": ...}
`seconds` covers reading, parsing, joining and scoring. Values are fractions 0-1 (BLEU, chrF and
SQuAD scores are not multiplied by 100); perplexity is raw; an undefined value prints null with
"undefined_reason". The definitions are those of testdata/metrics/SPEC.md, written the way the
reference tools write them (sacrebleu's regexes for 13a, Counters for n-grams, rouge-score's
regex tokenizer and LCS table, SQuAD's evaluate-v1.1.py), not tuned for speed.
"""
import argparse
import collections
import json
import math
import re
import string
import sys
import time

try:  # imported before the clock starts: library start-up is not scoring time
    from sklearn.metrics import f1_score, matthews_corrcoef
except ImportError:
    f1_score = matthews_corrcoef = None

# ---------------------------------------------------------------------------------------------
# Input


def canonical_label(value):
    """JSON scalars as the C++ input layer renders them: 1 == 1.0 == "1", true == "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return value


def load_joined(pred_path, ref_path):
    """Returns [(prediction_record, [reference strings])] in reference-file order."""
    preds = {}
    with open(pred_path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            if rec["id"] in preds:
                sys.exit("%s:%d: duplicate id %r" % (pred_path, lineno, rec["id"]))
            preds[rec["id"]] = rec
    joined = []
    with open(ref_path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            refs = rec["references"] if "references" in rec else [rec["reference"]]
            pred = preds.get(rec["id"])
            if pred is None:
                sys.exit("%s:%d: no prediction for id %r" % (ref_path, lineno, rec["id"]))
            joined.append((pred, [canonical_label(r) for r in refs]))
    return joined


# ---------------------------------------------------------------------------------------------
# accuracy and SQuAD v1.1 (evaluate-v1.1.py)


def accuracy(joined):
    correct = 0
    for pred, refs in joined:
        p = canonical_label(pred["prediction"]).strip()
        correct += any(p == r.strip() for r in refs)
    return correct / len(joined)


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def squad_f1(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def squad_em(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def exact_match(joined):
    return sum(max(squad_em(p["prediction"], g) for g in refs) for p, refs in joined) / len(joined)


def token_f1(joined):
    return sum(max(squad_f1(p["prediction"], g) for g in refs) for p, refs in joined) / len(joined)


# ---------------------------------------------------------------------------------------------
# Classification (scikit-learn semantics)


def _labels(joined):
    y_true = [refs[0].strip() for _, refs in joined]
    y_pred = [canonical_label(p["prediction"]).strip() for p, _ in joined]
    return y_true, y_pred


def _confusion_scores(y_true, y_pred):
    labels = sorted(set(y_true) | set(y_pred))
    tp = collections.Counter(t for t, p in zip(y_true, y_pred) if t == p)
    t_count = collections.Counter(y_true)
    p_count = collections.Counter(y_pred)
    f1s = []
    for k in labels:
        prec = tp[k] / p_count[k] if p_count[k] else 0.0
        rec = tp[k] / t_count[k] if t_count[k] else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    n = len(y_true)
    c = sum(tp.values())
    cov_ytyp = c * n - sum(t_count[k] * p_count[k] for k in labels)
    cov_ypyp = n * n - sum(p_count[k] ** 2 for k in labels)
    cov_ytyt = n * n - sum(t_count[k] ** 2 for k in labels)
    mcc = 0.0 if cov_ypyp * cov_ytyt == 0 else cov_ytyp / math.sqrt(cov_ytyt * cov_ypyp)
    return sum(f1s) / len(f1s), c / n, mcc


def _classification(which):
    def score(joined):
        y_true, y_pred = _labels(joined)
        if f1_score is None:
            macro, micro, mcc = _confusion_scores(y_true, y_pred)
            return {"macro_f1": macro, "micro_f1": micro, "mcc": mcc}[which]
        if which == "mcc":
            return float(matthews_corrcoef(y_true, y_pred))
        average = "macro" if which == "macro_f1" else "micro"
        return float(f1_score(y_true, y_pred, average=average, zero_division=0))

    return score


# ---------------------------------------------------------------------------------------------
# sacrebleu BLEU (13a, exp smoothing, corpus) and chrF2

_13A_REGEXES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]


def tokenize_13a(line):
    line = line.replace("<skipped>", "")
    line = line.replace("-\n", "")
    line = line.replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"')
        line = line.replace("&amp;", "&")
        line = line.replace("&lt;", "<")
        line = line.replace("&gt;", ">")
    line = " {} ".format(line)
    for regex, repl in _13A_REGEXES:
        line = regex.sub(repl, line)
    return " ".join(line.split())


def word_ngrams(tokens, max_order):
    counts = collections.Counter()
    for n in range(1, max_order + 1):
        for i in range(len(tokens) - n + 1):
            counts[tuple(tokens[i:i + n])] += 1
    return counts


def bleu(joined, max_order=4):
    sys_len = ref_len = 0
    correct = [0] * max_order
    total = [0] * max_order
    for pred, refs in joined:
        hyp = tokenize_13a(pred["prediction"].rstrip()).split()
        ref_ngrams = collections.Counter()
        closest_diff, closest_len = -1, -1
        for ref in refs:
            tokens = tokenize_13a(ref.rstrip()).split()
            diff = abs(len(tokens) - len(hyp))
            if closest_diff == -1 or diff < closest_diff:
                closest_diff, closest_len = diff, len(tokens)
            elif diff == closest_diff and len(tokens) < closest_len:
                closest_len = len(tokens)
            for ngram, count in word_ngrams(tokens, max_order).items():
                ref_ngrams[ngram] = max(ref_ngrams[ngram], count)
        sys_len += len(hyp)
        ref_len += closest_len
        for ngram, count in word_ngrams(hyp, max_order).items():
            total[len(ngram) - 1] += count
            correct[len(ngram) - 1] += min(count, ref_ngrams.get(ngram, 0))
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    else:
        bp = 1.0
    if not any(correct):
        return 0.0
    precisions = [0.0] * max_order
    smooth = 1.0
    for n in range(max_order):
        if total[n] == 0:
            break
        if correct[n] == 0:
            smooth *= 2
            precisions[n] = 1.0 / (smooth * total[n])
        else:
            precisions[n] = correct[n] / total[n]
    log_sum = sum(math.log(p) if p > 0 else -9999999999 for p in precisions)
    return bp * math.exp(log_sum / max_order)


def chrf_stats(hyp, ref, order):
    stats = []
    hyp = "".join(hyp.split())
    ref = "".join(ref.split())
    for n in range(1, order + 1):
        h = collections.Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
        r = collections.Counter(ref[i:i + n] for i in range(len(ref) - n + 1))
        h_len, r_len = sum(h.values()), sum(r.values())
        matches = sum(min(c, r[g]) for g, c in h.items() if g in r)
        stats.extend([h_len if r_len > 0 else 0, r_len, matches])
    return stats


def chrf_score(stats, order=6, beta=2.0):
    factor = beta ** 2
    avg_p = avg_r = 0.0
    eff = 0
    for n in range(order):
        h, r, m = stats[3 * n:3 * n + 3]
        if h > 0 and r > 0:
            avg_p += m / h
            avg_r += m / r
            eff += 1
    if eff == 0:
        return 0.0
    avg_p /= eff
    avg_r /= eff
    if avg_p + avg_r == 0:
        return 0.0
    return (1 + factor) * avg_p * avg_r / (factor * avg_p + avg_r)


def chrf(joined, order=6):
    corpus = [0] * (3 * order)
    for pred, refs in joined:
        best, best_score = None, -1.0
        for ref in refs:
            stats = chrf_stats(pred["prediction"], ref, order)
            score = chrf_score(stats, order)
            if score > best_score:
                best, best_score = stats, score
        corpus = [a + b for a, b in zip(corpus, best)]
    return chrf_score(corpus, order)


# ---------------------------------------------------------------------------------------------
# rouge-score (default tokenizer, no stemmer, score_multi, mean F)


def rouge_tokens(text):
    text = text.lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return [x for x in text.split() if re.match(r"^[a-z0-9]+$", x)]


def _fmeasure(precision, recall):
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _rouge_n(target, prediction, n):
    t = collections.Counter(tuple(target[i:i + n]) for i in range(len(target) - n + 1))
    p = collections.Counter(tuple(prediction[i:i + n]) for i in range(len(prediction) - n + 1))
    overlap = sum(min(c, p[g]) for g, c in t.items())
    precision = overlap / max(sum(p.values()), 1)
    recall = overlap / max(sum(t.values()), 1)
    return _fmeasure(precision, recall)


def _rouge_l(target, prediction):
    if not target or not prediction:
        return 0.0
    rows, cols = len(target), len(prediction)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            if target[i - 1] == prediction[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    lcs = table[-1][-1]
    return _fmeasure(lcs / cols, lcs / rows)


def _rouge(kind):
    def score(joined):
        total = 0.0
        for pred, refs in joined:
            p = rouge_tokens(pred["prediction"])
            best = 0.0
            for ref in refs:
                t = rouge_tokens(ref)
                f = _rouge_l(t, p) if kind == "L" else _rouge_n(t, p, int(kind))
                best = max(best, f)
            total += best
        return total / len(joined)

    return score


# ---------------------------------------------------------------------------------------------
# Perplexity


class Undefined(Exception):
    pass


def perplexity(joined):
    nll = 0.0
    tokens = 0
    for pred, _ in joined:
        if "token_logprobs" not in pred:
            raise SystemExit("id %r: token_logprobs missing" % pred["id"])
        lp = pred["token_logprobs"]
        nll -= sum(lp)
        tokens += len(lp)
    if tokens == 0:
        raise Undefined("no tokens")
    if math.isinf(nll):
        raise Undefined("a token has log-probability -inf")
    return math.exp(nll / tokens)


METRICS = {
    "accuracy": accuracy,
    "exact_match": exact_match,
    "token_f1": token_f1,
    "macro_f1": _classification("macro_f1"),
    "micro_f1": _classification("micro_f1"),
    "mcc": _classification("mcc"),
    "bleu": bleu,
    "chrf": chrf,
    "rouge1": _rouge("1"),
    "rouge2": _rouge("2"),
    "rougeL": _rouge("L"),
    "perplexity": perplexity,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--metric", required=True, choices=sorted(METRICS))
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--references", required=True)
    args = ap.parse_args()
    start = time.perf_counter()
    joined = load_joined(args.predictions, args.references)
    result = {"metric": args.metric, "value": None, "n": len(joined)}
    try:
        if not joined:
            raise Undefined("no examples")
        result["value"] = METRICS[args.metric](joined)
    except Undefined as e:
        result["undefined_reason"] = str(e)
    result["seconds"] = round(time.perf_counter() - start, 4)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
