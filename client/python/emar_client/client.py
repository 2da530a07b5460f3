"""The EMAR client: emarctl's calls to emar.v1.EvaluationService, from Python.

    from emar_client import Client
    report = Client("coordinator:50051").evaluate("examples/restaurant-sentiment/job.yaml")
    print(report["candidates"][0]["emar"]["value"], report.get("gates_passed", False))

Jobs, reports and listings are plain dicts in the shape of emarctl's `--format json` output (the
proto JSON mapping with snake_case names): booleans, counts, strings and lists are always present
(`"passed": False`, `"shards_done": 0`), an unset optional (an undefined Estimate's `value` and
interval) is absent, and 64-bit integers are strings.
"""
from __future__ import annotations

import hashlib
import os
import time
import uuid
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

import grpc
from google.protobuf import json_format

from emar.v1 import job_pb2, service_pb2, service_pb2_grpc

from .errors import (DeadlineExceeded, EmarError, JobCancelled, JobFailed, NotFound, Unavailable,
                     error_from_rpc)
from .job_file import JobInput, job_from_dict, job_inputs, load_job_file

__all__ = ["Client", "DEFAULT_ADDRESS", "CHUNK_BYTES", "TERMINAL_STATES"]

DEFAULT_ADDRESS = "127.0.0.1:50051"
CHUNK_BYTES = 1 << 20  # upload chunk, as emarctl
TERMINAL_STATES = ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED")
_TERMINAL = {job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED}
_FIRST_BACKOFF = 0.1
_MAX_BACKOFF = 2.0

JobLike = Union[str, "os.PathLike[str]", Mapping[str, Any], job_pb2.JobSpec]


def _defaults_flag() -> str:
    # The flag that prints fields at their defaults was renamed in protobuf 5.26.
    import inspect
    params = inspect.signature(json_format.MessageToDict).parameters
    return ("always_print_fields_with_no_presence"
            if "always_print_fields_with_no_presence" in params
            else "including_default_value_fields")


_DEFAULTS_FLAG = _defaults_flag()


