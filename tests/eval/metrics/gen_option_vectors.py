#!/usr/bin/python3
"""Generates the option test vectors of testdata/metrics/ from the reference implementations.

    /usr/bin/python3 tests/eval/metrics/gen_option_vectors.py --sacrebleu-src DIR

writes testdata/metrics/sacrebleu_options.jsonl, tokenize_intl.jsonl, rouge_options.jsonl and
porter.jsonl.

* sacrebleu_options.jsonl: sacrebleu's own code (BLEU, CHRF) run on a small corpus for each
  option value, with the signature it prints. Debian 12 does not package sacrebleu: DIR is a
  checkout of its sources at release 2.6.0 (the directory holding the `sacrebleu` package). Its
  dataset-download and table-printing imports (portalocker, tabulate, lxml) are replaced by empty
  modules when they are missing; scoring does not use them.
* porter.jsonl: NLTK's PorterStemmer (Debian python3-nltk 3.8, default NLTK_EXTENSIONS mode) on a
  word list that exercises every rule.
* rouge_options.jsonl: rouge-score's scorer (rouge/rouge_scorer.py, tokenize.py, scoring.py of
  google-research, not packaged by Debian) restated below step by step with the same names, with
  NLTK's real PorterStemmer for use_stemmer.

Run once; the test reads the committed vectors. Output is deterministic.
"""
import argparse
import collections
import json
import os
import re
import sys
import types

from nltk.stem import porter

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "..", "testdata", "metrics")

HYPS = [
    "The cat sat on the mat.",
    "It's 3.14, isn't it? (roughly) -- said the 2nd engineer.",
    "我喜欢猫，也喜欢狗。",
    "Hello WORLD — this is a Test… of UPPER and lower case",
    "New-York based firm earns $1,000,000 in 2023!",
    "a b c d e f g",
    "",
    "Short",
    "the the the the quick brown fox jumps over the lazy dog",
    "Zürich's café serves crème brûlée; prices: 12,50 € each.",
    "«Bonjour», dit-il : ¿qué? 1.000,5 km² ≈ 3×10⁴ — ok!!",
]
REFS_ONE = [
    ["The cat is on the mat."],
    ["It is 3.14, is it not? (roughly) - said the second engineer."],
    ["我喜欢狗，也喜欢猫。"],
    ["hello world — this is a test of upper and lower case"],
    ["A New York-based firm earned $1,000,000 in 2023."],
    ["a b c d e f g h"],
    ["Nothing here"],
    ["Short answer"],
    ["the quick brown fox jumped over the lazy dogs"],
    ["The café in Zürich serves crème brûlée; price: 12,50 € each."],
    ["« Bonjour » dit-il: ¿Qué? 1.000,5 km² ≈ 3×10⁴ - OK!"],
]
SECOND = [
    "There is a cat on the mat.",
    "Roughly 3.14, right? said the engineer",
    "我也喜欢狗和猫。",
    "HELLO WORLD - THIS IS A TEST OF CASE",
    "New York firm makes $1m in 2023!",
    "g f e d c b a",
    "",
    "short",
    "a quick brown fox leaps over the lazy dog",
    "Zurich cafe serves creme brulee for 12.50 EUR.",
    "Bonjour, dit-il ; quoi ? 1000,5 km2",
]
REFS_TWO = [[a[0], b] for a, b in zip(REFS_ONE, SECOND)]
REFS_VAR = [r if i % 3 else r + ["An extra reference ."] for i, r in enumerate(REFS_TWO)]
REFS_VAR[1] = REFS_ONE[1]

BLEU_SPECS = [
    {},
    {"tokenize": "13a"},
    {"tokenize": "char"},
    {"tokenize": "none"},
    {"tokenize": "zh"},
    {"tokenize": "intl"},
    {"tokenize": "intl", "lowercase": True, "smooth": "floor"},
    {"lowercase": True},
    {"lowercase": True, "tokenize": "char"},
    {"smooth": "none"},
    {"smooth": "floor"},
    {"smooth": "floor", "smooth_value": 0.01},
    {"smooth": "floor", "smooth_value": 0.125},
    {"smooth": "add-k"},
    {"smooth": "add-k", "smooth_value": 2.5},
    {"max_ngram_order": 1},
    {"max_ngram_order": 2},
    {"max_ngram_order": 6},
    {"effective_order": True},
    {"effective_order": True, "smooth": "none", "max_ngram_order": 5},
    {"tokenize": "zh", "lowercase": True, "smooth": "add-k", "effective_order": True},
]
CHRF_SPECS = [
    {},
    {"char_order": 1},
    {"char_order": 3},
    {"char_order": 8},
    {"word_order": 1},
    {"word_order": 2},
    {"word_order": 3},
    {"beta": 1},
    {"beta": 3},
    {"beta": 0.5},
    {"lowercase": True},
    {"whitespace": True},
    {"word_order": 2, "lowercase": True, "whitespace": True, "beta": 1, "char_order": 4},
]


