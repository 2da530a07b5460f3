"""What the blocking and the asyncio clients share: the deadline of a whole call and its phase,
progress reports, loading a job (file, dict with in-memory inputs, JobSpec) into a CreateJob
request and the bytes to upload, and the channel's settings."""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

import grpc

from ._proto import job_pb2, service_pb2
from .errors import DeadlineExceeded, EmarError, InvalidArgument, NotFound
from .hints import field_name_hint
from .inputs import canonical_jsonl, split_in_memory
from .job_file import JobInput, job_from_dict, job_inputs, load_job_file
from .results import Job, Progress

CHUNK_BYTES = 1 << 20  # upload chunk, as emarctl
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 2.0
# submit() retries a coordinator that is UNAVAILABLE this long when it has no timeout, seconds.
SUBMIT_RETRY = 60.0

JobLike = Union[str, "os.PathLike[str]", Mapping[str, Any], job_pb2.JobSpec]
ProgressCallback = Callable[[Progress], None]

CHANNEL_OPTIONS: List[Tuple[str, Any]] = [
    ("grpc.max_receive_message_length", -1),  # reports of many candidates are large
    # A restarted coordinator is found again within ~2 s, not after gRPC's default reconnect
    # backoff (up to 120 s) and re-resolution cooldown (30 s); measured: 5-10 s after a restart
    # without these, under 1 s with them.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 1000),
    ("grpc.max_reconnect_backoff_ms", 2000),
    ("grpc.dns_min_time_between_resolutions_ms", 500),
]


def submit_give_up(deadline: "Deadline") -> float:
    """When submit stops retrying (time.monotonic()): its timeout, else SUBMIT_RETRY from now."""
    left = deadline.remaining()
    return time.monotonic() + (SUBMIT_RETRY if left is None else left)


# Words of a TLS setup that failed: gRPC reports it as UNAVAILABLE too, but trying again fails
# the same way ("failed to connect ... Ssl handshake failed: ... certificate verify failed").
_TLS_FAILURES = ("handshake", "certificate", "wrong version number", "packet length too long",
                 "http request", "record layer failure")


def submit_retryable(error: Exception) -> bool:
    """Whether submit tries again after `error` (an Unavailable): not when TLS failed."""
    message = str(error)
    return not any(word in message for word in _TLS_FAILURES)


def retry_detail(error: Exception, backoff: float, prepared: Any) -> str:
    """The 'retrying' phase's detail: why, the wait, and the request id every try carries."""
    return (f"{error}; trying again in {backoff:g} s "
            f"(request id {prepared.request.request_id})")


class Deadline:
    """The deadline of a whole call (evaluate, wait) and the phase it has reached, for its
    DeadlineExceeded message. `timeout` None: no deadline."""

    def __init__(self, timeout: Optional[float], what: str,
                 on_progress: Optional[ProgressCallback] = None) -> None:
        self.start = time.monotonic()
        self.timeout = None if timeout is None else float(timeout)
        self.what = what
        self.phase = "starting"
        self.detail = ""
        self.job_id = ""
        self.on_progress = on_progress

    def remaining(self) -> Optional[float]:
        if self.timeout is None:
            return None
        return self.timeout - (time.monotonic() - self.start)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def check(self) -> None:
        if self.expired():
            raise self.error()

    def rpc_timeout(self, default: float) -> float:
        """A call's deadline: `default`, cut to what is left (DeadlineExceeded if nothing)."""
        left = self.remaining()
        if left is None:
            return default
        if left <= 0:
            raise self.error()
        return min(default, left)

    def error(self) -> DeadlineExceeded:
        where = f"{self.phase} ({self.detail})" if self.detail else self.phase
        after = (f"job {self.job_id} goes on" if self.job_id else "no job was created")
        return DeadlineExceeded(
            f"{self.what} did not finish within timeout={self.timeout:g} s: it was {where} "
            f"after {self.elapsed():.1f} s; {after}", job_id=self.job_id or None,
            timeout=self.timeout, phase=self.phase)

    def enter(self, phase: str, detail: str = "", done: int = 0, total: int = 0) -> None:
        """Records the phase and reports it (hashing, uploading, creating)."""
        self.phase, self.detail = phase, detail
        if self.on_progress is not None:
            self.on_progress(Progress(phase=phase, job_id=self.job_id, elapsed=self.elapsed(),
                                      bytes_done=done, bytes_total=total))

    def job(self, job: Job) -> None:
        """Records a job snapshot as the phase reached and reports it."""
        p = job.progress
        self.job_id = job.job_id
        self.phase = p.phase
        self.detail = f"{p.shards_done}/{p.shards_total} shards, {p.shards_reused} reused"
        if self.on_progress is not None:
            self.on_progress(replace(p, elapsed=self.elapsed()))


