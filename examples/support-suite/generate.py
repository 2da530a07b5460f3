#!/usr/bin/env python3
"""Generates the support-suite example: one target and six benchmarks in one job.

A model fine-tuned to route support tickets (the target, scored by accuracy and macro-F1) is
checked for forgetting on six benchmarks, each with the metrics its field uses:

    general-qa   exact_match, token_f1          (SQuAD-style short answers)
    news-de-en   bleu {tokenize: intl}, chrF++  (translations, one reference each)
    summaries    rougeL, rougeLsum + stemmer    (newline-separated summary sentences)
    arc-mini     mc_acc, mc_acc_norm            (lm-evaluation-harness multiple-choice samples)
    mmlu-mini    exact_match, sliced by subject (MMLU-style questions in six subjects)
    helpfulness  score: an LLM judge's 1-5 grade of each of 3 sampled answers per prompt, with no
                 references file (the ids come from the base outputs)

The judge data is drawn from a model of how such grades vary: each prompt has its own
difficulty (shared by both models: base and fine-tune stay paired by item), each model its own
affinity for the prompt, and each sampled answer its own noise, rounded to a grade and clipped
to 1-5. The intra-prompt correlation is what makes the cluster bootstrap (over prompts) wider
than a bootstrap over single answers.

Fixed seed, standard library only, so the committed files regenerate byte for byte:

    python3 examples/support-suite/generate.py
"""
import json
import os
import random

SEED = 20261207
HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = {"base": 0, "lora-r16": 1}

QUEUES = ["billing", "shipping", "returns", "account"]
TICKET_WORDS = {
    "billing": ["invoice", "charged twice", "refund of the fee", "payment failed"],
    "shipping": ["parcel", "tracking number", "courier", "delivery date"],
    "returns": ["send it back", "return label", "wrong size", "exchange"],
    "account": ["password", "log in", "email address", "two-factor code"],
}
QA = [
    ("What is the capital of Japan?", ["Tokyo"]),
    ("Who wrote War and Peace?", ["Leo Tolstoy", "Tolstoy"]),
    ("What is the largest planet?", ["Jupiter"]),
    ("How many legs does a spider have?", ["eight", "8"]),
    ("Which element has the symbol Fe?", ["iron"]),
    ("What is the longest river in Africa?", ["the Nile", "Nile"]),
    ("Who discovered penicillin?", ["Alexander Fleming", "Fleming"]),
    ("What is the freezing point of water in Fahrenheit?", ["32", "32 degrees"]),
]
QA_WRONG = ["Kyoto", "Dostoevsky", "Saturn", "six", "copper", "the Congo", "Pasteur", "0"]
SUBJECTS = ["the council", "a local bakery", "the new tram line", "the museum", "our team"]
VERBS = ["opened", "announced", "rebuilt", "closed", "celebrated"]
OBJECTS = ["a small library", "its winter market", "the old bridge", "a free concert", "new plans"]
WHEN = ["on Monday", "last week", "this morning", "after a long debate", "in the spring"]
CHOICES = [["sunlight", "soil", "water vapour", "wind"],
           ["a magnet", "a rubber band", "an ice cube", "a mirror"],
           ["evaporation", "erosion", "condensation", "melting"]]


def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def tickets(rng, n):
    refs, outs = [], {m: [] for m in MODELS}
    for i in range(n):
        queue = rng.choice(QUEUES)
        refs.append({"id": f"t{i}", "text": f"My {rng.choice(TICKET_WORDS[queue])} ...",
                     "reference": queue})
        for model, skill in MODELS.items():
            right = rng.random() < (0.72 if skill == 0 else 0.88)
            guess = queue if right else rng.choice([q for q in QUEUES if q != queue])
            outs[model].append({"id": f"t{i}", "prediction": guess})
    return refs, outs


def general_qa(rng, n):
    refs, outs = [], {m: [] for m in MODELS}
    for i in range(n):
        k = rng.randrange(len(QA))
        question, answers = QA[k]
        refs.append({"id": f"q{i}", "question": question, "references": answers})
        for model, skill in MODELS.items():
            right = rng.random() < (0.78 if skill == 0 else 0.76)
            answer = rng.choice(answers) if right else QA_WRONG[k]
            if right and rng.random() < 0.3:
                answer = answer.lower() + "."
            if not right and rng.random() < 0.3:
                answer = f"{QA_WRONG[k]} or {answers[0]}"  # partial credit for token_f1
            outs[model].append({"id": f"q{i}", "prediction": answer})
    return refs, outs


def sentence(rng):
    return (f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"{rng.choice(WHEN)}.")


def degrade(rng, text, keep):
    """Drops or swaps words with probability 1 - keep."""
    words = text.split(" ")
    out = []
    for w in words:
        r = rng.random()
        if r < keep:
            out.append(w)
        elif r < keep + (1 - keep) / 2:
            out.append(rng.choice(["the", "a", "some", "its", "new"]))
    return " ".join(out) if out else words[0]


def translations(rng, n):
    refs, outs = [], {m: [] for m in MODELS}
    for i in range(n):
        ref = sentence(rng)
        refs.append({"id": f"s{i}", "reference": ref})
        for model, skill in MODELS.items():
            outs[model].append({"id": f"s{i}",
                                "prediction": degrade(rng, ref, 0.8 if skill == 0 else 0.79)})
    return refs, outs


