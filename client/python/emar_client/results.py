"""Typed results: frozen dataclasses over the emar.v1 messages the coordinator answers with.

Every class mirrors one message field for field (same names, snake_case): strings are `str`,
counts `int` (64-bit ones too), scores `float`, an unset optional (an undefined estimate's value
and interval) `None`, repeated fields tuples, maps dicts, a job's state the enum's name
("JOB_STATE_SUCCEEDED"). `to_dict()` gives the message in emarctl's `--format json` shape (the
proto JSON mapping: fields at their default included, 64-bit integers as strings).
`Report.flat()` gives `{name: float}` for an experiment tracker (docs/python.md lists the keys).
"""
from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable, Dict, FrozenSet, Mapping, Optional, Tuple, Type, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from ._proto import job_pb2, report_pb2

__all__ = ["Estimate", "FlipCounts", "FlipItem", "SliceResult", "DatasetResult", "Gate",
           "CandidateResult", "Pairwise", "Formula",
           "InputFile", "Provenance", "Bootstrap", "Report", "Progress", "Job", "message_to_dict",
           "TERMINAL_STATES"]

TERMINAL_STATES = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")


def _defaults_flag() -> str:
    # The flag that prints fields at their defaults was renamed in protobuf 5.26.
    params = inspect.signature(json_format.MessageToDict).parameters
    return ("always_print_fields_with_no_presence"
            if "always_print_fields_with_no_presence" in params
            else "including_default_value_fields")


_DEFAULTS_FLAG = _defaults_flag()


def message_to_dict(message: Message) -> Dict[str, Any]:
    """A message as emarctl prints it with --format json (report_format.cc: MessageToJson):
    fields at their default included, unset optionals absent."""
    out: Dict[str, Any] = json_format.MessageToDict(
        message, preserving_proto_field_name=True, **{_DEFAULTS_FLAG: True})
    return out


T = TypeVar("T", bound="_Mirror")


def _keep_absent(obj: T, absent: FrozenSet[str]) -> T:
    """Notes which message-typed fields the message did not set (they hold a default instance
    here), so that to_dict() leaves them out as the message's own JSON does."""
    if absent:
        object.__setattr__(obj, "_absent", absent)
    return obj


class _Mirror:
    """Conversion between a dataclass and the message of the same field names (`_MESSAGE`).
    `_NESTED` names the dataclass of each message-typed field. Dataclass fields the message
    lacks (Report.job, Progress.phase, ...) are the client's own and are not converted."""

    _MESSAGE: Any = None
    _NESTED: Dict[str, Callable[[], Type["_Mirror"]]] = {}

    @classmethod
    def from_proto(cls: Type[T], message: Message) -> T:
        values: Dict[str, Any] = {}
        absent = []
        for fd in message.DESCRIPTOR.fields:
            name = fd.name
            value = getattr(message, name)
            if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
                values[name] = dict(value)
            elif fd.label == FieldDescriptor.LABEL_REPEATED:
                nested = cls._NESTED.get(name)
                values[name] = tuple(nested().from_proto(v) for v in value) if nested \
                    else tuple(value)
            elif fd.message_type is not None:
                values[name] = cls._NESTED[name]().from_proto(value)
                if not message.HasField(name):
                    absent.append(name)
            elif fd.has_presence and not message.HasField(name):
                values[name] = None
            elif fd.enum_type is not None:
                values[name] = fd.enum_type.values_by_number[value].name
            else:
                values[name] = value
        return _keep_absent(cls(**values), frozenset(absent))

    def to_proto(self) -> Message:
        message = self._MESSAGE()
        for fd in message.DESCRIPTOR.fields:
            value = getattr(self, fd.name)
            if value is None:
                continue
            if fd.message_type is not None and fd.message_type.GetOptions().map_entry:
                getattr(message, fd.name).update(value)
            elif fd.label == FieldDescriptor.LABEL_REPEATED:
                target = getattr(message, fd.name)
                for item in value:
                    if fd.message_type is not None:
                        target.add().CopyFrom(item.to_proto())
                    else:
                        target.append(item)
            elif fd.message_type is not None:
                if fd.name not in getattr(self, "_absent", ()):
                    getattr(message, fd.name).CopyFrom(value.to_proto())
            elif fd.enum_type is not None:
                setattr(message, fd.name, fd.enum_type.values_by_name[value].number)
            else:
                setattr(message, fd.name, value)
        return message

    def to_dict(self) -> Dict[str, Any]:
        """The message in emarctl's `--format json` shape (64-bit integers as strings)."""
        return message_to_dict(self.to_proto())


