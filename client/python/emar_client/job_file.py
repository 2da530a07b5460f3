"""Job files (YAML or JSON) and job dicts -> emar.v1.JobSpec and the local files to upload.

The same rules as emarctl (client/job_file.cc): the document is the proto JSON mapping of
emar.v1.JobSpec with snake_case names, unknown fields are errors, and input paths are relative to
the job file's directory (for a dict: to `base_dir`, by default the current directory). Defaults
(formula, bootstrap) are the coordinator's, so a spec is sent as written.

YAML scalars are read as emarctl reads them (YAML 1.2 core): a plain `true`/`false` is a boolean,
`null`/`~`/nothing is null, a plain number is a number, everything else (`yes`, `on`, dates,
quoted scalars) is a string.

Inputs by reference (docs/inputs.md): wherever a path goes, `{uri: "https://..." or
"file:///...", sha256: ..., size: ...}` names an input the coordinator reads itself; the spec
keeps the URI in the path field and the stated content in `input_references`, and no local file
is read.

Suites (`targets`/`benchmarks` lists, models' `outputs` maps) read as emarctl reads them too: a
dataset's `metrics` entry may be a metric's name or an object (`[accuracy, {name: bleu, tokenize:
intl}]`, `metrics: bleu` is a list of one), and a name stands for `{name: ...}`.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

import yaml
from google.protobuf import json_format

from ._proto import job_pb2

from .errors import EmarError, InvalidArgument, NotFound

__all__ = ["JobInput", "load_job_file", "parse_job_text", "job_from_dict", "job_inputs",
           "hash_file"]

_MAX_DEPTH = 100          # as client/job_file.cc (protobuf's JSON parser nests no deeper)
_MAX_NODES = 1_000_000    # aliases let a short file repeat a node any number of times


@dataclass(frozen=True)
class JobInput:
    field: str       # e.g. "candidates[0].target_outputs"
    spec_path: str   # the path as written (the key of CreateJobRequest.input_digests)
    local_path: str  # where to read it from here


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML: no type information
    """Resolves every plain scalar to the tag "?" (yaml-cpp's non-specific tag), so the
    conversion below decides its type the way emarctl does; quoted scalars stay strings."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver("?", re.compile(r".*", re.S), None)

_INTEGER_CHARS = set("+-0123456789")
_FLOAT_CHARS = set("+-.0123456789eE")


def _plain_scalar(s: str) -> Any:
    if s in ("true", "false"):
        return s == "true"
    if s in ("null", "~", ""):
        return None
    if (s and set(s) <= _INTEGER_CHARS and any(c.isdigit() for c in s)
            and not any(c in "+-" for c in s[1:])):
        return int(s)
    if s and set(s) <= _FLOAT_CHARS:
        try:
            d = float(s)
        except ValueError:
            return s
        if math.isfinite(d):
            return d
    return s


def _where(display_name: str, node: yaml.Node) -> str:
    mark = node.start_mark
    return f"{display_name}:{mark.line + 1}:{mark.column + 1}"


def _to_python(node: yaml.Node, display_name: str, depth: int, budget: List[int],
               marks: Optional[Dict[int, str]] = None) -> Any:
    if depth > _MAX_DEPTH:
        raise InvalidArgument(f"{_where(display_name, node)}: nested more than {_MAX_DEPTH} levels "
                              "deep (an alias inside the node it names?)")
    budget[0] -= 1
    if budget[0] < 0:
        raise InvalidArgument(f"{_where(display_name, node)}: the job expands to more than "
                              f"{_MAX_NODES} nodes (aliases repeating large nodes?)")
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                kind = "a mapping" if isinstance(key, yaml.MappingNode) else "a sequence"
                raise InvalidArgument(f"{_where(display_name, key)}: a mapping key must be a field "
                                      f"name, not {kind}")
            out[key.value] = _to_python(value, display_name, depth + 1, budget, marks)
        if marks is not None:
            marks[id(out)] = _where(display_name, node)
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = [_to_python(v, display_name, depth + 1, budget, marks) for v in node.value]
        if marks is not None:
            marks[id(seq)] = _where(display_name, node)
        return seq
    if node.tag == "?":
        return _plain_scalar(node.value)
    return node.value


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a sequence"
    return "null" if value is None else "a value"


def _normalize_metrics(doc: Dict[str, Any], display_name: str,
                       marks: Dict[int, str]) -> Dict[str, Any]:
    """`metrics: [accuracy, {name: bleu, tokenize: intl}]`: a name stands for `{name: ...}`, which
    is what the proto JSON parser needs (client/job_file.cc, NormalizeMetricEntries). Applies to
    `target`, `benchmark` and every entry of `targets` and `benchmarks`; returns a copy."""
    def where(value: Any, parent: Any) -> str:
        return marks.get(id(value)) or marks.get(id(parent)) or display_name

    def dataset(d: Any) -> Any:
        if not isinstance(d, Mapping) or "metrics" not in d:
            return d
        metrics = d["metrics"]
        if isinstance(metrics, (str, int, float, bool)):  # `metrics: bleu`: a list of one
            metrics = [metrics]
        if not isinstance(metrics, list):
            raise InvalidArgument(f"{where(metrics, d)}: `metrics` is a list of metric names or "
                                  f"{{name: ..., option: ...}} objects, not {_kind(metrics)}")
        entries = []
        for entry in metrics:
            if isinstance(entry, Mapping):
                entries.append(entry)
            elif isinstance(entry, (str, int, float, bool)):
                entries.append({"name": entry})
            else:
                raise InvalidArgument(f"{where(entry, metrics)}: a `metrics` entry is a metric "
                                      f"name or an object {{name: ..., option: ...}}, not "
                                      f"{_kind(entry)}")
        return {**d, "metrics": entries}

    out = dict(doc)
    for one in ("target", "benchmark"):
        if one in out:
            out[one] = dataset(out[one])
    for many in ("targets", "benchmarks"):
        if isinstance(out.get(many), list):
            out[many] = [dataset(d) for d in out[many]]
    return out


def _normalize_references(doc: Dict[str, Any], display_name: str) -> Dict[str, Any]:
    """`references: {uri: ..., sha256: ..., size: ...}` (any path field) -> the URI in the field
    and `input_references[uri] = {sha256, size}` (client/job_file.cc, NormalizeInputReferences).
    Returns a copy."""
    refs: Dict[str, Any] = dict(doc.get("input_references") or {})

    def ref(holder: Any, key: str) -> Any:
        if not isinstance(holder, Mapping) or not isinstance(holder.get(key), Mapping):
            return holder
        value = holder[key]
        if set(value) - {"uri", "sha256", "size"} or not {"uri", "sha256", "size"} <= set(value):
            raise InvalidArgument(f"{display_name}: `{key}` by reference takes exactly uri, sha256 "
                                  "and size (emar_client.hash_file(path) gives the last two)")
        uri = str(value["uri"])
        content = {"sha256": value["sha256"], "size": value["size"]}
        if uri in refs and refs[uri] != content:
            raise InvalidArgument(f"{display_name}: {uri.split('?')[0]} is named twice with "
                                  "different sha256 or size")
        refs[uri] = content
        return {**holder, key: uri}

    def model(m: Any) -> Any:
        for key in ("target_outputs", "benchmark_outputs"):
            m = ref(m, key)
        if isinstance(m, Mapping) and isinstance(m.get("outputs"), Mapping):
            outputs = m["outputs"]
            for dataset in list(outputs):
                outputs = ref(outputs, dataset)
            m = {**m, "outputs": outputs}
        return m

    out = dict(doc)
    for one in ("target", "benchmark"):
        if one in out:
            out[one] = ref(out[one], "references")
    for many in ("targets", "benchmarks"):
        if isinstance(out.get(many), list):
            out[many] = [ref(d, "references") for d in out[many]]
    if "base" in out:
        out["base"] = model(out["base"])
    if isinstance(out.get("candidates"), list):
        out["candidates"] = [model(c) for c in out["candidates"]]
    if refs:
        out["input_references"] = refs
    return out


def hash_file(path: "str | os.PathLike[str]") -> Dict[str, Any]:
    """{"sha256": ..., "size": ...} of a file: what a reference to it states (emarctl hash)."""
    digest = hashlib.sha256()
    size = 0
    with open(os.fspath(path), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _spec_from_dict(doc: Any, display_name: str,
                    marks: Optional[Dict[int, str]] = None) -> job_pb2.JobSpec:
    if not isinstance(doc, Mapping):
        raise InvalidArgument(f"{display_name}: a job file is a mapping (name, target, benchmark, "
                              "base, candidates, formula)")
    doc = _normalize_metrics(dict(doc), display_name, marks or {})
    doc = _normalize_references(doc, display_name)
    spec = job_pb2.JobSpec()
    try:
        json_format.ParseDict(dict(doc), spec, ignore_unknown_fields=False)
    except (json_format.ParseError, TypeError, ValueError) as e:
        raise InvalidArgument(f"{display_name}: {e}") from None
    return spec


def _datasets(spec: job_pb2.JobSpec) -> List[Tuple[str, job_pb2.DatasetSpec]]:
    """(spec field, dataset) in suite order, targets first (eval/job/suite.cc, SuiteDatasets): the
    `targets`/`benchmarks` lists when given (they win over `target`/`benchmark`), else the two."""
    if len(spec.targets) or len(spec.benchmarks):
        return ([(f"targets[{i}]", d) for i, d in enumerate(spec.targets)] +
                [(f"benchmarks[{i}]", d) for i, d in enumerate(spec.benchmarks)])
    return [("target", spec.target), ("benchmark", spec.benchmark)]


def _outputs(model: job_pb2.ModelSpec, model_field: str, field: str,
             dataset: job_pb2.DatasetSpec) -> Tuple[str, str]:
    """(spec field, path) of a model's outputs on a dataset (eval/job/suite.cc, OutputsField)."""
    if field in ("target", "benchmark"):
        return f"{model_field}.{field}_outputs", getattr(model, f"{field}_outputs")
    return f"{model_field}.outputs[{dataset.name}]", model.outputs.get(dataset.name, "")


def job_inputs(spec: job_pb2.JobSpec, base_dir: str) -> List[JobInput]:
    """Every input path of the spec once, in spec order (eval/job/job_inputs.cc): each dataset's
    references, then each model's outputs per dataset."""
    datasets = _datasets(spec)
    fields = [(f"{field}.references", d.references) for field, d in datasets]
    models = [("base", spec.base)] + [(f"candidates[{i}]", c)
                                      for i, c in enumerate(spec.candidates)]
    for name, model in models:
        for field, d in datasets:
            fields.append(_outputs(model, name, field, d))
    seen = set()
    out = []
    for field, path in fields:
        if not path or path in seen or path in spec.input_references:
            continue  # a reference is read by the coordinator
        if path.startswith(("https://", "file://")):
            raise InvalidArgument(f"{field}: an input by reference is {{uri: ..., sha256: ..., "
                                  "size: ...}, not a bare URI")
        seen.add(path)
        local = path if (os.path.isabs(path) or not base_dir or base_dir == ".") \
            else os.path.join(base_dir, path)
        out.append(JobInput(field, path, local))
    return out


def parse_job_text(text: str, display_name: str,
                   base_dir: str) -> Tuple[job_pb2.JobSpec, List[JobInput]]:
    """Job file text (YAML or JSON) -> (spec, inputs). InvalidArgument naming the file (and line
    for syntax errors) on bad input."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{display_name}:{mark.line + 1}:{mark.column + 1}" if mark else display_name
        raise InvalidArgument(f"{where}: not valid YAML or JSON: {e.problem or e}") from None
    except yaml.YAMLError as e:
        raise InvalidArgument(f"{display_name}: not valid YAML or JSON: {e}") from None
    marks: Dict[int, str] = {}
    doc = None if root is None else _to_python(root, display_name, 0, [_MAX_NODES], marks)
    spec = _spec_from_dict(doc, display_name, marks)
    return spec, job_inputs(spec, base_dir)


def load_job_file(path: "str | os.PathLike[str]") -> Tuple[job_pb2.JobSpec, List[JobInput]]:
    """Reads a job file; its input paths are relative to its directory."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError as e:
        raise NotFound(f"{path}: {e.strerror}") from None
    except OSError as e:
        raise EmarError(f"{path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InvalidArgument(f"{path}: not valid YAML or JSON: invalid UTF-8 at byte "
                              f"{e.start}") from None
    return parse_job_text(text, path, os.path.dirname(path) or ".")


def job_from_dict(job: Mapping[str, Any],
                  base_dir: Optional[str] = None) -> Tuple[job_pb2.JobSpec, List[JobInput]]:
    """A dict in the job file's shape; input paths relative to base_dir (default: the cwd)."""
    spec = _spec_from_dict(job, "job")
    return spec, job_inputs(spec, os.fspath(base_dir) if base_dir is not None else ".")