@dataclass(frozen=True)
class Source:
    """Bytes to upload: a local file, or an in-memory input serialized to canonical JSONL."""

    field: str
    spec_path: str
    local_path: str = ""
    data: Optional[bytes] = None

    def chunks(self) -> Iterator[bytes]:
        """The content in CHUNK_BYTES pieces; an empty one is a single b""."""
        if self.data is not None:
            view = memoryview(self.data)
            yield bytes(view[:CHUNK_BYTES])
            for at in range(CHUNK_BYTES, len(view), CHUNK_BYTES):
                yield bytes(view[at:at + CHUNK_BYTES])
            return
        with open(self.local_path, "rb") as f:
            chunk = f.read(CHUNK_BYTES)
            yield chunk
            while chunk:
                chunk = f.read(CHUNK_BYTES)
                if chunk:
                    yield chunk

    @property
    def name(self) -> str:
        return self.spec_path if self.data is not None else self.local_path


def hash_source(source: Source, deadline: Optional[Deadline] = None) -> Tuple[str, int]:
    """(sha256, size); NotFound (or INTERNAL) naming the spec field and the file, as emarctl."""
    if source.data is not None:
        return hashlib.sha256(source.data).hexdigest(), len(source.data)
    what = f"job spec field '{source.field}': " if source.field else ""
    h = hashlib.sha256()
    size = 0
    try:
        for chunk in source.chunks():
            h.update(chunk)
            size += len(chunk)
            if deadline is not None:
                deadline.check()
    except FileNotFoundError as e:
        raise NotFound(f"{what}{source.local_path}: {e.strerror}") from None
    except OSError as e:
        raise EmarError(f"{what}{source.local_path}: {e.strerror or e}",
                        code=grpc.StatusCode.INTERNAL) from None
    return h.hexdigest(), size


@dataclass
class Prepared:
    """A job ready to submit: the CreateJob request and, by sha256, what to upload if missing."""

    request: service_pb2.CreateJobRequest
    sources: Dict[str, Tuple[Source, int]]


def _with_field_hint(error: InvalidArgument) -> InvalidArgument:
    better = field_name_hint(error.message)
    return error if better is None else InvalidArgument(better)


def load_job(job: JobLike, base_dir: Any,
             deadline: Deadline) -> Tuple[job_pb2.JobSpec, List[Source]]:
    """The spec and its inputs (local files, or in-memory records serialized once)."""
    memory: Dict[str, Tuple[str, Any]] = {}
    try:
        if isinstance(job, job_pb2.JobSpec):
            spec = job
            inputs = job_inputs(job, os.fspath(base_dir) if base_dir is not None else ".")
        elif isinstance(job, Mapping):
            plain, memory = split_in_memory(job)
            spec, inputs = job_from_dict(plain, base_dir)
        elif isinstance(job, (str, os.PathLike)):
            if base_dir is not None:
                raise ValueError("base_dir is for dict jobs: a job file's paths are relative to "
                                 "it")
            spec, inputs = load_job_file(job)
        else:
            raise TypeError("job must be a job file path, a dict or a JobSpec, not "
                            f"{type(job).__name__}")
    except InvalidArgument as e:
        raise _with_field_hint(e) from None
    sources = []
    for inp in inputs:
        sources.append(_source(inp, memory, deadline))
    return spec, sources