def to_dict(message) -> Dict[str, Any]:
    """A message as emarctl prints it with --format json (report_format.cc: MessageToJson):
    fields at their default included, unset optionals absent."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     **{_DEFAULTS_FLAG: True})


def _read_pem(value: Union[str, bytes, "os.PathLike[str]", None], what: str) -> Optional[bytes]:
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


def _hash_file(path: str) -> Tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK_BYTES)
            if not chunk:
                return h.hexdigest(), size
            h.update(chunk)
            size += len(chunk)


class Client:
    """A connection to an emar-coordinator's EvaluationService.

    address   HOST:PORT; default $EMAR_SERVER, else 127.0.0.1:50051 (as emarctl --server)
    token     bearer token sent as `authorization: Bearer TOKEN` on every call (plaintext or
              TLS); default the contents of `token_file`, else $EMAR_TOKEN; empty: none sent
    tls_ca    TLS, trusting this CA (a PEM file path, or PEM bytes); without it, plaintext
    tls_cert, tls_key   a client certificate and its key, for a coordinator with mutual TLS
    rpc_timeout      deadline of each unary call in seconds (CreateJob: ten times this; an
                     upload: this plus a second per MiB)
    watch_reattach   watch()/wait() re-attach after UNAVAILABLE for this long without contact
    """

    def __init__(self, address: Optional[str] = None, token: Optional[str] = None,
                 tls_ca=None, tls_cert=None, tls_key=None, *, token_file=None,
                 rpc_timeout: float = 60.0, watch_reattach: float = 600.0,
                 channel_options: Optional[List[Tuple[str, Any]]] = None):
        self.address = address or os.environ.get("EMAR_SERVER") or DEFAULT_ADDRESS
        if token is None and token_file is not None:
            try:
                with open(token_file, encoding="utf-8") as f:
                    token = f.read()
            except OSError as e:
                raise EmarError(f"token file {os.fspath(token_file)}: {e.strerror or e}",
                                code=grpc.StatusCode.INVALID_ARGUMENT) from None
        if token is None:
            token = os.environ.get("EMAR_TOKEN", "")
        token = token.strip()
        self._metadata: Tuple[Tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ())
        self.rpc_timeout = float(rpc_timeout)
        self.watch_reattach = float(watch_reattach)
        options = [
            ("grpc.max_receive_message_length", -1),  # reports of many candidates are large
            # A restarted coordinator is found again within ~2 s, not after gRPC's default
            # reconnect backoff (up to 120 s) and re-resolution cooldown (30 s); measured: 5-10 s
            # after a restart without these, under 1 s with them.
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 1000),
            ("grpc.max_reconnect_backoff_ms", 2000),
            ("grpc.dns_min_time_between_resolutions_ms", 500),
        ] + list(channel_options or [])
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        if tls_ca is not None:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=_read_pem(tls_ca, "tls_ca"),
                private_key=_read_pem(tls_key, "tls_key"),
                certificate_chain=_read_pem(tls_cert, "tls_cert"))
            self._channel = grpc.secure_channel(self.address, credentials, options=options)
        elif tls_cert is not None:
            raise ValueError("tls_cert/tls_key need tls_ca (the CA of the coordinator's "
                             "certificate), as emarctl")
        else:
            self._channel = grpc.insecure_channel(self.address, options=options)
        self._stub = service_pb2_grpc.EvaluationServiceStub(self._channel)
        # Whether any call of this client reached the coordinator: a watch that never hears from
        # a coordinator this client never reached fails at once (a wrong address), instead of
        # re-attaching for watch_reattach.
        self._contacted = False

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.address!r})"

    # -- calls ----------------------------------------------------------------------------------

    def _call(self, method, request, timeout: Optional[float] = None, prefix: str = ""):
        try:
            response = method(request, timeout=self.rpc_timeout if timeout is None else timeout,
                              metadata=self._metadata)
        except grpc.RpcError as e:
            raise error_from_rpc(e, prefix) from None
        self._contacted = True
        return response

    def _load(self, job: JobLike, base_dir) -> Tuple[job_pb2.JobSpec, List[JobInput]]:
        if isinstance(job, job_pb2.JobSpec):
            return job, job_inputs(job, os.fspath(base_dir) if base_dir is not None else ".")
        if isinstance(job, Mapping):
            return job_from_dict(job, base_dir)
        if isinstance(job, (str, os.PathLike)):
            if base_dir is not None:
                raise ValueError("base_dir is for dict jobs: a job file's paths are relative to it")
            return load_job_file(job)
        raise TypeError("job must be a job file path, a dict or a JobSpec, not "
                        f"{type(job).__name__}")

    def upload(self, local_path: str, sha256: Optional[str] = None,
               size_bytes: Optional[int] = None) -> Dict[str, Any]:
        """Streams one file as blob `sha256` (computed when not given): the first message carries
        sha256 and size_bytes, then 1 MiB chunks. Returns the UploadBlobResponse as a dict."""
        local_path = os.fspath(local_path)
        if sha256 is None or size_bytes is None:
            sha256, size_bytes = self._hash(local_path)

        def requests():
            with open(local_path, "rb") as f:
                chunk = f.read(CHUNK_BYTES)
                # An empty file is the header alone.
                yield service_pb2.UploadBlobRequest(sha256=sha256, size_bytes=size_bytes,
                                                    chunk=chunk)
                while chunk:
                    chunk = f.read(CHUNK_BYTES)
                    if chunk:
                        yield service_pb2.UploadBlobRequest(chunk=chunk)

        response = self._call(self._stub.UploadBlob, requests(),
                              timeout=self.rpc_timeout + (size_bytes >> 20),
                              prefix=f"uploading {local_path}: ")
        return to_dict(response)

    @staticmethod
    def _hash(local_path: str, field: Optional[str] = None) -> Tuple[str, int]:
        """(sha256, size) of a local file; NotFound (or INTERNAL) naming the spec field and the
        file, as emarctl."""
        prefix = f"job spec field '{field}': " if field else ""
        try:
            return _hash_file(local_path)
        except FileNotFoundError as e:
            raise NotFound(f"{prefix}{local_path}: {e.strerror}") from None
        except OSError as e:
            raise EmarError(f"{prefix}{local_path}: {e.strerror or e}",
                            code=grpc.StatusCode.INTERNAL) from None

    def submit(self, job: JobLike, *, labels: Optional[Mapping[str, Any]] = None,
               request_id: Optional[str] = None, base_dir=None) -> Dict[str, Any]:
        """Hashes every input, uploads those the coordinator lacks, creates the job and returns
        it (a dict). `job`: a job file path (YAML or JSON), a dict in the job file's shape (paths
        relative to `base_dir`, default the current directory) or an emar.v1.JobSpec. `labels`
        (e.g. {"run": "exp-42", "step": 1500}; values become strings) are added to the job's own.
        CreateJob carries `request_id` (default a random uuid4) and is retried with it while the
        coordinator is UNAVAILABLE: a retry never makes a second job. The same request_id with a
        different spec or inputs raises AlreadyExists naming the job it created."""
        spec, inputs = self._load(job, base_dir)
        if labels:
            spec = job_pb2.JobSpec.FromString(spec.SerializeToString())  # the caller's stays
            for key, value in labels.items():
                spec.labels[str(key)] = str(value)
        request = service_pb2.CreateJobRequest(spec=spec,
                                               request_id=request_id or str(uuid.uuid4()))
        local: Dict[str, Tuple[str, int]] = {}  # sha256 -> (a local path with it, size)
        for inp in inputs:
            sha, size = self._hash(inp.local_path, inp.field)
            request.input_digests[inp.spec_path] = sha
            local.setdefault(sha, (inp.local_path, size))
        missing = self._call(self._stub.FindMissingBlobs,
                             service_pb2.FindMissingBlobsRequest(sha256=list(local)))
        for sha in missing.missing_sha256:
            if sha in local:
                path, size = local[sha]
                self.upload(path, sha, size)
        give_up = time.monotonic() + self.rpc_timeout
        backoff = _FIRST_BACKOFF
        while True:
            try:
                return to_dict(self._call(self._stub.CreateJob, request,
                                          timeout=10 * self.rpc_timeout))
            except Unavailable:
                if time.monotonic() + backoff > give_up:
                    raise
            time.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    def watch(self, job_id: str, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """Yields the job (a dict) at once and after every change, and ends after a terminal
        state. After UNAVAILABLE (a coordinator restarting or shutting down) it attaches again,
        backing off from 0.1 s to 2 s, for up to `watch_reattach` seconds (10 minutes) without
        hearing from the coordinator; snapshots may then repeat. `timeout` bounds the whole watch
        (DeadlineExceeded)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        request = service_pb2.WatchJobRequest(job_id=job_id)
        last_contact = time.monotonic()
        backoff = _FIRST_BACKOFF
        heard = False
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(f"job {job_id} not finished within {timeout} s",
                                       job_id=job_id)
            call = self._stub.WatchJob(request, timeout=remaining, metadata=self._metadata)
            last = None
            try:
                for event in call:
                    last = event.job
                    last_contact = time.monotonic()
                    heard = self._contacted = True
                    backoff = _FIRST_BACKOFF
                    yield to_dict(last)
                    if last.state in _TERMINAL:
                        return
                why = "the watch stream ended before the job did"
            except grpc.RpcError as e:
                code = e.code()
                if code == grpc.StatusCode.DEADLINE_EXCEEDED and deadline is not None:
                    raise DeadlineExceeded(f"job {job_id} not finished within {timeout} s",
                                           job_id=job_id) from None
                # CANCELLED too: this client never cancels a running watch, so it comes from a
                # coordinator going away (as emarctl's EvaluationClient::Watch).
                if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                    raise error_from_rpc(e) from None
                if not heard and not self._contacted:
                    raise error_from_rpc(e) from None  # never reached it: say so now
                why = e.details() or code.name
            finally:
                call.cancel()
            if time.monotonic() - last_contact > self.watch_reattach:
                raise Unavailable(f"watch of job '{job_id}': no answer for "
                                  f"{self.watch_reattach:g} s; last error: {why}", job_id=job_id)
            pause = backoff if deadline is None else max(0.0, min(backoff,
                                                                   deadline - time.monotonic()))
            time.sleep(pause)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    def wait(self, job_id: str, timeout: Optional[float] = None) -> Dict[str, Any]:
        """Follows the job (watch) until it ends and returns it: SUCCEEDED or CANCELLED; FAILED
        raises JobFailed with the job's error."""
        final = None
        for final in self.watch(job_id, timeout=timeout):
            pass
        if final is None or final.get("state") not in TERMINAL_STATES:  # pragma: no cover
            raise Unavailable(f"watch of job '{job_id}' ended before the job did", job_id=job_id)
        if final["state"] == "JOB_STATE_FAILED":
            raise JobFailed(final)
        return final

    def evaluate(self, job: JobLike, labels: Optional[Mapping[str, Any]] = None,
                 timeout: Optional[float] = None, *, request_id: Optional[str] = None,
                 base_dir=None) -> Dict[str, Any]:
        """submit + wait + report: the report dict. A failed gate is in the report
        (`"gates_passed": False`, and the gate's `"passed": False`), not an error. JobFailed /
        JobCancelled when the job does not succeed; DeadlineExceeded after `timeout` seconds (the
        job goes on: its id is the error's job_id)."""
        start = time.monotonic()
        created = self.submit(job, labels=labels, request_id=request_id, base_dir=base_dir)
        job_id = created["job_id"]
        remaining = None if timeout is None else max(0.0, timeout - (time.monotonic() - start))
        final = self.wait(job_id, timeout=remaining)
        if final["state"] == "JOB_STATE_CANCELLED":
            raise JobCancelled(final)
        return self.report(job_id)

    def status(self, job_id: str) -> Dict[str, Any]:
        """The job now (GetJob)."""
        return to_dict(self._call(self._stub.GetJob, service_pb2.GetJobRequest(job_id=job_id)))

    def report(self, job_id: str) -> Dict[str, Any]:
        """The report of a finished job (GetReport)."""
        return to_dict(self._call(self._stub.GetReport,
                                  service_pb2.GetReportRequest(job_id=job_id)))

    def list(self, limit: Optional[int] = 50, labels: Optional[Mapping[str, Any]] = None,
             page_size: int = 100) -> List[Dict[str, Any]]:
        """Jobs newest first (ListJobs), only those carrying every one of `labels`; at most
        `limit` of them (None: all), fetched `page_size` at a time."""
        jobs: List[Dict[str, Any]] = []
        token = ""
        while limit is None or len(jobs) < limit:
            size = page_size if limit is None else min(page_size, limit - len(jobs))
            jobs_page, token = self.list_page(size, labels, token)
            jobs.extend(jobs_page)
            if not token:
                break
        return jobs

    def list_page(self, limit: int = 50, labels: Optional[Mapping[str, Any]] = None,
                  page_token: str = "") -> Tuple[List[Dict[str, Any]], str]:
        """One page of ListJobs: (jobs, next_page_token); the token is "" on the last page."""
        request = service_pb2.ListJobsRequest(
            limit=limit, page_token=page_token,
            labels={str(k): str(v) for k, v in (labels or {}).items()})
        response = self._call(self._stub.ListJobs, request)
        return [to_dict(j) for j in response.jobs], response.next_page_token

    def series(self, labels: Mapping[str, Any], by: str) -> Dict[str, Any]:
        """A run's finished jobs side by side (GetSeries): {"by", "points": [{"value", "job_id",
        "candidates": [{"name", "emar", "target_delta", "benchmark_delta", "gates_passed",
        ...}], ...}], "skipped": [{"job_id", "reason"}], "numeric"}, one point per finished job
        carrying every one of `labels`, ordered by its label `by` (numerically when every value
        is a number)."""
        request = service_pb2.GetSeriesRequest(
            labels={str(k): str(v) for k, v in labels.items()}, by=by)
        return to_dict(self._call(self._stub.GetSeries, request))

    def cancel(self, job_id: str) -> Dict[str, Any]:
        """Cancels the job; returns it (CancelJob)."""
        return to_dict(self._call(self._stub.CancelJob,
                                  service_pb2.CancelJobRequest(job_id=job_id)))

    def delete(self, job_id: str) -> Dict[str, Any]:
        """Removes a finished job and the blobs no other job reads: {"job_id", "blobs_removed",
        "bytes_freed"} (DeleteJob). A queued or running job is FailedPrecondition."""
        return to_dict(self._call(self._stub.DeleteJob,
                                  service_pb2.DeleteJobRequest(job_id=job_id)))


def gates_passed(report: Mapping[str, Any]) -> bool:
    """Whether every candidate passed every gate (the report's `gates_passed`)."""
    return bool(report.get("gates_passed", False))


def failed_gates(report: Mapping[str, Any]) -> List[Tuple[str, str]]:
    """(candidate, gate) for every gate that failed, e.g. [("lora-r16", "min_emar")]."""
    return [(c.get("name", ""), g.get("gate", "")) for c in report.get("candidates", [])
            for g in c.get("gates", []) if not g.get("passed", False)]