def load_sacrebleu(src):
    sys.path.insert(0, src)
    for name in ("portalocker", "tabulate", "lxml", "lxml.etree"):
        try:
            __import__(name)
        except ImportError:
            mod = types.ModuleType(name)
            mod.tabulate = lambda *a, **k: ""
            sys.modules[name] = mod
    if not hasattr(sys.modules["lxml"], "etree"):
        sys.modules["lxml"].etree = sys.modules["lxml.etree"]
    import sacrebleu  # noqa: E402
    from sacrebleu.metrics import BLEU, CHRF  # noqa: E402
    return sacrebleu.__version__, BLEU, CHRF


def streams(refs):
    """Per-example lists into sacrebleu's reference streams (None pads a missing reference)."""
    k = max(len(r) for r in refs)
    return [[r[j] if j < len(r) else None for r in refs] for j in range(k)]


def intl_lines(src, shared_13a):
    """sacrebleu's intl tokenizer on the 13a vectors' inputs and the BLEU hypotheses."""
    load_sacrebleu(src)
    from sacrebleu.tokenizers.tokenizer_intl import TokenizerV14International  # noqa: E402
    tok = TokenizerV14International()
    inputs = []
    with open(shared_13a, encoding="utf-8") as f:
        for line in f:
            inputs += json.loads(line)["predictions"]
    inputs += HYPS + [r for refs in REFS_TWO for r in refs]
    inputs = list(dict.fromkeys(inputs))
    return [{"name": "sacrebleu_intl", "predictions": inputs,
             "expected": {"tokenized": [tok(x) for x in inputs]},
             "source": "sacrebleu 2.6.0 TokenizerV14International, python3-regex 2022.10.31"}]


def sacrebleu_lines(src):
    version, BLEU, CHRF = load_sacrebleu(src)
    assert version == "2.6.0", version
    lines = []
    for metric, specs in (("bleu", BLEU_SPECS), ("chrf", CHRF_SPECS)):
        for i, spec in enumerate(specs):
            for refs_name, refs in (("one", REFS_ONE), ("two", REFS_TWO), ("var", REFS_VAR)):
                if metric == "bleu":
                    kw = {"tokenize": spec.get("tokenize"), "lowercase": spec.get("lowercase", False),
                          "smooth_method": spec.get("smooth", "exp"),
                          "smooth_value": spec.get("smooth_value"),
                          "max_ngram_order": spec.get("max_ngram_order", 4),
                          "effective_order": spec.get("effective_order", False)}
                    m = BLEU(**kw)
                else:
                    kw = {"char_order": spec.get("char_order", 6), "word_order": spec.get("word_order", 0),
                          "beta": spec.get("beta", 2), "lowercase": spec.get("lowercase", False),
                          "whitespace": spec.get("whitespace", False)}
                    m = CHRF(**kw)
                score = m.corpus_score(HYPS, streams(refs))
                lines.append({
                    "name": f"{metric}_{i}_{refs_name}", "metric": metric, "spec": spec,
                    "predictions": HYPS, "references": refs,
                    "expected": {"score": score.score, "signature": str(m.get_signature())},
                    "source": f"sacrebleu {version} {type(m).__name__}({kw}).corpus_score"})
    return lines


# ---- rouge-score, restated (rouge/tokenize.py, rouge/rouge_scorer.py, rouge/scoring.py) ----

def tokenize(text, stemmer):
    text = text.lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    tokens = re.split(r"\s+", text)
    if stemmer:
        tokens = [stemmer.stem(x) if len(x) > 3 else x for x in tokens]
    return [x for x in tokens if re.match(r"^[a-z0-9]+$", x)]