@dataclasses.dataclass(frozen=True)
class Estimate(_Mirror):
    """A score, delta or EMAR: `value` is None exactly when undefined (`undefined_reason`)."""

    _MESSAGE = report_pb2.Estimate
    value: Optional[float] = None
    undefined_reason: str = ""
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None
    p_value: Optional[float] = None
    test: str = ""
    undefined_resamples: int = 0
    p_value_holm: Optional[float] = None

    @property
    def defined(self) -> bool:
        return self.value is not None


@dataclasses.dataclass(frozen=True)
class FlipCounts(_Mirror):
    """How many items a candidate learned (base wrong, candidate right) and forgot."""

    _MESSAGE = report_pb2.FlipCounts
    learned: int = 0
    forgot: int = 0
    items: int = 0
    right_at: float = 0.0


@dataclasses.dataclass(frozen=True)
class FlipItem(_Mirror):
    """One flipped item with its references and both predictions (ListFlips, --flips N)."""

    _MESSAGE = report_pb2.FlipItem
    candidate: str = ""
    dataset: str = ""
    metric: str = ""
    kind: str = ""
    id: str = ""
    references: Tuple[str, ...] = ()
    base_prediction: str = ""
    candidate_prediction: str = ""
    base_value: float = 0.0
    candidate_value: float = 0.0
    reference_line: int = 0  # 0: the dataset has no references file
    base_line: int = 0
    candidate_line: int = 0
    base_samples: int = 0  # several samples per item: k (values are per-item means); else 0
    candidate_samples: int = 0


@dataclasses.dataclass(frozen=True)
class SliceResult(_Mirror):
    """One slice of a dataset (SliceComparison); `gated` is false under min_slice_items."""

    _MESSAGE = report_pb2.SliceComparison
    _NESTED = {"base": lambda: Estimate, "candidate": lambda: Estimate,
               "delta": lambda: Estimate}
    slice: str = ""
    n: int = 0
    base: Estimate = Estimate()
    candidate: Estimate = Estimate()
    delta: Estimate = Estimate()
    gated: bool = False


@dataclasses.dataclass(frozen=True)
class SmallSample(_Mirror):
    """Wilson intervals (Newcombe's for the delta) of a small 0/1 dataset
    (SmallSampleIntervals); `applies` is False for every other dataset."""

    _MESSAGE = report_pb2.SmallSampleIntervals
    applies: bool = False
    base_low: float = 0.0
    base_high: float = 0.0
    candidate_low: float = 0.0
    candidate_high: float = 0.0
    delta_low: float = 0.0
    delta_high: float = 0.0
    warning: str = ""


@dataclasses.dataclass(frozen=True)
class DatasetResult(_Mirror):
    """One dataset and metric: base and candidate scores and their delta (DatasetComparison),
    with its flip counts (per-example metrics), slices (a dataset with slice_field), the samples
    per item, the delta's minimum detectable effect (`mde`) and, on a small 0/1 dataset, Wilson
    intervals (`small_sample`)."""

    _MESSAGE = report_pb2.DatasetComparison
    _NESTED = {"base": lambda: Estimate, "candidate": lambda: Estimate,
               "delta": lambda: Estimate, "flips": lambda: FlipCounts,
               "flip_items": lambda: FlipItem, "slices": lambda: SliceResult,
               "small_sample": lambda: SmallSample}
    dataset: str = ""
    metric: str = ""
    direction: str = ""
    signature: str = ""
    n: int = 0
    base: Estimate = Estimate()
    candidate: Estimate = Estimate()
    delta: Estimate = Estimate()
    role: str = ""
    weight: float = 0.0
    primary: bool = False
    flips: FlipCounts = FlipCounts()
    flip_items: Tuple[FlipItem, ...] = ()
    slices: Tuple[SliceResult, ...] = ()
    base_samples_per_item: int = 0
    candidate_samples_per_item: int = 0
    mde: Optional[float] = None
    mde_method: str = ""
    small_sample: SmallSample = SmallSample()


@dataclasses.dataclass(frozen=True)
class Gate(_Mirror):
    """One gate's verdict (GateResult); `dataset` is set for a per-dataset gate of a suite."""

    _MESSAGE = report_pb2.GateResult
    gate: str = ""
    threshold: float = 0.0
    bound: str = ""
    bound_value: Optional[float] = None
    passed: bool = False
    detail: str = ""
    dataset: str = ""
    underpowered: bool = False  # margin below the delta's minimum detectable effect `mde`
    mde: Optional[float] = None
    bound_source: str = ""  # "wilson" when the small-sample bound was the conservative one


