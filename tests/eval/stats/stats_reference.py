"""Reference figures for tests/eval/stats/stats_reference_test.cc, from statsmodels, scipy and
numpy (Debian's python3-statsmodels, python3-numpy), run with /usr/bin/python3.

  stats_reference.py power
      prints one case per line, "kind key=value ...": normal quantiles (scipy), Wilson intervals
      (statsmodels proportion_confint method="wilson"), minimum detectable effects from a
      standard error (statsmodels NormalIndPower, one-sample), McNemar items and MDE (statsmodels
      normal_sample_size_one_tail and normal_power_het with std_null = sqrt(psi),
      std_alternative = sqrt(psi - delta^2)), binary plans, and Newcombe's (1998, method 10)
      paired-difference interval, written out here from statsmodels' Wilson intervals, and
      Holm's (1979) step-down adjustment (statsmodels multipletests method="holm").
  stats_reference.py cluster REFERENCES OUTPUTS RESAMPLES SEED CONFIDENCE INDICES_OUT
      a numpy cluster bootstrap of accuracy over several samples per item: items are resampled
      with replacement, a resample's score is the mean over all samples of the picked items.
      Prints "cluster low=... high=..." and "naive low=... high=..." (samples resampled one by
      one, which ignores the clustering), and writes the cluster resamples' item indices, one
      resample per line, to INDICES_OUT.
"""
import json
import math
import sys

import numpy as np
from scipy import optimize, stats
from statsmodels.stats import power as smp
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint


def emit(kind, **values):
    print(kind, " ".join(f"{k}={float(v)!r}" for k, v in values.items()))


def one_tail_alpha(alpha, sides):
    return alpha / 2 if sides == 2 else alpha


def power_cases():
    for p in (1e-12, 1e-6, 0.001, 0.025, 0.2, 0.5, 0.8, 0.9, 0.975, 0.99, 0.999999):
        emit("quantile", p=p, z=stats.norm.ppf(p))
    for s, n, conf in ((0, 10, 0.95), (3, 10, 0.95), (10, 10, 0.95), (42, 50, 0.95),
                       (17, 99, 0.9), (500, 1000, 0.99), (1, 3, 0.8), (73, 80, 0.95)):
        low, high = proportion_confint(s, n, alpha=1 - conf, method="wilson")
        emit("wilson", s=s, n=n, conf=conf, low=low, high=high)
    for se, alpha, pw, sides in ((0.01, 0.05, 0.8, 2), (0.01, 0.05, 0.8, 1),
                                 (0.004, 0.01, 0.9, 2), (0.02, 0.025, 0.8, 1)):
        alt = "two-sided" if sides == 2 else "larger"
        d = smp.NormalIndPower().solve_power(effect_size=None, nobs1=1, alpha=alpha, power=pw,
                                             ratio=0, alternative=alt)
        emit("mde_se", se=se, alpha=alpha, power=pw, sides=sides, mde=d * se)
    for psi, delta, alpha, pw, sides in ((0.4, 0.05, 0.05, 0.8, 2), (0.1, 0.02, 0.05, 0.8, 2),
                                         (0.1, 0.02, 0.05, 0.8, 1), (0.25, -0.03, 0.01, 0.9, 2),
                                         (0.06, 0.05, 0.05, 0.8, 2)):
        n = smp.normal_sample_size_one_tail(abs(delta), pw, one_tail_alpha(alpha, sides),
                                            std_null=math.sqrt(psi),
                                            std_alternative=math.sqrt(psi - delta * delta))
        emit("mcnemar_items", psi=psi, delta=delta, alpha=alpha, power=pw, sides=sides, items=n)
    for psi, n, alpha, pw, sides in ((0.12, 2000, 0.05, 0.8, 2), (0.3, 500, 0.05, 0.8, 1),
                                     (0.05, 10000, 0.01, 0.9, 2), (0.5, 50, 0.05, 0.8, 2)):
        a = one_tail_alpha(alpha, sides)

        def shortfall(d):
            return smp.normal_power_het(d, n, a, std_null=math.sqrt(psi),
                                        std_alternative=math.sqrt(psi - d * d),
                                        alternative="larger") - pw

        mde = optimize.brentq(shortfall, 1e-9, math.sqrt(psi) - 1e-12, xtol=1e-15, rtol=1e-15)
        emit("mcnemar_mde", psi=psi, n=n, alpha=alpha, power=pw, sides=sides, mde=mde)
    for p0, margin, alpha, pw, sides in ((0.7, 0.05, 0.05, 0.8, 2), (0.9, 0.02, 0.05, 0.8, 1),
                                         (0.5, -0.1, 0.05, 0.9, 2)):
        p1 = p0 + margin
        psi = p0 * (1 - p1) + p1 * (1 - p0)
        n = smp.normal_sample_size_one_tail(abs(margin), pw, one_tail_alpha(alpha, sides),
                                            std_null=math.sqrt(psi),
                                            std_alternative=math.sqrt(psi - margin * margin))
        emit("plan", baseline=p0, margin=margin, alpha=alpha, power=pw, sides=sides,
             items=math.ceil(n - 1e-9 * n))
    newcombe_cases()
    holm_cases()


