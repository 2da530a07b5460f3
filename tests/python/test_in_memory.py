"""In-memory inputs, progress and the whole-call timeout against real coordinator and worker
processes.

    PYTHONPATH=build/python EMAR_BIN_DIR=build/bin /usr/bin/python3 -m pytest -q -s \
        tests/python/test_in_memory.py      # -s shows the measured timeouts
"""
import hashlib
import json
import os
import signal
import time

import pytest
import yaml

import emar_client
from emar_client import DeadlineExceeded, InvalidArgument, JobFailed

from conftest import EXAMPLE


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def in_memory_job(shuffle_keys=False):
    """The example job with every input read into lists of dicts: a loop that holds its
    predictions in memory and never writes a file."""
    with open(EXAMPLE) as f:
        job = yaml.safe_load(f)
    root = EXAMPLE.parent

    def records(path):
        rows = read_jsonl(root / path)
        if shuffle_keys:  # the same data, keys in another order
            rows = [dict(reversed(list(r.items()))) for r in rows]
        return rows
    for key in ("target", "benchmark"):
        job[key]["references"] = records(job[key]["references"])
    for model in [job["base"]] + job["candidates"]:
        for key in ("target_outputs", "benchmark_outputs"):
            model[key] = records(model[key])
    return job


def test_in_memory_inputs_give_the_files_report_and_hit_the_score_cache(service):
    client = service.client()
    from_files = client.evaluate(str(EXAMPLE))
    assert from_files.job.progress.shards_reused == 0
    job = in_memory_job()
    first = client.evaluate(job)
    # The same scores as from the files (whose bytes differ from canonical JSONL).
    assert first.candidates == from_files.candidates
    inputs = {i.role: i for i in first.provenance.inputs}
    outputs = inputs["lora-r16.target_outputs"]
    assert outputs.path_or_name == "memory:candidates[0].target_outputs"
    canonical = emar_client.canonical_jsonl(job["candidates"][0]["target_outputs"], "x")
    assert outputs.sha256 == hashlib.sha256(canonical).hexdigest()
    assert outputs.size_bytes == len(canonical)
    # The caller's dict still holds its records.
    assert isinstance(job["base"]["target_outputs"], list)

    # The same data again, keys in another order, as iterators: identical bytes, so every shard
    # comes from the score cache, and the report says so without another call.
    again = in_memory_job(shuffle_keys=True)
    for model in [again["base"]] + again["candidates"]:
        model["target_outputs"] = iter(model["target_outputs"])
    second = client.evaluate(again)
    progress = second.progress
    assert progress.shards_total > 0 and progress.shards_reused == progress.shards_total
    assert progress.examples_scored == 0 and progress.examples_reused == 7000  # 2000+1500, twice
    assert second.flat()["job/shards_reused"] == float(progress.shards_total)
    assert [i.sha256 for i in second.provenance.inputs] == \
        [i.sha256 for i in first.provenance.inputs]
    assert second.candidates == first.candidates
    # Asked not to reuse scores, the same data is scored again, to the same report.
    third = client.evaluate(in_memory_job(), reuse_scores=False)
    assert third.progress.shards_reused == 0 and third.progress.examples_scored == 7000
    assert third.candidates == first.candidates


def test_a_dataframe_is_an_input_too(service):
    pandas = pytest.importorskip("pandas")
    client = service.client()
    job = in_memory_job()
    first = client.evaluate(job)
    frame_job = in_memory_job()
    frame_job["candidates"][0]["target_outputs"] = pandas.DataFrame(
        job["candidates"][0]["target_outputs"])
    report = client.evaluate(frame_job)
    assert report.candidates == first.candidates
    assert report.progress.shards_reused == report.progress.shards_total


def test_in_memory_mixes_with_files_and_bad_records_are_named(service):
    client = service.client()
    job = in_memory_job()
    job["target"]["references"] = "data/target.jsonl"  # a file beside records
    report = client.evaluate(job, base_dir=str(EXAMPLE.parent))
    assert report.candidates[0].emar.value == pytest.approx(0.2143, abs=1e-4)
    # Refused before any call: the field, the record and the key.
    bad = in_memory_job()
    bad["base"]["benchmark_outputs"][6]["prediction"] = float("nan")
    with pytest.raises(InvalidArgument) as e:
        client.submit(bad)
    assert e.value.message == ("job spec field 'base.benchmark_outputs': record 7, key "
                               "'prediction': nan is not a JSON number")
    # Found by the worker: the job fails naming the in-memory input and its line.
    dup = in_memory_job()
    dup["candidates"][0]["target_outputs"].append(dup["candidates"][0]["target_outputs"][0])
    with pytest.raises(JobFailed) as e:
        client.evaluate(dup)
    assert "memory:candidates[0].target_outputs:2001" in e.value.message, e.value.message
    assert "duplicate" in e.value.message