@dataclasses.dataclass(frozen=True)
class CandidateResult(_Mirror):
    """One candidate (CandidateReport): EMAR, the target and benchmark aggregates, gates, and
    `datasets`, every (dataset, metric) of a suite in spec order, targets first."""

    _MESSAGE = report_pb2.CandidateReport
    _NESTED = {"emar": lambda: Estimate, "target": lambda: DatasetResult,
               "benchmark": lambda: DatasetResult, "gates": lambda: Gate,
               "datasets": lambda: DatasetResult}
    name: str = ""
    emar: Estimate = Estimate()
    target: DatasetResult = DatasetResult()
    benchmark: DatasetResult = DatasetResult()
    rank: int = 0
    gates: Tuple[Gate, ...] = ()
    gates_passed: bool = False
    datasets: Tuple[DatasetResult, ...] = ()

    def failed_gates(self) -> Tuple[Gate, ...]:
        return tuple(g for g in self.gates if not g.passed)


@dataclasses.dataclass(frozen=True)
class Pairwise(_Mirror):
    """Two candidates' EMAR compared on the same resamples (PairwiseComparison)."""

    _MESSAGE = report_pb2.PairwiseComparison
    a: str = ""
    b: str = ""
    emar_difference: Optional[float] = None
    p_value: Optional[float] = None
    p_value_holm: Optional[float] = None
    test: str = ""


@dataclasses.dataclass(frozen=True)
class Formula(_Mirror):
    _MESSAGE = report_pb2.FormulaInfo
    name: str = ""
    expression: str = ""


@dataclasses.dataclass(frozen=True)
class InputFile(_Mirror):
    _MESSAGE = report_pb2.InputFile
    role: str = ""
    path_or_name: str = ""
    sha256: str = ""
    size_bytes: int = 0


@dataclasses.dataclass(frozen=True)
class Provenance(_Mirror):
    _MESSAGE = report_pb2.Provenance
    _NESTED = {"inputs": lambda: InputFile}
    inputs: Tuple[InputFile, ...] = ()
    version: str = ""


@dataclasses.dataclass(frozen=True)
class Bootstrap(_Mirror):
    _MESSAGE = report_pb2.BootstrapSettings
    resamples: int = 0
    confidence: float = 0.0
    seed: int = 0
    power: float = 0.0
    small_dataset_items: int = 0


_PHASES = {"JOB_STATE_QUEUED": "queued", "JOB_STATE_SUCCEEDED": "done",
           "JOB_STATE_FAILED": "failed", "JOB_STATE_CANCELLED": "cancelled"}


@dataclasses.dataclass(frozen=True)
class Progress(_Mirror):
    """How far a job (or an evaluate() call) has come. The counts are JobProgress's: reused
    shards and examples came from the score cache (shards_done includes the reused shards,
    examples_scored counts only what was scored); `to_dict()` gives JobProgress's JSON shape.
    The client adds:

    phase        hashing | uploading | creating (the client's), then queued | scoring |
                 bootstrap (every shard in, the report being built) | done | failed | cancelled
    job_id       the job, once created
    elapsed      seconds since the evaluate() call began (0.0 outside evaluate)
    bytes_done, bytes_total   hashing or uploading: the bytes handled so far, of all
    """

    _MESSAGE = job_pb2.JobProgress
    shards_total: int = 0
    shards_done: int = 0
    examples_scored: int = 0
    shards_reused: int = 0
    examples_reused: int = 0
    phase: str = ""
    job_id: str = ""
    elapsed: float = 0.0
    bytes_done: int = 0
    bytes_total: int = 0

    def __str__(self) -> str:
        if self.phase in ("hashing", "uploading"):
            return f"[{self.phase}] {self.bytes_done:,}/{self.bytes_total:,} bytes"
        text = (f"[{self.phase}] {self.shards_done}/{self.shards_total} shards "
                f"({self.shards_reused} reused)  {self.examples_scored:,} examples")
        return f"{text}  {self.job_id}" if self.job_id else text


@dataclasses.dataclass(frozen=True)
class Job(_Mirror):
    """A job as the coordinator has it (GetJob, WatchJob, ListJobs, CreateJob, CancelJob).
    `progress.phase` is derived from the state and the shard counts."""

    _MESSAGE = job_pb2.Job
    _NESTED = {"progress": lambda: Progress}
    job_id: str = ""
    name: str = ""
    state: str = "JOB_STATE_UNSPECIFIED"
    progress: Progress = Progress()
    error: str = ""
    request_id: str = ""
    created_unix_ms: int = 0
    updated_unix_ms: int = 0
    owner: str = ""
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_proto(cls, message: Message) -> "Job":
        job = super().from_proto(message)
        p = job.progress
        phase = _PHASES.get(job.state, "")
        if job.state == "JOB_STATE_RUNNING":
            phase = "bootstrap" if p.shards_total and p.shards_done >= p.shards_total \
                else "scoring"
        progress = dataclasses.replace(p, phase=phase, job_id=job.job_id)
        with_phase = dataclasses.replace(job, progress=progress)
        return _keep_absent(with_phase, getattr(job, "_absent", frozenset()))

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES

    def __getitem__(self, key: str) -> Any:
        """`job["state"]`: a key of to_dict(), for code written against the dict results."""
        return self.to_dict()[key]


