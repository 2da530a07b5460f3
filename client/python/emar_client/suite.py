"""A suite report's per-dataset results, from a report: the typed `Report` that `evaluate` and
`report` return, or its dict (`Report.to_dict()`, `emarctl --format json` shape).

Every candidate of a report lists `datasets`: one entry per (dataset, metric) of the job, targets
first, each {"dataset", "metric", "role", "weight", "primary", "n", "base", "candidate", "delta",
...} with Estimates ("value", "ci_low", "ci_high", "p_value", "p_value_holm", ...). A job of one
target and one benchmark has two entries. These helpers pick them out:

    for d in emar_client.dataset_results(report, "lora-r16", role="benchmark", primary=True):
        print(d["dataset"], d["delta"]["value"], d["delta"].get("p_value_holm"))
    mmlu = emar_client.dataset_result(report, "lora-r16", "mmlu")      # its primary metric
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Union, cast

from .errors import NotFound

__all__ = ["dataset_results", "dataset_result"]


ReportLike = Union[Mapping[str, Any], Any]  # a dict, or a typed Report (anything with to_dict())


def _as_dict(report: ReportLike) -> Mapping[str, Any]:
    to_dict = getattr(report, "to_dict", None)
    return cast(Mapping[str, Any], to_dict() if callable(to_dict) else report)


def _candidate(report: ReportLike, candidate: str) -> Mapping[str, Any]:
    candidates = _as_dict(report).get("candidates", [])
    for c in candidates:
        if c.get("name") == candidate:
            return cast(Mapping[str, Any], c)
    names = ", ".join(c.get("name", "") for c in candidates)
    raise NotFound(f"the report has no candidate '{candidate}' (its candidates: {names})")


def dataset_results(report: ReportLike, candidate: str, role: Optional[str] = None,
                    primary: Optional[bool] = None) -> List[Dict[str, Any]]:
    """The candidate's (dataset, metric) entries in report order, optionally only those of `role`
    ("target" or "benchmark") and only primary (True) or secondary (False) metrics."""
    out = []
    for d in _candidate(report, candidate).get("datasets", []):
        if role is not None and d.get("role") != role:
            continue
        if primary is not None and bool(d.get("primary", False)) != primary:
            continue
        out.append(dict(d))
    return out


def dataset_result(report: ReportLike, candidate: str, dataset: str,
                   metric: Optional[str] = None) -> Dict[str, Any]:
    """One dataset's entry for the candidate: its primary metric's, or `metric`'s. NotFound
    naming what the report holds when there is none."""
    entries = [d for d in dataset_results(report, candidate) if d.get("dataset") == dataset]
    for d in entries:
        if (metric is None and d.get("primary", False)) or d.get("metric") == metric:
            return d
    held = ", ".join(f"{d.get('dataset')}/{d.get('metric')}"
                     for d in dataset_results(report, candidate))
    what = dataset if metric is None else f"{dataset}/{metric}"
    raise NotFound(f"candidate '{candidate}' has no result for {what} (it has: {held})")