def _source(inp: JobInput, memory: Mapping[str, Tuple[str, Any]], deadline: Deadline) -> Source:
    if inp.spec_path not in memory:
        return Source(inp.field, inp.spec_path, local_path=inp.local_path)
    field, records = memory[inp.spec_path]
    deadline.enter("hashing", f"serializing {field}")
    data = canonical_jsonl(records, field, tick=lambda n: deadline.check())
    return Source(field, inp.spec_path, data=data)


def prepare(job: JobLike, labels: Optional[Mapping[str, Any]], request_id: Optional[str],
            base_dir: Any, deadline: Deadline, reuse_scores: bool = True) -> Prepared:
    """Loads and hashes the job's inputs (no call to the coordinator). `reuse_scores` False
    sets the spec's no_cache: every shard is scored afresh."""
    deadline.enter("hashing")
    spec, sources = load_job(job, base_dir, deadline)
    if labels or not reuse_scores:
        spec = job_pb2.JobSpec.FromString(spec.SerializeToString())  # the caller's stays
        for key, value in (labels or {}).items():
            spec.labels[str(key)] = str(value)
        if not reuse_scores:
            spec.no_cache = True
    request = service_pb2.CreateJobRequest(spec=spec, request_id=request_id or str(uuid.uuid4()))
    by_sha: Dict[str, Tuple[Source, int]] = {}
    total = sum(_size(s) for s in sources)
    done = 0
    for i, source in enumerate(sources):
        deadline.enter("hashing", f"{source.name}, input {i + 1} of {len(sources)}", done,
                       total)
        sha, size = hash_source(source, deadline)
        request.input_digests[source.spec_path] = sha
        by_sha.setdefault(sha, (source, size))
        done += size
    deadline.check()
    return Prepared(request, by_sha)


def _size(source: Source) -> int:
    """The bytes to hash, for progress (0 for a file that cannot be read: hashing says why)."""
    if source.data is not None:
        return len(source.data)
    try:
        return os.path.getsize(source.local_path)
    except OSError:
        return 0


def upload_requests(source: Source, sha256: str,
                    size: int) -> Iterator[service_pb2.UploadBlobRequest]:
    """The UploadBlob stream: sha256 and size_bytes with the first chunk, then the rest."""
    first = True
    for chunk in source.chunks():
        if first:
            yield service_pb2.UploadBlobRequest(sha256=sha256, size_bytes=size, chunk=chunk)
            first = False
        else:
            yield service_pb2.UploadBlobRequest(chunk=chunk)


def labels_map(labels: Optional[Mapping[str, Any]]) -> Dict[str, str]:
    return {str(k): str(v) for k, v in (labels or {}).items()}


def read_pem(value: Any, what: str) -> Optional[bytes]:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    try:
        with open(value, "rb") as f:
            return f.read()
    except OSError as e:
        raise EmarError(f"{what} {os.fspath(value)}: {e.strerror or e}",
                        code=grpc.StatusCode.INVALID_ARGUMENT) from None


def credentials(tls_ca: Any, tls_cert: Any, tls_key: Any) -> Any:
    """TLS channel credentials from PEM paths or bytes, or None for plaintext (no tls_ca)."""
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("tls_cert and tls_key go together")
    if tls_ca is None:
        if tls_cert is not None:
            raise ValueError("tls_cert/tls_key need tls_ca (the CA of the coordinator's "
                             "certificate), as emarctl")
        return None
    return grpc.ssl_channel_credentials(root_certificates=read_pem(tls_ca, "tls_ca"),
                                        private_key=read_pem(tls_key, "tls_key"),
                                        certificate_chain=read_pem(tls_cert, "tls_cert"))


def resolve_token(token: Optional[str], token_file: Any) -> str:
    if token is None and token_file is not None:
        try:
            with open(token_file, encoding="utf-8") as f:
                token = f.read()
        except OSError as e:
            raise EmarError(f"token file {os.fspath(token_file)}: {e.strerror or e}",
                            code=grpc.StatusCode.INVALID_ARGUMENT) from None
    if token is None:
        token = os.environ.get("EMAR_TOKEN", "")
    return token.strip()