def _put_estimate(out: Dict[str, float], key: str, e: Estimate) -> None:
    if e.value is not None:
        out[key] = e.value
    for part in ("ci_low", "ci_high", "p_value", "p_value_holm"):
        v = getattr(e, part)
        if v is not None:
            out[f"{key}/{part}"] = v


def _put_dataset(out: Dict[str, float], key: str, d: DatasetResult) -> None:
    out[f"{key}/n"] = float(d.n)
    for part in ("base", "candidate", "delta"):
        _put_estimate(out, f"{key}/{part}", getattr(d, part))
    if "flips" not in getattr(d, "_absent", ()):
        out[f"{key}/flips/learned"] = float(d.flips.learned)
        out[f"{key}/flips/forgot"] = float(d.flips.forgot)
    for sl in d.slices:
        out[f"{key}/slice/{sl.slice}/n"] = float(sl.n)
        for part in ("base", "candidate", "delta"):
            _put_estimate(out, f"{key}/slice/{sl.slice}/{part}", getattr(sl, part))


@dataclasses.dataclass(frozen=True)
class Report(_Mirror):
    """The report of a finished job. From evaluate() (or wait_report()), `job` is the final job
    the client watched, so its progress (`report.progress.shards_reused`, ...) needs no other
    call; from report(job_id) it is None."""

    _MESSAGE = report_pb2.Report
    _NESTED = {"formula": lambda: Formula, "candidates": lambda: CandidateResult,
               "pairwise": lambda: Pairwise, "bootstrap": lambda: Bootstrap,
               "provenance": lambda: Provenance}
    job_id: str = ""
    name: str = ""
    formula: Formula = Formula()
    candidates: Tuple[CandidateResult, ...] = ()
    pairwise: Tuple[Pairwise, ...] = ()
    bootstrap: Bootstrap = Bootstrap()
    provenance: Provenance = Provenance()
    gates_passed: bool = False
    job: Optional[Job] = dataclasses.field(default=None, compare=False)

    def with_job(self, job: Optional[Job]) -> "Report":
        return _keep_absent(dataclasses.replace(self, job=job),
                            getattr(self, "_absent", frozenset()))

    @property
    def progress(self) -> Optional[Progress]:
        return None if self.job is None else self.job.progress

    def candidate(self, name: str) -> CandidateResult:
        for c in self.candidates:
            if c.name == name:
                return c
        raise KeyError(f"no candidate {name!r} in the report (candidates: "
                       f"{', '.join(c.name for c in self.candidates)})")

    def failed_gates(self) -> Tuple[Tuple[str, str], ...]:
        """(candidate, gate) for every gate that failed, e.g. (("lora-r16", "min_emar"),)."""
        return tuple((c.name, g.gate) for c in self.candidates for g in c.failed_gates())

    def flat(self) -> Dict[str, float]:
        """Every number of the report as {key: float} for an experiment tracker, e.g.
        {"lora-r16/emar": 0.2143, "lora-r16/emar/ci_low": 0.1839, "lora-r16/target/delta":
        0.15, ...}. An undefined estimate has no key; booleans are 1.0 or 0.0. The keys'
        forms are listed in docs/python.md."""
        out: Dict[str, float] = {"gates_passed": float(self.gates_passed)}
        for c in self.candidates:
            _put_estimate(out, f"{c.name}/emar", c.emar)
            out[f"{c.name}/rank"] = float(c.rank)
            out[f"{c.name}/gates_passed"] = float(c.gates_passed)
            _put_dataset(out, f"{c.name}/target", c.target)
            _put_dataset(out, f"{c.name}/benchmark", c.benchmark)
            for d in c.datasets:
                _put_dataset(out, f"{c.name}/{d.role}/{d.dataset}/{d.metric}", d)
            for g in c.gates:
                key = f"{c.name}/gate/{g.dataset}/{g.gate}" if g.dataset \
                    else f"{c.name}/gate/{g.gate}"
                out[key] = float(g.passed)
                if g.bound_value is not None:
                    out[f"{key}/bound_value"] = g.bound_value
        for p in self.pairwise:
            for part in ("emar_difference", "p_value", "p_value_holm"):
                v = getattr(p, part)
                if v is not None:
                    out[f"pairwise/{p.a}/{p.b}/{part}"] = v
        if self.job is not None:
            for part in ("shards_total", "shards_done", "shards_reused", "examples_scored",
                         "examples_reused"):
                out[f"job/{part}"] = float(getattr(self.job.progress, part))
        return out

    def __getitem__(self, key: str) -> Any:
        """`report["gates_passed"]`: a key of to_dict(), for code written against the dict
        results."""
        return self.to_dict()[key]