def test_on_progress_sees_every_phase(service):
    client = service.client()
    seen = []
    job = in_memory_job()
    report = client.evaluate(job, on_progress=seen.append)
    phases = [p.phase for p in seen]
    assert phases[0] == "hashing" and "uploading" in phases and "creating" in phases
    assert phases[-1] == "done"
    assert phases.index("creating") < phases.index("done")
    assert all(a.elapsed <= b.elapsed for a, b in zip(seen, seen[1:]))
    last = seen[-1]
    assert last.job_id == report.job_id and last.shards_done == last.shards_total > 0
    assert last.shards_done == report.progress.shards_done
    hashing = [p for p in seen if p.phase == "hashing" and p.bytes_total]
    total = sum(len(emar_client.canonical_jsonl(rows, "f")) for rows in (
        job["target"]["references"], job["benchmark"]["references"],
        job["base"]["target_outputs"], job["base"]["benchmark_outputs"],
        job["candidates"][0]["target_outputs"], job["candidates"][0]["benchmark_outputs"]))
    assert hashing[-1].bytes_total == total and hashing[-1].bytes_done < total
    uploads = [p for p in seen if p.phase == "uploading" and p.bytes_total]
    assert uploads and uploads[0].bytes_total == total and uploads[0].bytes_done == 0
    assert "shards" in str(last) and report.job_id in str(last)


def slow_records(rows, seconds_each):
    for row in rows:
        time.sleep(seconds_each)
        yield row


def measure(call):
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded) as e:
        call()
    return time.monotonic() - started, e.value


def test_timeout_bounds_every_phase(make_service, tmp_path):
    service = make_service(workers=0)  # nothing is scored: a created job stays queued
    client = service.client(rpc_timeout=30)
    figures = {}

    # Hashing: records that arrive slowly (2,000 x 5 ms = 10 s of serializing).
    job = in_memory_job()
    job["base"]["target_outputs"] = slow_records(job["base"]["target_outputs"], 0.005)
    took, e = measure(lambda: client.evaluate(job, timeout=1.0))
    figures["hashing"] = took
    assert e.phase == "hashing" and e.timeout == 1.0 and e.job_id is None
    assert "timeout=1 s" in e.message and "hashing (serializing base.target_outputs)" in \
        e.message and "no job was created" in e.message, e.message

    # Uploading: a coordinator that stopped answering (SIGSTOP) after the connection was made.
    client.list()
    job = in_memory_job()
    os.kill(service.coordinator.pid, signal.SIGSTOP)
    try:
        took, e = measure(lambda: client.evaluate(job, timeout=1.5))
    finally:
        os.kill(service.coordinator.pid, signal.SIGCONT)
    figures["uploading"] = took
    assert e.phase == "uploading" and "timeout=1.5 s" in e.message, e.message

    # Waiting: the job is created and stays queued (no worker); it goes on after the error.
    took, e = measure(lambda: client.evaluate(str(EXAMPLE), timeout=2.0))
    figures["queued"] = took
    assert e.phase == "queued" and e.job_id and f"job {e.job_id} goes on" in e.message
    assert "timeout=2 s: it was queued (0/4 shards, 0 reused)" in e.message, e.message
    assert client.status(e.job_id).state == "JOB_STATE_QUEUED"

    # The asked timeout, not what was left of it, is what the message says (it said 0.0 s).
    took, e = measure(lambda: client.wait(e.job_id, timeout=0.5))
    figures["wait"] = took
    assert "timeout=0.5 s" in e.message and e.phase == "queued"

    print("\nevaluate(timeout=T) raised after: " + ", ".join(
        f"{phase} {took:.3f} s" for phase, took in figures.items()))
    asked = {"hashing": 1.0, "uploading": 1.5, "queued": 2.0, "wait": 0.5}
    for phase, took in figures.items():
        assert asked[phase] <= took < asked[phase] + 0.5, (phase, took)
