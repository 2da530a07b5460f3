"""In-memory inputs: records (a list or iterable of dicts, or a pandas DataFrame) where a job
names a JSONL file, serialized once to canonical JSONL.

Canonical JSONL (so identical data gives identical bytes, hence the same sha256, and a second
evaluation of the same data is found in the coordinator's score cache):

- one record per line, each line ending in "\\n", UTF-8 (characters as themselves, no \\u escapes
  except the control characters JSON requires escaped), no byte order mark;
- object keys sorted (by code point), at every depth; separators "," and ":" with no spaces;
- integers as their decimal digits; floats as Python's `repr` (the shortest text that reads back
  as the same double: 0.1, 1.0, 1e-07, 1e+16); true, false, null; NaN and infinities are errors;
- tuples and numpy arrays as arrays, numpy scalars as the Python numbers they hold;
- from a DataFrame, one record per row (the index is not part of it), a missing cell (NaN, None,
  NaT, pd.NA) leaves its column out of that row's record.

Keys must be strings; any other value (a date, a set, an object) is an error naming the job-spec
field, the record (numbered from 1, as the lines of the file it becomes) and the key.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from .errors import InvalidArgument

__all__ = ["canonical_jsonl", "is_in_memory", "split_in_memory", "MEMORY_PREFIX"]

# The spec path an in-memory input gets: "memory:" and its field, e.g.
# "memory:candidates[0].target_outputs". Reports (provenance) and errors name it.
MEMORY_PREFIX = "memory:"

# One encoder: json.dumps with arguments builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                            allow_nan=False)
_DATASETS = ("target", "benchmark")
_DATASET_LISTS = ("targets", "benchmarks")
_MODEL_OUTPUTS = ("target_outputs", "benchmark_outputs")


def is_in_memory(value: Any) -> bool:
    """Whether a job's path field holds records instead of a path (or of a reference:
    `{"uri": ..., "sha256": ..., "size": ...}`, which the coordinator reads)."""
    if isinstance(value, Mapping) and "uri" in value:
        return False
    return value is not None and not isinstance(value, (str, bytes, os.PathLike))


def _is_dataframe(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "pandas" and hasattr(value, "to_dict")


def _missing_cell() -> Callable[[Any], bool]:
    """Whether a DataFrame's cell is empty: None, NaN, NaT or pd.NA (no per-cell pandas call:
    pandas.isna costs microseconds a cell)."""
    import pandas
    nulls = (pandas.NA, pandas.NaT)

    def missing(value: Any) -> bool:
        return value is None or (isinstance(value, float) and value != value) or any(
            value is n for n in nulls)
    return missing


def _plain_already(value: Any) -> bool:
    """Whether json.dumps writes `value` canonically as it is: only str, int, bool, None,
    finite floats, lists, tuples and dicts with string keys of those (the common case, checked
    without copying; anything else goes through _plain)."""
    t = type(value)
    if t is str or t is int or t is bool or value is None:
        return True
    if t is float:
        return math.isfinite(value)
    if t is dict:
        return all(type(k) is str and _plain_already(v) for k, v in value.items())
    if t is list or t is tuple:
        return all(_plain_already(v) for v in value)
    return False


class _Where:
    def __init__(self, field: str, record: int) -> None:
        self.field = field
        self.record = record

    def error(self, key: str, why: str) -> InvalidArgument:
        at = f", key '{key}'" if key else ""
        return InvalidArgument(f"job spec field '{self.field}': record {self.record}{at}: {why}")


def _plain(value: Any, where: _Where, key: str) -> Any:
    """`value` as the JSON types json.dumps writes canonically."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)  # an IntEnum or bool subclass as the plain number
    if isinstance(value, float):
        if not math.isfinite(value):
            raise where.error(key, f"{value} is not a JSON number")
        return float(value)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise where.error(f"{key}.{k}" if key else str(k),
                                  f"keys must be strings, not {type(k).__name__}")
            out[k] = _plain(v, where, f"{key}.{k}" if key else k)
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(v, where, f"{key}.{i}") for i, v in enumerate(value)]
    module = type(value).__module__.split(".")[0]
    if module == "numpy" and hasattr(value, "tolist"):  # a numpy scalar or array
        return _plain(value.tolist(), where, key)
    raise where.error(key, f"a {type(value).__name__} is not JSON (use strings, numbers, "
                           "booleans, null, lists and dicts)")