def holm_cases():
    """Holm's step-down adjustment (statsmodels multipletests method="holm"): p0.. in, a0.. out."""
    for ps in ((0.01, 0.04, 0.03, 0.005), (0.6, 0.5), (0.001, 0.001, 0.2, 0.04, 0.9, 0.013),
               (0.02, 0.02, 0.02), (1e-9, 0.5, 0.049, 0.051, 0.3, 0.7, 0.012, 0.0004)):
        adjusted = multipletests(ps, method="holm")[1]
        emit("holm", **{f"p{i}": p for i, p in enumerate(ps)},
             **{f"a{i}": a for i, a in enumerate(adjusted)})


def newcombe_cases():
    for a, b, c, d, conf in ((12, 5, 1, 2, 0.95), (40, 3, 9, 8, 0.95), (50, 0, 0, 0, 0.95),
                             (0, 2, 5, 13, 0.9), (30, 10, 10, 30, 0.99), (5, 0, 4, 1, 0.95)):
        n = a + b + c + d
        p1, p2 = (a + c) / n, (a + b) / n
        l1, u1 = proportion_confint(a + c, n, alpha=1 - conf, method="wilson")
        l2, u2 = proportion_confint(a + b, n, alpha=1 - conf, method="wilson")
        denom = (a + b) * (c + d) * (a + c) * (b + d)
        phi = (a * d - b * c) / math.sqrt(denom) if denom > 0 else 0.0
        low = p1 - p2 - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
                                      + (u2 - p2) ** 2))
        high = p1 - p2 + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
                                       + (p2 - l2) ** 2))
        emit("newcombe", a=a, b=b, c=c, d=d, conf=conf, low=low, high=high)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def percentile_bounds(values, confidence):
    s = np.sort(values)
    b = len(s)
    k = int(math.floor(b * (1 - confidence) / 2 + 1e-9))
    return s[k], s[b - 1 - k]


def cluster(references, outputs, resamples, seed, confidence, indices_out):
    refs = read_jsonl(references)
    row = {str(r["id"]): i for i, r in enumerate(refs)}
    per_item = [dict() for _ in refs]
    for o in read_jsonl(outputs):
        i = row[str(o["id"])]
        per_item[i][int(o["sample"])] = float(
            str(o["prediction"]).strip() == str(refs[i]["reference"]).strip())
    samples = np.array([[d[s] for s in sorted(d)] for d in per_item])  # items x k
    n, k = samples.shape
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    cluster_scores = samples[idx].reshape(resamples, n * k).mean(axis=1)
    flat = samples.reshape(-1)
    naive_idx = rng.integers(0, n * k, size=(resamples, n * k))
    naive_scores = flat[naive_idx].mean(axis=1)
    np.savetxt(indices_out, idx, fmt="%d")
    low, high = percentile_bounds(cluster_scores, confidence)
    emit("cluster", low=low, high=high)
    low, high = percentile_bounds(naive_scores, confidence)
    emit("naive", low=low, high=high)


if __name__ == "__main__":
    if sys.argv[1:2] == ["power"]:
        power_cases()
    elif sys.argv[1:2] == ["cluster"] and len(sys.argv) == 8:
        cluster(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]),
                float(sys.argv[6]), sys.argv[7])
    else:
        sys.exit(__doc__)
