"""Job files (YAML or JSON) and job dicts -> emar.v1.JobSpec and the local files to upload.

The same rules as emarctl (client/job_file.cc): the document is the proto JSON mapping of
emar.v1.JobSpec with snake_case names, unknown fields are errors, and input paths are relative to
the job file's directory (for a dict: to `base_dir`, by default the current directory). Defaults
(formula, bootstrap) are the coordinator's, so a spec is sent as written.

YAML scalars are read as emarctl reads them (YAML 1.2 core): a plain `true`/`false` is a boolean,
`null`/`~`/nothing is null, a plain number is a number, everything else (`yes`, `on`, dates,
quoted scalars) is a string.
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any, List, Mapping, Optional, Tuple

import yaml
from google.protobuf import json_format

from ._proto import job_pb2

from .errors import EmarError, InvalidArgument, NotFound

__all__ = ["JobInput", "load_job_file", "parse_job_text", "job_from_dict", "job_inputs"]

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


def _to_python(node: yaml.Node, display_name: str, depth: int, budget: List[int]) -> Any:
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
            out[key.value] = _to_python(value, display_name, depth + 1, budget)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, display_name, depth + 1, budget) for v in node.value]
    if node.tag == "?":
        return _plain_scalar(node.value)
    return node.value


def _spec_from_dict(doc: Any, display_name: str) -> job_pb2.JobSpec:
    if not isinstance(doc, Mapping):
        raise InvalidArgument(f"{display_name}: a job file is a mapping (name, target, benchmark, "
                              "base, candidates, formula)")
    spec = job_pb2.JobSpec()
    try:
        json_format.ParseDict(dict(doc), spec, ignore_unknown_fields=False)
    except (json_format.ParseError, TypeError, ValueError) as e:
        raise InvalidArgument(f"{display_name}: {e}") from None
    return spec


def job_inputs(spec: job_pb2.JobSpec, base_dir: str) -> List[JobInput]:
    """Every input path of the spec once, in spec order (eval/job/job_inputs.cc)."""
    fields = [("target.references", spec.target.references),
              ("benchmark.references", spec.benchmark.references)]
    models = [("base", spec.base)] + [(f"candidates[{i}]", c)
                                      for i, c in enumerate(spec.candidates)]
    for name, model in models:
        fields.append((f"{name}.target_outputs", model.target_outputs))
        fields.append((f"{name}.benchmark_outputs", model.benchmark_outputs))
    seen = set()
    out = []
    for field, path in fields:
        if not path or path in seen:
            continue
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
    doc = None if root is None else _to_python(root, display_name, 0, [_MAX_NODES])
    spec = _spec_from_dict(doc, display_name)
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