def _records(value: Any, field: str) -> Iterable[Any]:
    """Every record of an in-memory input."""
    if _is_dataframe(value):
        rows: List[Any] = value.to_dict(orient="records")
        return rows
    if isinstance(value, Mapping):
        raise InvalidArgument(f"job spec field '{field}': a single dict: give a list of records "
                              "(dicts), an iterable of them or a pandas DataFrame")
    try:
        iterator: Iterator[Any] = iter(value)
    except TypeError:
        raise InvalidArgument(f"job spec field '{field}': expected a path, a list or iterable of "
                              f"records (dicts) or a pandas DataFrame, not "
                              f"{type(value).__name__}") from None
    return iterator


def canonical_jsonl(value: Any, field: str,
                    tick: Optional[Callable[[int], None]] = None) -> bytes:
    """The records of `value` (a list or iterable of dicts, or a DataFrame) as canonical JSONL
    (this module's docstring). `tick(records_so_far)` is called after every record (the caller's
    deadline check: records may come from a slow iterator). InvalidArgument naming `field` and
    the record on bad data."""
    lines: List[str] = []
    missing = _missing_cell() if _is_dataframe(value) else None
    for n, row in enumerate(_records(value, field), 1):
        if missing is not None:
            row = {k: v for k, v in row.items() if not missing(v)}
        if type(row) is dict and _plain_already(row):
            record = row
        elif not isinstance(row, Mapping):
            raise _Where(field, n).error("", "a record is a dict (a JSON object), not "
                                             f"{type(row).__name__}")
        else:
            record = _plain(row, _Where(field, n), "")
        try:
            lines.append(_ENCODER.encode(record))
        except (TypeError, ValueError) as e:  # pragma: no cover - _plain admits JSON only
            raise _Where(field, n).error("", str(e)) from None
        if tick is not None:
            tick(n)
    if not lines:
        raise InvalidArgument(f"job spec field '{field}': no records (an input needs at least "
                              "one)")
    text = "\n".join(lines) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as e:
        line = text.count("\n", 0, e.start) + 1
        why = "a string is not valid Unicode (a lone surrogate)"
        raise _Where(field, line).error("", why) from None


def split_in_memory(job: Mapping[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Tuple[str, Any]]]:
    """(job with every in-memory input replaced by its spec path "memory:FIELD", {spec path:
    (field, records)}). The caller's dict is not changed. Paths are where job files have them:
    `references` of target, benchmark, targets[], benchmarks[]; `target_outputs`,
    `benchmark_outputs` and the values of `outputs` of base and candidates[]."""
    found: Dict[str, Tuple[str, Any]] = {}
    out = dict(job)

    def replace(holder: Any, key: str, field: str) -> Any:
        if not isinstance(holder, Mapping) or not is_in_memory(holder.get(key)):
            return holder
        copy = dict(holder)
        name = MEMORY_PREFIX + field
        found[name] = (field, holder[key])
        copy[key] = name
        return copy

    def model(m: Any, name: str) -> Any:
        for key in _MODEL_OUTPUTS:
            m = replace(m, key, f"{name}.{key}")
        if isinstance(m, Mapping) and isinstance(m.get("outputs"), Mapping):
            outputs = m["outputs"]
            for dataset in list(outputs):
                outputs = replace(outputs, dataset, f"{name}.outputs[{dataset}]")
            if outputs is not m["outputs"]:
                m = {**m, "outputs": outputs}
        return m

    for key in _DATASETS:
        if key in out:
            out[key] = replace(out[key], "references", f"{key}.references")
    for key in _DATASET_LISTS:
        if isinstance(out.get(key), (list, tuple)):
            out[key] = [replace(d, "references", f"{key}[{i}].references")
                        for i, d in enumerate(out[key])]
    if "base" in out:
        out["base"] = model(out["base"], "base")
    if isinstance(out.get("candidates"), (list, tuple)):
        out["candidates"] = [model(c, f"candidates[{i}]") for i, c in enumerate(out["candidates"])]
    return out, found
