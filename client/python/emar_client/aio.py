"""The EMAR client on asyncio (grpc.aio): the methods of emar_client.Client, as coroutines.

    import asyncio, emar_client.aio

    async def main():
        async with emar_client.aio.Client() as client:
            report = await client.evaluate(job, timeout=600, on_progress=print)
            async for job in client.watch(report.job_id):   # an async iterator
                ...
    asyncio.run(main())

Hashing and serializing inputs run on the default executor, so the event loop keeps turning.
Results and errors are those of the blocking client.
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any, AsyncIterator, Dict, List, Mapping, Optional, Tuple

import grpc
import grpc.aio

from . import _core
from ._core import Deadline, JobLike, ProgressCallback, Source
from ._proto import job_pb2, service_pb2, service_pb2_grpc
from .client import DEFAULT_ADDRESS
from .errors import JobCancelled, JobFailed, Unavailable, error_from_rpc
from .hints import Connection
from .results import Job, Report, message_to_dict

__all__ = ["Client"]

_TERMINAL = {job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED}


class Client:
    """emar_client.Client's arguments and methods, on grpc.aio. Create it inside the event loop
    that uses it; `await client.close()` (or `async with`) when done."""

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
        self._channel = (grpc.aio.insecure_channel(self.address, options=options)
                         if creds is None
                         else grpc.aio.secure_channel(self.address, creds, options=options))
        stub = service_pb2_grpc.EvaluationServiceStub  # generated: no type information
        self._stub = stub(self._channel)  # type: ignore[no-untyped-call]
        self._contacted = False

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"aio.Client({self.address!r})"

    async def _call(self, method: Any, request: Any, timeout: Optional[float] = None,
                    prefix: str = "", deadline: Optional[Deadline] = None) -> Any:
        limit = self.rpc_timeout if timeout is None else timeout
        if deadline is not None:
            limit = deadline.rpc_timeout(limit)
        try:
            response = await method(request, timeout=limit, metadata=self._metadata)
        except grpc.RpcError as e:
            if deadline is not None and deadline.expired():
                raise deadline.error() from None
            raise error_from_rpc(e, prefix, self._connection) from None
        self._contacted = True
        return response

    async def upload(self, local_path: "str | os.PathLike[str]", sha256: Optional[str] = None,
                     size_bytes: Optional[int] = None) -> Dict[str, Any]:
        """As Client.upload."""
        source = Source("", os.fspath(local_path), local_path=os.fspath(local_path))
        if sha256 is None or size_bytes is None:
            sha256, size_bytes = await asyncio.get_running_loop().run_in_executor(
                None, _core.hash_source, source)
        assert sha256 is not None and size_bytes is not None
        response = await self._upload(source, sha256, size_bytes, None)
        return message_to_dict(response)

    async def _upload(self, source: Source, sha256: str, size: int,
                      deadline: Optional[Deadline]) -> Any:
        return await self._call(self._stub.UploadBlob,
                                _core.upload_requests(source, sha256, size),
                                timeout=self.rpc_timeout + (size >> 20),
                                prefix=f"uploading {source.name}: ", deadline=deadline)

    async def submit(self, job: JobLike, *, labels: Optional[Mapping[str, Any]] = None,
                     request_id: Optional[str] = None, base_dir: Any = None,
                     timeout: Optional[float] = None,
                     on_progress: Optional[ProgressCallback] = None) -> Job:
        """As Client.submit."""
        deadline = Deadline(timeout, "submit", on_progress)
        return await self._submit(job, labels, request_id, base_dir, deadline)

    async def _submit(self, job: JobLike, labels: Optional[Mapping[str, Any]],
                      request_id: Optional[str], base_dir: Any, deadline: Deadline,
                      reuse_scores: bool = True) -> Job:
        prepared = await asyncio.get_running_loop().run_in_executor(
            None, _core.prepare, job, labels, request_id, base_dir, deadline, reuse_scores)
        # As Client._submit: every try under one request id, after UNAVAILABLE only.
        backoff = _core.FIRST_BACKOFF
        give_up = _core.submit_give_up(deadline)
        heard: Dict[str, bool] = {}  # a coordinator never reached is not restarting: no retry
        while True:
            try:
                return await self._submit_once(prepared, deadline, heard)
            except Unavailable as e:
                if (time.monotonic() + backoff > give_up or not heard
                        or not _core.submit_retryable(e)):
                    raise
                deadline.enter("retrying", _core.retry_detail(e, backoff, prepared))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _core.MAX_BACKOFF)

    async def _submit_once(self, prepared: Any, deadline: Deadline,
                           heard: Dict[str, bool]) -> Job:
        deadline.enter("uploading", "FindMissingBlobs")
        missing = await self._call(self._stub.FindMissingBlobs,
                                   service_pb2.FindMissingBlobsRequest(
                                       sha256=list(prepared.sources)), deadline=deadline)
        heard["coordinator"] = True
        todo = [sha for sha in missing.missing_sha256 if sha in prepared.sources]
        total = sum(prepared.sources[sha][1] for sha in todo)
        done = 0
        for sha in todo:
            source, size = prepared.sources[sha]
            deadline.enter("uploading", source.name, done, total)
            await self._upload(source, sha, size, deadline)
            done += size
        deadline.enter("creating", "CreateJob", done, total)
        created = Job.from_proto(await self._call(
            self._stub.CreateJob, prepared.request, timeout=10 * self.rpc_timeout,
            deadline=deadline))
        deadline.job(created)
        return created

    def watch(self, job_id: str, timeout: Optional[float] = None) -> AsyncIterator[Job]:
        """As Client.watch: `async for job in client.watch(job_id)`."""
        deadline = Deadline(timeout, f"watch of job {job_id}")
        deadline.job_id = job_id
        return self._watch(job_id, deadline)

    async def _watch(self, job_id: str, deadline: Deadline) -> AsyncIterator[Job]:
        request = service_pb2.WatchJobRequest(job_id=job_id)
        last_contact = time.monotonic()
        backoff = _core.FIRST_BACKOFF
        heard = False
        while True:
            deadline.check()
            call = self._stub.WatchJob(request, timeout=deadline.remaining(),
                                       metadata=self._metadata)
            try:
                async for event in call:
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
                if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                    raise error_from_rpc(e, "", self._connection) from None
                if not heard and not self._contacted:
                    raise error_from_rpc(e, "", self._connection) from None
                why = e.details() or code.name
            finally:
                call.cancel()
            if time.monotonic() - last_contact > self.watch_reattach:
                raise Unavailable(f"watch of job '{job_id}': no answer for "
                                  f"{self.watch_reattach:g} s; last error: {why}", job_id=job_id)
            left = deadline.remaining()
            await asyncio.sleep(backoff if left is None else max(0.0, min(backoff, left)))
            backoff = min(backoff * 2, _core.MAX_BACKOFF)

    async def wait(self, job_id: str, timeout: Optional[float] = None,
                   on_progress: Optional[ProgressCallback] = None) -> Job:
        """As Client.wait."""
        deadline = Deadline(timeout, f"wait for job {job_id}", on_progress)
        deadline.job_id = job_id
        return await self._wait(job_id, deadline)

    async def _wait(self, job_id: str, deadline: Deadline) -> Job:
        final = None
        async for final in self._watch(job_id, deadline):
            pass
        if final is None or not final.finished:  # pragma: no cover
            raise Unavailable(f"watch of job '{job_id}' ended before the job did", job_id=job_id)
        if final.state == "JOB_STATE_FAILED":
            raise JobFailed(final)
        return final

    async def evaluate(self, job: JobLike, labels: Optional[Mapping[str, Any]] = None,
                       timeout: Optional[float] = None, *, request_id: Optional[str] = None,
                       base_dir: Any = None,
                       on_progress: Optional[ProgressCallback] = None,
                       reuse_scores: bool = True) -> Report:
        """As Client.evaluate; `on_progress` is called on the event loop's thread, except during
        hashing (on the executor's)."""
        deadline = Deadline(timeout, "evaluate", on_progress)
        created = await self._submit(job, labels, request_id, base_dir, deadline, reuse_scores)
        final = await self._wait(created.job_id, deadline)
        if final.state == "JOB_STATE_CANCELLED":
            raise JobCancelled(final)
        report = await self._call(self._stub.GetReport,
                                  service_pb2.GetReportRequest(job_id=created.job_id),
                                  deadline=deadline)
        return Report.from_proto(report).with_job(final)

    async def status(self, job_id: str) -> Job:
        return Job.from_proto(await self._call(self._stub.GetJob,
                                               service_pb2.GetJobRequest(job_id=job_id)))

    async def report(self, job_id: str) -> Report:
        return Report.from_proto(await self._call(self._stub.GetReport,
                                                  service_pb2.GetReportRequest(job_id=job_id)))

    async def list(self, limit: Optional[int] = 50, labels: Optional[Mapping[str, Any]] = None,
                   page_size: int = 100) -> List[Job]:
        jobs: List[Job] = []
        token = ""
        while limit is None or len(jobs) < limit:
            size = page_size if limit is None else min(page_size, limit - len(jobs))
            jobs_page, token = await self.list_page(size, labels, token)
            jobs.extend(jobs_page)
            if not token:
                break
        return jobs

    async def list_page(self, limit: int = 50, labels: Optional[Mapping[str, Any]] = None,
                        page_token: str = "") -> Tuple[List[Job], str]:
        request = service_pb2.ListJobsRequest(limit=limit, page_token=page_token,
                                              labels=_core.labels_map(labels))
        response = await self._call(self._stub.ListJobs, request)
        return [Job.from_proto(j) for j in response.jobs], response.next_page_token

    async def series(self, labels: Mapping[str, Any], by: str) -> Dict[str, Any]:
        request = service_pb2.GetSeriesRequest(labels=_core.labels_map(labels), by=by)
        return message_to_dict(await self._call(self._stub.GetSeries, request))

    async def cancel(self, job_id: str) -> Job:
        return Job.from_proto(await self._call(self._stub.CancelJob,
                                               service_pb2.CancelJobRequest(job_id=job_id)))

    async def delete(self, job_id: str) -> Dict[str, Any]:
        response = await self._call(self._stub.DeleteJob,
                                    service_pb2.DeleteJobRequest(job_id=job_id))
        return {"job_id": response.job_id, "blobs_removed": response.blobs_removed,
                "bytes_freed": response.bytes_freed}