def summaries(rng, n):
    refs, outs = [], {m: [] for m in MODELS}
    for i in range(n):
        ref = "\n".join(sentence(rng) for _ in range(3))
        refs.append({"id": f"d{i}", "reference": ref})
        for model, skill in MODELS.items():
            lines = [degrade(rng, s, 0.75 if skill == 0 else 0.76) for s in ref.split("\n")]
            outs[model].append({"id": f"d{i}", "prediction": "\n".join(lines[:2 + i % 2])})
    return refs, outs


def arc_samples(rng, golds, model):
    """samples_arc-mini_*.jsonl lines as lm-evaluation-harness 0.4 writes them."""
    rows = []
    for i, gold in enumerate(golds):
        choices = CHOICES[i % len(CHOICES)]
        right = rng.random() < (0.70 if MODELS[model] == 0 else 0.69)
        best = gold if right else (gold + 1 + rng.randrange(len(choices) - 1)) % len(choices)
        lls = [-round(rng.uniform(4.0, 12.0), 4) for _ in choices]
        lls[best] = round(max(lls) + rng.uniform(0.1, 2.0), 4)
        rows.append({
            "doc_id": i,
            "doc": {"question": f"Question {i}?", "choices": {"text": choices}},
            "target": str(gold),
            "arguments": {f"gen_args_{k}": {"arg_0": f"Question: Question {i}?\nAnswer:",
                                            "arg_1": " " + c} for k, c in enumerate(choices)},
            "resps": [[[str(ll), str(k == best)]] for k, ll in enumerate(lls)],
            "filtered_resps": [[str(ll), str(k == best)] for k, ll in enumerate(lls)],
        })
    return rows


SUBJECT_SKILL = {  # subject: (base exact match, share the fine-tune forgets, share it learns)
    "anatomy": (0.62, 0.05, 0.05), "astronomy": (0.70, 0.03, 0.04),
    "economics": (0.58, 0.04, 0.05), "law": (0.56, 0.16, 0.02),
    "math": (0.48, 0.03, 0.10), "virology": (0.64, 0.05, 0.04)}


def mmlu(rng, per_subject):
    """MMLU-style questions with a `subject` to slice by; right and wrong paired per question."""
    refs, outs = [], {m: [] for m in MODELS}
    for subject, (p0, forget, learn) in SUBJECT_SKILL.items():
        for i in range(per_subject):
            qid = f"m-{subject[:4]}-{i}"
            answer = f"{'ABCD'[rng.randrange(4)]}"
            refs.append({"id": qid, "subject": subject, "question": f"{subject} question {i}?",
                         "references": [answer]})
            right0 = rng.random() < p0
            u = rng.random()
            right1 = (right0 and u >= forget / p0) or (not right0 and u < learn / (1 - p0))
            wrong = "ABCD"[("ABCD".index(answer) + 1 + rng.randrange(3)) % 4]
            outs["base"].append({"id": qid, "prediction": answer if right0 else wrong})
            outs["lora-r16"].append({"id": qid, "prediction": answer if right1 else wrong})
    return refs, outs


PROMPTS = ["reset my router", "cancel an order", "change my delivery address",
           "get a copy of my invoice", "update my card", "return a gift",
           "merge two accounts", "turn off email alerts"]
# What an answer of each grade reads like (the judge's 1-5 helpfulness scale).
ANSWERS = {1: "Please contact support.", 2: "You can do that in your account.",
           3: "Open Settings and look for the option to {p}.",
           4: "Open Settings > Account, choose the option to {p} and confirm.",
           5: "Open Settings > Account, choose the option to {p}, confirm, then check your email."}


def helpfulness(rng, prompts, samples):
    """Judge grades: 3 sampled answers per prompt and model, graded 1-5 each."""
    outs = {m: [] for m in MODELS}
    level = {"base": 3.3, "lora-r16": 3.2}  # the fine-tune answers a little more tersely
    for i in range(prompts):
        task = PROMPTS[i % len(PROMPTS)]
        difficulty = rng.gauss(0, 0.8)  # shared by both models: the pairing
        for model in MODELS:
            affinity = rng.gauss(0, 0.4)  # this model on this prompt
            for s in range(samples):
                grade = min(5, max(1, round(level[model] + difficulty + affinity +
                                            rng.gauss(0, 0.7))))
                outs[model].append({"id": f"h{i}", "sample": s,
                                    "prediction": ANSWERS[grade].format(p=task), "grade": grade})
    return outs


def main():
    rng = random.Random(SEED)
    for name, make, n in [("tickets", tickets, 400), ("general-qa", general_qa, 300),
                          ("news-de-en", translations, 200), ("summaries", summaries, 150)]:
        refs, outs = make(rng, n)
        write_jsonl(os.path.join(HERE, "data", f"{name}.jsonl"), refs)
        for model, rows in outs.items():
            write_jsonl(os.path.join(HERE, "out", model, f"{name}.jsonl"), rows)
    golds = [rng.randrange(len(CHOICES[i % len(CHOICES)])) for i in range(240)]
    for model in MODELS:
        write_jsonl(os.path.join(HERE, "out", model, "samples_arc-mini.jsonl"),
                    arc_samples(rng, golds, model))
    # The sliced and the judged benchmarks draw from their own generator, so adding them left
    # the files above as they were.
    rng = random.Random(SEED + 1)
    refs, outs = mmlu(rng, 40)
    write_jsonl(os.path.join(HERE, "data", "mmlu-mini.jsonl"), refs)
    for model, rows in outs.items():
        write_jsonl(os.path.join(HERE, "out", model, "mmlu-mini.jsonl"), rows)
    for model, rows in helpfulness(rng, 120, 3).items():
        write_jsonl(os.path.join(HERE, "out", model, "helpfulness.jsonl"), rows)


if __name__ == "__main__":
    main()
