"""emar_client.aio.Client (grpc.aio) against real coordinator and worker processes: the same
results, errors, progress and timeouts as the blocking client."""
import asyncio
import time

import pytest

import emar_client
import emar_client.aio
from emar_client import DeadlineExceeded, JobFailed, NotFound

from conftest import EXAMPLE
from test_in_memory import in_memory_job


def run(coroutine):
    return asyncio.run(coroutine)


def test_async_evaluate_gives_the_blocking_clients_report(service):
    reference = service.client().evaluate(str(EXAMPLE))

    async def main():
        seen = []
        async with emar_client.aio.Client(service.address) as client:
            report = await client.evaluate(in_memory_job(), labels={"run": "aio"},
                                           on_progress=seen.append)
            snapshots = [job async for job in client.watch(report.job_id)]
            jobs = await client.list(labels={"run": "aio"})
            status = await client.status(report.job_id)
            again = await client.report(report.job_id)
            waited = await client.wait(report.job_id)
        return report, seen, snapshots, jobs, status, again, waited

    report, seen, snapshots, jobs, status, again, waited = run(main())
    assert isinstance(report, emar_client.Report)
    assert report.candidates == reference.candidates
    assert report.job == status == waited and snapshots == [status]
    assert [j.job_id for j in jobs] == [report.job_id]
    assert again == report and again.job is None
    assert seen[0].phase == "hashing" and seen[-1].phase == "done"
    # Canonical JSONL differs from the files' bytes: scored anew, counted without another call.
    assert report.progress.shards_reused == 0 and report.progress.examples_scored == 7000


def test_async_errors_and_timeouts(make_service):
    service = make_service(workers=0)

    async def main():
        async with emar_client.aio.Client(service.address) as client:
            with pytest.raises(NotFound):
                await client.status("job-0000000000000000")
            started = time.monotonic()
            with pytest.raises(DeadlineExceeded) as e:
                await client.evaluate(str(EXAMPLE), timeout=1.0)
            took = time.monotonic() - started
            job = await client.cancel(e.value.job_id)
            deleted = await client.delete(job.job_id)
            return e.value, took, job, deleted

    error, took, job, deleted = run(main())
    assert error.phase == "queued" and "timeout=1 s" in error.message
    assert 1.0 <= took < 1.5, took
    assert job.state == "JOB_STATE_CANCELLED" and deleted["job_id"] == job.job_id


def test_async_job_failure(service):
    dup = in_memory_job()
    dup["base"]["benchmark_outputs"].append(dup["base"]["benchmark_outputs"][0])

    async def main():
        async with emar_client.aio.Client(service.address) as client:
            await client.evaluate(dup)

    with pytest.raises(JobFailed) as e:
        run(main())
    assert "memory:base.benchmark_outputs:1501" in e.value.message