def fmeasure(precision, recall):
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def _create_ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def _score_ngrams(target_ngrams, prediction_ngrams):
    overlap = sum(min(c, prediction_ngrams[g]) for g, c in target_ngrams.items())
    p = overlap / max(sum(prediction_ngrams.values()), 1)
    r = overlap / max(sum(target_ngrams.values()), 1)
    return (p, r, fmeasure(p, r))


def _lcs_table(ref, can):
    t = [[0] * (len(can) + 1) for _ in range(len(ref) + 1)]
    for i in range(1, len(ref) + 1):
        for j in range(1, len(can) + 1):
            if ref[i - 1] == can[j - 1]:
                t[i][j] = t[i - 1][j - 1] + 1
            else:
                t[i][j] = max(t[i - 1][j], t[i][j - 1])
    return t


def _score_lcs(target, prediction):
    if not target or not prediction:
        return (0, 0, 0)
    lcs = _lcs_table(target, prediction)[-1][-1]
    p, r = lcs / len(prediction), lcs / len(target)
    return (p, r, fmeasure(p, r))


def _backtrack_norec(t, ref, can):
    i, j, lcs = len(ref), len(can), []
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            lcs.insert(0, i - 1)
            i -= 1
            j -= 1
        elif t[i][j - 1] > t[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return lcs


def _union_lcs(ref, c_list):
    lcs_list = [_backtrack_norec(_lcs_table(ref, c), ref, c) for c in c_list]
    return [ref[i] for i in sorted(set().union(*lcs_list))]


def _summary_level_lcs(ref_sent, can_sent):
    if not ref_sent or not can_sent:
        return (0, 0, 0)
    m = sum(map(len, ref_sent))
    n = sum(map(len, can_sent))
    if not n or not m:
        return (0, 0, 0)
    cnt_r, cnt_c = collections.Counter(), collections.Counter()
    for s in ref_sent:
        cnt_r.update(s)
    for s in can_sent:
        cnt_c.update(s)
    hits = 0
    for r in ref_sent:
        for t in _union_lcs(r, can_sent):
            if cnt_c[t] > 0 and cnt_r[t] > 0:
                hits += 1
                cnt_c[t] -= 1
                cnt_r[t] -= 1
    p, r = hits / n, hits / m
    return (p, r, fmeasure(p, r))


def rouge_score(rouge_type, target, prediction, stemmer):
    if rouge_type == "rougeLsum":
        def get_sents(text):
            return [x for x in text.split("\n") if len(x)]
        return _summary_level_lcs([tokenize(s, stemmer) for s in get_sents(target)],
                                  [tokenize(s, stemmer) for s in get_sents(prediction)])
    t, p = tokenize(target, stemmer), tokenize(prediction, stemmer)
    if rouge_type == "rougeL":
        return _score_lcs(t, p)
    n = int(rouge_type[5:])
    return _score_ngrams(_create_ngrams(t, n), _create_ngrams(p, n))


def score_multi(rouge_type, targets, prediction, stemmer):
    scores = [rouge_score(rouge_type, t, prediction, stemmer) for t in targets]
    best = 0  # numpy.argmax over the F-measures: the first maximum
    for i, s in enumerate(scores):
        if s[2] > scores[best][2]:
            best = i
    return scores[best]


ROUGE_PREDICTIONS = [
    "The runners were running quickly.\nThey generalized their findings.",
    "police killed the gunman\npolice kill the gunman",
    "Happiness and happily happy people\n\ncaresses ponies cats",
    "the cat was found under the bed\nthe cat sat",
    "",
    "Relational conditional rationalization of digitizers.",
    "one two three\nfour five six\nseven",
    "The QUICK brown fox jumped over lazy dogs repeatedly\nfoxes jump",
]
ROUGE_TARGETS = [
    ["A runner runs quickly.\nThe findings were generalizations.", "runners run"],
    ["the gunman was killed by police\ngunman police killed"],
    ["happy people are happier\ncaress pony cat"],
    ["the cat was under the bed", "the cat sat\nunder the bed the cat was found"],
    ["anything"],
    ["relate condition rational digitize"],
    ["seven six five\nfour three\ntwo one"],
    ["the quick brown foxes jump over the lazy dog\nrepeated jumping"],
]


def rouge_lines():
    lines = []
    for rouge_type in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        for use_stemmer in (False, True):
            stemmer = porter.PorterStemmer() if use_stemmer else None
            scores = [score_multi(rouge_type, t, p, stemmer)
                      for p, t in zip(ROUGE_PREDICTIONS, ROUGE_TARGETS)]
            f = [s[2] for s in scores]
            lines.append({
                "name": f"{rouge_type}_stem_{'yes' if use_stemmer else 'no'}",
                "metric": rouge_type, "spec": {"use_stemmer": True} if use_stemmer else {},
                "predictions": ROUGE_PREDICTIONS, "references": ROUGE_TARGETS,
                "expected": {"precision": [s[0] for s in scores], "recall": [s[1] for s in scores],
                             "fmeasure": f, "mean_fmeasure": sum(f) / len(f)},
                "source": "rouge-score RougeScorer.score_multi restated; nltk 3.8 PorterStemmer"})
    return lines


PORTER_WORDS = """
caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized
hopping tanned falling hissing fizzed failing filing happy sky relational conditional rational
valenci hesitanci digitizer conformabli radicalli differentli vileli analogousli vietnamization
predication operator feudalism decisiveness hopefulness callousness formaliti sensitiviti
sensibiliti triplicate formative formalize electriciti electrical hopeful goodness revival
allowance inference airliner gyroscopic adjustable defensible irritant replacement adjustment
dependent adoption homologou communism activate angulariti homologous effective bowdlerize probate
rate cease controll roll generalizations running runs runner runners happiness happily dying lying
tying news innings inning outings outing cannings canning howe proceed exceed succeed skies flies
dies spied died tied cried enjoy enjoyment spy fly try tried apology geology theology archaeology
fully tionally fulli logi logic analogies abli alli entli ousli bli ization ational tional anci
enci izer ator alism iveness fulness ousness aliti iviti biliti icate ative alize iciti ical ness
ement ment ent ion sion tion ism ate iti ous ive ize ance ence able ible ant ll eed ied ies sses ing
ed at bl iz ying oed aed ied eyed played playing player players saying says said abbey abbeys
yelled yelling yellowing quizzed buzzing fuzzy dizziness really generally finally possibly
capabilities responsibilities national nationalities nationalization international
conditionally additionally traditionally rationally hopelessly carelessly thoughtfully meaningful
meaningfulness usefulness awareness consciousness kindness witness business happiness emptiness
seas sea ease easy easily agreement disagreement ponying toying annoying buying saying destroying
hoping hopped hoped tapping taping filling filing fizzing missing kissing pulling bulling rolling
oiled boiled mailed e2e abc123 3d 1990s covid19 x11 mp3s b2b4 aaa eee yyyy xyz wow box tray snow
""".split()


# Roots times suffixes: every rule meets many stems of different measures.
PORTER_ROOTS = """connect generaliz happ run hop relat condition digit sens form electr hope good nation
analog adjust depend fall fil control agre tri fly bak plan stud quiz buzz sky oper feud""".split()
PORTER_SUFFIXES = """- s es ed ing er ers ly ness ful fully ation ations ational ize izes ized ization ism ist
ity ities ive iveness able ably ible ement ment ent ence ance ant al ally ical ic ous ously ousness
bli logi alli""".split()


def porter_lines():
    stemmer = porter.PorterStemmer()
    synthetic = [r + ("" if s == "-" else s) for r in PORTER_ROOTS for s in PORTER_SUFFIXES]
    words = sorted(set(w for w in PORTER_WORDS + synthetic if len(w) > 3))
    return [{"name": "nltk_porter_nltk_extensions", "words": words,
             "stems": [stemmer.stem(w) for w in words],
             "source": "nltk 3.8 PorterStemmer() (NLTK_EXTENSIONS), Debian python3-nltk"}]


def write(name, lines):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sacrebleu-src", required=True)
    args = parser.parse_args()
    write("sacrebleu_options.jsonl", sacrebleu_lines(args.sacrebleu_src))
    write("tokenize_intl.jsonl",
          intl_lines(args.sacrebleu_src, os.path.join(OUT, "tokenize_13a.jsonl")))
    write("rouge_options.jsonl", rouge_lines())
    write("porter.jsonl", porter_lines())


if __name__ == "__main__":
    main()
