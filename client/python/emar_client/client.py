"""The EMAR client: emarctl's calls to emar.v1.EvaluationService, from Python.

    from emar_client import Client
    report = Client("coordinator:50051").evaluate("examples/restaurant-sentiment/job.yaml")
    print(report.candidates[0].emar.value, report.gates_passed, report.progress.shards_reused)

Results are typed (results.py): Report, Job, Progress, ... with `to_dict()` giving emarctl's
`--format json` shape. `emar_client.aio.Client` has the same methods for asyncio.
"""
from __future__ import annotations

import os
import time
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import grpc

from . import _core
from ._core import CHUNK_BYTES, Deadline, JobLike, ProgressCallback, Source
from ._proto import job_pb2, service_pb2, service_pb2_grpc
from .errors import JobCancelled, JobFailed, Unavailable, error_from_rpc
from .hints import Connection
from .results import TERMINAL_STATES, Job, Report, message_to_dict

__all__ = ["Client", "DEFAULT_ADDRESS", "CHUNK_BYTES", "TERMINAL_STATES", "gates_passed",
           "failed_gates"]

DEFAULT_ADDRESS = "127.0.0.1:50051"
_TERMINAL = {job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED}


class Client:
    """A connection to an emar-coordinator's EvaluationService.

    address   HOST:PORT; default $EMAR_SERVER, else 127.0.0.1:50051 (as emarctl --server)
    token     bearer token sent as `authorization: Bearer TOKEN` on every call (plaintext or
              TLS); default the contents of `token_file`, else $EMAR_TOKEN; empty: none sent
    tls_ca    TLS, trusting this CA (a PEM file path, or PEM bytes); without it, plaintext
    tls_cert, tls_key   a client certificate and its key, for a coordinator with mutual TLS
    rpc_timeout      deadline of each unary call in seconds (CreateJob: ten times this; an
                     upload: this plus a second per MiB), always cut to a whole call's timeout
    watch_reattach   watch()/wait() re-attach after UNAVAILABLE for this long without contact
    """

    def __init__(self, address: Optional[str] = None, token: Optional[str] = None,
                 tls_ca: Any = None, tls_cert: Any = None, tls_key: Any = None, *,
                 token_file: Any = None, rpc_timeout: float = 60.0, watch_reattach: float = 600.0,
                 channel_options: Optional[List[Tuple[str, Any]]] = None) -> None:
        self.address = address or os.environ.get("EMAR_SERVER") or DEFAULT_ADDRESS
        token = _core.resolve_token(token, token_file)
        self._metadata: Tuple[Tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ())
        self.rpc_timeout = float(rpc_timeout)
        self.watch_reattach = float(watch_reattach)
        self._connection = Connection(self.address, bool(token), tls_ca is not None,
                                      tls_cert is not None)
        options = _core.CHANNEL_OPTIONS + list(channel_options or [])
        creds = _core.credentials(tls_ca, tls_cert, tls_key)
        self._channel = (grpc.insecure_channel(self.address, options=options) if creds is None
                         else grpc.secure_channel(self.address, creds, options=options))
        stub = service_pb2_grpc.EvaluationServiceStub  # generated: no type information
        self._stub = stub(self._channel)  # type: ignore[no-untyped-call]
        # Whether any call of this client reached the coordinator: a watch that never hears from
        # a coordinator this client never reached fails at once (a wrong address), instead of
        # re-attaching for watch_reattach.
        self._contacted = False

    # -- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.address!r})"

    # -- calls ----------------------------------------------------------------------------------

    def _call(self, method: Any, request: Any, timeout: Optional[float] = None,
              prefix: str = "", deadline: Optional[Deadline] = None) -> Any:
        limit = self.rpc_timeout if timeout is None else timeout
        if deadline is not None:
            limit = deadline.rpc_timeout(limit)
        try:
            response = method(request, timeout=limit, metadata=self._metadata)
        except grpc.RpcError as e:
            if deadline is not None and deadline.expired():
                raise deadline.error() from None
            raise error_from_rpc(e, prefix, self._connection) from None
        self._contacted = True
        return response

    def upload(self, local_path: "str | os.PathLike[str]", sha256: Optional[str] = None,
               size_bytes: Optional[int] = None) -> Dict[str, Any]:
        """Streams one file as blob `sha256` (computed when not given): the first message carries
        sha256 and size_bytes, then 1 MiB chunks. Returns the UploadBlobResponse as a dict."""
        source = Source("", os.fspath(local_path), local_path=os.fspath(local_path))
        if sha256 is None or size_bytes is None:
            sha256, size_bytes = _core.hash_source(source)
        return message_to_dict(self._upload(source, sha256, size_bytes, None))

    def _upload(self, source: Source, sha256: str, size: int,
                deadline: Optional[Deadline]) -> Any:
        return self._call(self._stub.UploadBlob, _core.upload_requests(source, sha256, size),
                          timeout=self.rpc_timeout + (size >> 20),
                          prefix=f"uploading {source.name}: ", deadline=deadline)

    def submit(self, job: JobLike, *, labels: Optional[Mapping[str, Any]] = None,
               request_id: Optional[str] = None, base_dir: Any = None,
               timeout: Optional[float] = None,
               on_progress: Optional[ProgressCallback] = None) -> Job:
        """Hashes every input, uploads those the coordinator lacks, creates the job and returns
        it. `job`: a job file path (YAML or JSON), a dict in the job file's shape (paths relative
        to `base_dir`, default the current directory; any path may instead be records in memory:
        a list or iterable of dicts, or a pandas DataFrame) or an emar.v1.JobSpec. `labels`
        (values become strings) are added to the job's own. CreateJob carries `request_id`
        (default a random uuid4). While the coordinator is UNAVAILABLE (restarting, even
        mid-upload) the upload of what it lacks and CreateJob are tried again with that id, with
        backoff, until `timeout` (or 60 s without one; on_progress sees phase "retrying"): a
        retry never makes a second job; other errors, and a coordinator that never answered
        (a wrong address, TLS that fails), are raised at once. The same request_id
        with a different spec or inputs raises AlreadyExists naming the job it created.
        `timeout` bounds the whole call."""
        deadline = Deadline(timeout, "submit", on_progress)
        return self._submit(job, labels, request_id, base_dir, deadline)

    def _submit(self, job: JobLike, labels: Optional[Mapping[str, Any]],
                request_id: Optional[str], base_dir: Any, deadline: Deadline,
                reuse_scores: bool = True) -> Job:
        prepared = _core.prepare(job, labels, request_id, base_dir, deadline, reuse_scores)
        # Every try under one request id (the coordinator makes one job): after UNAVAILABLE (a
        # coordinator restarting mid-upload) the blobs it still lacks are uploaded and the job
        # created again, with backoff, until `timeout` (without one, SUBMIT_RETRY seconds).
        backoff = _core.FIRST_BACKOFF
        give_up = _core.submit_give_up(deadline)
        heard: Dict[str, bool] = {}  # a coordinator never reached is not restarting: no retry
        while True:
            try:
                return self._submit_once(prepared, deadline, heard)
            except Unavailable as e:
                if (time.monotonic() + backoff > give_up or not heard
                        or not _core.submit_retryable(e)):
                    raise
                deadline.enter("retrying", _core.retry_detail(e, backoff, prepared))
            time.sleep(backoff)
            backoff = min(backoff * 2, _core.MAX_BACKOFF)

    def _submit_once(self, prepared: Any, deadline: Deadline,
                     heard: Dict[str, bool]) -> Job:
        deadline.enter("uploading", "FindMissingBlobs")
        missing = self._call(self._stub.FindMissingBlobs, service_pb2.FindMissingBlobsRequest(
            sha256=list(prepared.sources)), deadline=deadline)
        heard["coordinator"] = True
        todo = [sha for sha in missing.missing_sha256 if sha in prepared.sources]
        total = sum(prepared.sources[sha][1] for sha in todo)
        done = 0
        for sha in todo:
            source, size = prepared.sources[sha]
            deadline.enter("uploading", source.name, done, total)
            self._upload(source, sha, size, deadline)
            done += size
        deadline.enter("creating", "CreateJob", done, total)
        created = Job.from_proto(self._call(self._stub.CreateJob, prepared.request,
                                            timeout=10 * self.rpc_timeout, deadline=deadline))
        deadline.job(created)
        return created

    def watch(self, job_id: str, timeout: Optional[float] = None) -> Iterator[Job]:
        """Yields the job at once and after every change, and ends after a terminal state.
        After UNAVAILABLE (a coordinator restarting or shutting down) it attaches again, backing
        off from 0.1 s to 2 s, for up to `watch_reattach` seconds (10 minutes) without hearing
        from the coordinator; snapshots may then repeat. `timeout` bounds the whole watch
        (DeadlineExceeded)."""
        deadline = Deadline(timeout, f"watch of job {job_id}")
        deadline.job_id = job_id
        return self._watch(job_id, deadline)

    def _watch(self, job_id: str, deadline: Deadline) -> Iterator[Job]:
        request = service_pb2.WatchJobRequest(job_id=job_id)
        last_contact = time.monotonic()
        backoff = _core.FIRST_BACKOFF
        heard = False
        while True:
            deadline.check()
            call = self._stub.WatchJob(request, timeout=deadline.remaining(),
                                       metadata=self._metadata)
            try:
                for event in call:
                    last_contact = time.monotonic()
                    heard = self._contacted = True
                    backoff = _core.FIRST_BACKOFF
                    job = Job.from_proto(event.job)
                    deadline.job(job)
                    yield job
                    if event.job.state in _TERMINAL:
                        return
                why = "the watch stream ended before the job did"
            except grpc.RpcError as e:
                code = e.code()
                if code == grpc.StatusCode.DEADLINE_EXCEEDED and deadline.expired():
                    raise deadline.error() from None
                # CANCELLED too: this client never cancels a running watch, so it comes from a
                # coordinator going away (as emarctl's EvaluationClient::Watch).
                if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                    raise error_from_rpc(e, "", self._connection) from None
                if not heard and not self._contacted:
                    raise error_from_rpc(e, "", self._connection) from None  # never reached
                why = e.details() or code.name
            finally:
                call.cancel()
            if time.monotonic() - last_contact > self.watch_reattach:
                raise Unavailable(f"watch of job '{job_id}': no answer for "
                                  f"{self.watch_reattach:g} s; last error: {why}", job_id=job_id)
            left = deadline.remaining()
            time.sleep(backoff if left is None else max(0.0, min(backoff, left)))
            backoff = min(backoff * 2, _core.MAX_BACKOFF)

    def wait(self, job_id: str, timeout: Optional[float] = None,
             on_progress: Optional[ProgressCallback] = None) -> Job:
        """Follows the job until it ends and returns it: SUCCEEDED or CANCELLED; FAILED raises
        JobFailed with the job's error. `on_progress(Progress)` is called with every snapshot."""
        deadline = Deadline(timeout, f"wait for job {job_id}", on_progress)
        deadline.job_id = job_id
        return self._wait(job_id, deadline)

    def _wait(self, job_id: str, deadline: Deadline) -> Job:
        final = None
        for final in self._watch(job_id, deadline):
            pass
        if final is None or not final.finished:  # pragma: no cover
            raise Unavailable(f"watch of job '{job_id}' ended before the job did", job_id=job_id)
        if final.state == "JOB_STATE_FAILED":
            raise JobFailed(final)
        return final

    def evaluate(self, job: JobLike, labels: Optional[Mapping[str, Any]] = None,
                 timeout: Optional[float] = None, *, request_id: Optional[str] = None,
                 base_dir: Any = None, on_progress: Optional[ProgressCallback] = None,
                 reuse_scores: bool = True) -> Report:
        """submit + wait + report: the Report, its `job` the final job watched (progress and
        reuse counts). A failed gate is in the report (`gates_passed` False), not an error.
        `reuse_scores=False` scores every shard afresh, reusing nothing from the coordinator's
        score cache (JobSpec.no_cache; its fresh results replace the cache's entries).
        JobFailed / JobCancelled when the job does not succeed. `timeout` bounds the whole call
        (hashing, upload, CreateJob, the wait and GetReport): DeadlineExceeded says the timeout
        and the phase reached; a job already created goes on (its id is the error's job_id).
        `on_progress(Progress)` is called at each phase and job snapshot, on this thread."""
        deadline = Deadline(timeout, "evaluate", on_progress)
        created = self._submit(job, labels, request_id, base_dir, deadline, reuse_scores)
        final = self._wait(created.job_id, deadline)
        if final.state == "JOB_STATE_CANCELLED":
            raise JobCancelled(final)
        report = self._call(self._stub.GetReport,
                            service_pb2.GetReportRequest(job_id=created.job_id),
                            deadline=deadline)
        return Report.from_proto(report).with_job(final)

    def status(self, job_id: str) -> Job:
        """The job now (GetJob)."""
        return Job.from_proto(self._call(self._stub.GetJob,
                                         service_pb2.GetJobRequest(job_id=job_id)))

    def report(self, job_id: str) -> Report:
        """The report of a finished job (GetReport); its `job` is None."""
        return Report.from_proto(self._call(self._stub.GetReport,
                                            service_pb2.GetReportRequest(job_id=job_id)))

    def list(self, limit: Optional[int] = 50, labels: Optional[Mapping[str, Any]] = None,
             page_size: int = 100) -> List[Job]:
        """Jobs newest first (ListJobs), only those carrying every one of `labels`; at most
        `limit` of them (None: all), fetched `page_size` at a time."""
        jobs: List[Job] = []
        token = ""
        while limit is None or len(jobs) < limit:
            size = page_size if limit is None else min(page_size, limit - len(jobs))
            jobs_page, token = self.list_page(size, labels, token)
            jobs.extend(jobs_page)
            if not token:
                break
        return jobs

    def list_page(self, limit: int = 50, labels: Optional[Mapping[str, Any]] = None,
                  page_token: str = "") -> Tuple[List[Job], str]:
        """One page of ListJobs: (jobs, next_page_token); the token is "" on the last page."""
        request = service_pb2.ListJobsRequest(limit=limit, page_token=page_token,
                                              labels=_core.labels_map(labels))
        response = self._call(self._stub.ListJobs, request)
        return [Job.from_proto(j) for j in response.jobs], response.next_page_token

    def series(self, labels: Mapping[str, Any], by: str,
               dataset: Optional[str] = None) -> Dict[str, Any]:
        """A run's finished jobs side by side (GetSeries), as emarctl series --format json:
        {"by", "points": [{"value", "job_id", "candidates": [...], ...}], "skipped", "numeric"}.
        `dataset` follows one dataset of a suite (its primary scores) instead of the target and
        benchmark aggregates."""
        request = service_pb2.GetSeriesRequest(labels=_core.labels_map(labels), by=by,
                                               dataset=dataset or "")
        return message_to_dict(self._call(self._stub.GetSeries, request))

    def cancel(self, job_id: str) -> Job:
        """Cancels the job; returns it (CancelJob)."""
        return Job.from_proto(self._call(self._stub.CancelJob,
                                         service_pb2.CancelJobRequest(job_id=job_id)))

    def delete(self, job_id: str) -> Dict[str, Any]:
        """Removes a finished job and the blobs no other job reads: {"job_id", "blobs_removed",
        "bytes_freed"} (DeleteJob; bytes_freed an int). A queued or running job is
        FailedPrecondition."""
        response = self._call(self._stub.DeleteJob, service_pb2.DeleteJobRequest(job_id=job_id))
        return {"job_id": response.job_id, "blobs_removed": response.blobs_removed,
                "bytes_freed": response.bytes_freed}


def gates_passed(report: Report) -> bool:
    """Whether every candidate passed every gate (the report's `gates_passed`)."""
    return report.gates_passed


def failed_gates(report: Report) -> List[Tuple[str, str]]:
    """(candidate, gate) for every gate that failed, e.g. [("lora-r16", "min_emar")]."""
    return list(report.failed_gates())
