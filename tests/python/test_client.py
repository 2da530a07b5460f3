"""emar_client (client/python) against real emar-coordinator and emar-worker processes.

    PYTHONPATH=build/python EMAR_BIN_DIR=build/bin /usr/bin/python3 -m pytest -q tests/python
(ctest: python_client_test)
"""
import concurrent.futures
import json
import os
import shutil
import signal
import subprocess
import time

import grpc
import pytest
import yaml

import emar_client
from emar_client import (Client, DeadlineExceeded, EmarError, FailedPrecondition, InvalidArgument,
                         JobFailed, NotFound, PermissionDenied, Unauthenticated, Unavailable)
from emar_client.job_file import load_job_file, parse_job_text

from conftest import EXAMPLE, bin_dir


def without_job_id(report):
    report = report.to_dict() if hasattr(report, "to_dict") else dict(report)
    report.pop("job_id", None)
    return report


def example_dict():
    with open(EXAMPLE) as f:
        return yaml.safe_load(f)


def copy_example(tmp_path):
    """A writable copy of the example (job.yaml, data/, out/)."""
    dest = tmp_path / "example"
    shutil.copytree(EXAMPLE.parent, dest)
    return dest


def emarctl_report(service, job_id, token=None):
    code, out, err = service.emarctl("report", job_id, "--format", "json", token=token)
    assert code in (0, 3), err
    return json.loads(out)


@pytest.fixture(scope="module")
def embedded_report():
    """`emarctl run` of the example (the embedded coordinator): the reference report."""
    r = subprocess.run([str(bin_dir() / "emarctl"), "run", str(EXAMPLE), "--format", "json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_evaluate_the_example_gives_emarctls_report(service, embedded_report):
    client = service.client()
    report = client.evaluate(str(EXAMPLE))
    assert isinstance(report, emar_client.Report)
    assert report.job_id.startswith("job-")
    # to_dict() is emarctl's JSON field for field, job_id too.
    assert report.to_dict() == emarctl_report(service, report.job_id)
    assert without_job_id(report) == without_job_id(embedded_report)
    assert report.name == "restaurant-sentiment-lora"
    candidate = report.candidates[0]
    assert candidate.emar.value == pytest.approx(0.2143, abs=1e-4)
    assert candidate.target.delta.test == "mcnemar_exact"
    assert report.gates_passed is True and emar_client.gates_passed(report)
    assert emar_client.failed_gates(report) == []
    assert report.provenance.inputs[0].role == "target.references"
    assert report["gates_passed"] is True  # dict-style access to to_dict()
    # The job behind it, typed, and as emarctl prints it.
    job = client.status(report.job_id)
    assert job.state == "JOB_STATE_SUCCEEDED" and job.progress.phase == "done"
    code, out, _ = service.emarctl("status", report.job_id, "--format", "json")
    assert code == 0 and json.loads(out) == job.to_dict()
    assert report.job == job  # evaluate() kept the final job it watched
    assert [j.job_id for j in client.list()] == [report.job_id]
    assert client.wait(report.job_id) == job
    snapshots = list(client.watch(report.job_id))
    assert snapshots == [job]  # a finished job: one snapshot, then the end


def test_evaluate_a_dict_shaped_job(service, tmp_path, monkeypatch, embedded_report):
    client = service.client()
    # Paths relative to the current directory...
    monkeypatch.chdir(EXAMPLE.parent)
    assert without_job_id(client.evaluate(example_dict())) == without_job_id(embedded_report)
    # ... or to base_dir.
    monkeypatch.chdir(tmp_path)
    report = client.evaluate(example_dict(), base_dir=str(EXAMPLE.parent))
    assert without_job_id(report) == without_job_id(embedded_report)
    # A JSON job file is a job file too; paths relative to it.
    copy = copy_example(tmp_path)
    (copy / "job.json").write_text(json.dumps(example_dict()))
    report = client.evaluate(copy / "job.json")
    assert without_job_id(report) == without_job_id(embedded_report)
    # Everything was uploaded once: the later jobs found their blobs present.
    assert len(client.list()) == 3


def test_a_failed_gate_is_in_the_report_not_an_error(service):
    client = service.client()
    job = example_dict()
    job["gates"] = {"min_emar": 100}
    with pytest.raises(ValueError):
        client.submit(str(EXAMPLE), base_dir=str(EXAMPLE.parent))  # base_dir: dicts only
    report = client.evaluate(job, base_dir=str(EXAMPLE.parent))
    assert report.gates_passed is False
    assert not emar_client.gates_passed(report)
    gates = report.candidates[0].gates
    assert [g.gate for g in gates] == ["min_emar"]
    assert gates[0].passed is False and gates[0].threshold == 100
    assert gates[0].bound == "emar.ci_low"
    assert emar_client.failed_gates(report) == [("lora-r16", "min_emar")]
    # Booleans are always there, false included, as in emarctl's JSON.
    assert report.to_dict()["candidates"][0]["gates"][0]["passed"] is False
    code, out, err = service.emarctl("report", report.job_id, "--format", "json")
    assert code == 3, err  # emarctl: a gate failed
    assert json.loads(out) == report.to_dict()


def test_bad_inputs_raise_the_servers_error_naming_the_file(service, tmp_path):
    client = service.client()
    ex = copy_example(tmp_path)
    job = ex / "job.yaml"

    # A duplicate id in a references file: CreateJob is INVALID_ARGUMENT.
    target = ex / "data" / "target.jsonl"
    good_target = target.read_text()
    first = good_target.splitlines(keepends=True)[0]
    target.write_text(good_target + first)
    with pytest.raises(InvalidArgument) as e:
        client.evaluate(job)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "data/target.jsonl" in e.value.message and "duplicate" in e.value.message, e.value
    assert isinstance(e.value, EmarError)
    target.write_text(good_target)

    # A duplicate id in an outputs file: the worker finds it, the job ends FAILED.
    outputs = ex / "out" / "r16.target.jsonl"
    good_outputs = outputs.read_text()
    outputs.write_text(good_outputs + good_outputs.splitlines(keepends=True)[0])
    with pytest.raises(JobFailed) as e:
        client.evaluate(job)
    assert "out/r16.target.jsonl" in e.value.message and "duplicate" in e.value.message, e.value
    failed = client.status(e.value.job_id)
    assert failed.state == "JOB_STATE_FAILED" and failed.error == e.value.message
    assert e.value.job == failed
    with pytest.raises(JobFailed):
        client.wait(e.value.job_id)
    outputs.write_text(good_outputs)

    # An empty references file (uploaded as the header alone).
    target.write_text("")
    with pytest.raises(InvalidArgument) as e:
        client.evaluate(job)
    assert "data/target.jsonl" in e.value.message and "empty" in e.value.message, e.value
    # A missing one: found before any call, NOT_FOUND naming the field and the file.
    target.unlink()
    with pytest.raises(NotFound) as e:
        client.evaluate(job)
    assert "target.references" in e.value.message and "target.jsonl" in e.value.message

    # A bad job file: INVALID_ARGUMENT naming it.
    bad = ex / "bad.yaml"
    bad.write_text(job.read_text().replace("formula:", "formulae:"))
    with pytest.raises(InvalidArgument) as e:
        client.submit(bad)
    assert str(bad) in e.value.message and "formulae" in e.value.message
    bad.write_text("name: [unclosed\n")
    with pytest.raises(InvalidArgument) as e:
        client.submit(bad)
    assert e.value.message.startswith(f"{bad}:") and "not valid YAML or JSON" in e.value.message
    with pytest.raises(NotFound):
        client.submit(ex / "no-such-job.yaml")
    # An unknown metric: the server's message names it.
    spec = example_dict()
    spec["target"]["metric"] = "no_such_metric"
    with pytest.raises(InvalidArgument) as e:
        client.evaluate(spec, base_dir=str(EXAMPLE.parent))
    assert "no_such_metric" in e.value.message


def test_large_inputs_are_uploaded_in_chunks(service, tmp_path):
    n = 40000  # ~1.5 MiB per file: two chunks each
    data = tmp_path / "large"
    data.mkdir()
    (data / "refs.jsonl").write_text("".join(
        f'{{"id": "example-{i:06d}", "reference": "{"positive" if i % 3 else "negative"}"}}\n'
        for i in range(n)))
    for name, wrong_every in (("base", 4), ("cand", 7)):
        lines = []
        for i in range(n):
            right = i % wrong_every != 0
            positive = (i % 3 != 0) == right
            lines.append(f'{{"id": "example-{i:06d}", '
                         f'"prediction": "{"positive" if positive else "negative"}"}}\n')
        (data / f"{name}.jsonl").write_text("".join(lines))
    job = {"name": "large",
           "target": {"name": "t", "references": "refs.jsonl", "metric": "accuracy"},
           "benchmark": {"name": "b", "references": "refs.jsonl", "metric": "accuracy"},
           "base": {"name": "base", "target_outputs": "base.jsonl",
                    "benchmark_outputs": "base.jsonl"},
           "candidates": [{"name": "cand", "target_outputs": "cand.jsonl",
                           "benchmark_outputs": "cand.jsonl"}],
           "bootstrap": {"resamples": 200}}
    assert (data / "refs.jsonl").stat().st_size > emar_client.CHUNK_BYTES
    client = service.client()
    report = client.evaluate(job, base_dir=str(data))
    assert report.candidates[0].target.n == n
    import hashlib
    for item in report.provenance.inputs:
        content = (data / item.path_or_name).read_bytes()
        assert item.sha256 == hashlib.sha256(content).hexdigest()
        assert item.size_bytes == len(content)
    # Paths named twice are hashed and uploaded once.
    spec, inputs = emar_client.job_from_dict(job, str(data))
    assert len(inputs) == 3  # refs.jsonl, base.jsonl, cand.jsonl: each path once


def test_wait_survives_a_coordinator_restart(make_service, embedded_report):
    # Without the score cache: the second job must be scored, not copied from the first.
    service = make_service(workers=1, extra=("--lease-ttl-seconds", "5", "--score-cache=false"))
    client = service.client()
    worker = service.workers[0]
    assert without_job_id(client.evaluate(str(EXAMPLE))) == without_job_id(embedded_report)
    os.kill(worker.pid, signal.SIGSTOP)  # so the next job cannot finish before the restart
    try:
        job = client.submit(str(EXAMPLE))
        job_id = job.job_id
        assert client.status(job_id).state in ("JOB_STATE_QUEUED", "JOB_STATE_RUNNING")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(client.wait, job_id, 180)
            time.sleep(0.5)
            port = service.port
            service.kill_coordinator()
            time.sleep(1.5)  # the watch sees UNAVAILABLE and re-attaches, again and again
            assert not waiting.done()
            service.start_coordinator()  # the same port and data dir
            assert service.port == port
            os.kill(worker.pid, signal.SIGCONT)
            final = waiting.result(timeout=180)
    finally:
        os.kill(worker.pid, signal.SIGCONT)
    assert final.job_id == job_id and final.state == "JOB_STATE_SUCCEEDED"
    assert without_job_id(client.report(job_id)) == without_job_id(embedded_report)
    assert worker.poll() is None  # the same worker, reconnected


def test_submit_cancel_delete_and_deadlines(make_service):
    service = make_service(workers=0)  # nothing is ever scored
    client = service.client()
    job = client.submit(str(EXAMPLE), request_id="build-17")
    assert job.state == "JOB_STATE_QUEUED" and job.request_id == "build-17"
    assert client.submit(str(EXAMPLE), request_id="build-17").job_id == job.job_id
    assert [j.job_id for j in client.list(limit=10)] == [job.job_id]
    with pytest.raises(DeadlineExceeded) as e:
        client.wait(job.job_id, timeout=1)
    assert e.value.job_id == job.job_id
    assert e.value.timeout == 1 and e.value.phase == "queued"
    first = next(client.watch(job.job_id))
    assert first.state == "JOB_STATE_QUEUED" and first.progress.phase == "queued"
    with pytest.raises(FailedPrecondition):
        client.delete(job.job_id)  # not finished: cancel it first
    with pytest.raises(NotFound):
        client.status("job-0000000000000000")
    cancelled = client.cancel(job.job_id)
    assert cancelled.state == "JOB_STATE_CANCELLED"
    assert client.wait(job.job_id).state == "JOB_STATE_CANCELLED"
    deleted = client.delete(job.job_id)
    assert deleted["job_id"] == job.job_id and isinstance(deleted["bytes_freed"], int)
    with pytest.raises(NotFound) as e:
        client.status(job.job_id)
    assert e.value.code == grpc.StatusCode.NOT_FOUND and e.value.message


def test_an_unreachable_coordinator_fails_at_once():
    client = Client("127.0.0.1:1", rpc_timeout=5)
    started = time.monotonic()
    with pytest.raises(Unavailable):
        client.list()
    with pytest.raises(Unavailable):
        client.wait("job-0000000000000000")  # never reached: no 10-minute re-attach
    with pytest.raises(Unavailable):
        client.evaluate(str(EXAMPLE))
    assert time.monotonic() - started < 20


def test_tokens(make_service, monkeypatch, tmp_path, embedded_report):
    team_a, team_b, workers = "token-of-team-a", "token-of-team-b", "token-of-the-workers"
    service = make_service(tokens=[("client", "team-a", team_a), ("client", "team-b", team_b),
                                   ("worker", "workers", workers)], worker_token=workers)
    with pytest.raises(Unauthenticated) as e:
        service.client().list()
    assert e.value.code == grpc.StatusCode.UNAUTHENTICATED and e.value.message
    with pytest.raises(Unauthenticated):
        service.client().evaluate(str(EXAMPLE))
    with pytest.raises(Unauthenticated):
        service.client(token="not-a-token").list()
    with pytest.raises(PermissionDenied) as e:
        service.client(token=workers).list()  # a worker token: the worker API only
    assert e.value.hint.startswith("the token's role may not call this")

    client = service.client(token=team_a)
    report = client.evaluate(str(EXAMPLE))
    assert without_job_id(report) == without_job_id(embedded_report)
    assert report.to_dict() == emarctl_report(service, report.job_id, token=team_a)
    assert client.status(report.job_id).owner == "team-a"
    with pytest.raises(NotFound):  # another principal's job is not found
        service.client(token=team_b).report(report.job_id)
    # The defaults: $EMAR_SERVER and $EMAR_TOKEN, or a token file.
    monkeypatch.setenv("EMAR_SERVER", service.address)
    monkeypatch.setenv("EMAR_TOKEN", team_a)
    assert service.track(Client()).report(report.job_id) == report
    monkeypatch.delenv("EMAR_TOKEN")
    (tmp_path / "token").write_text(team_a + "\n")
    from_file = service.track(Client(token_file=tmp_path / "token"))
    assert from_file.address == service.address
    assert from_file.status(report.job_id).state == "JOB_STATE_SUCCEEDED"


def test_job_files_read_like_emarctl(tmp_path):
    text = EXAMPLE.read_text()
    spec, inputs = parse_job_text(text, "job.yaml", "/somewhere")
    assert spec.name == "restaurant-sentiment-lora" and spec.bootstrap.seed == 12345
    assert spec.gates.HasField("min_emar") and not spec.gates.HasField("min_target_gain")
    assert [i.field for i in inputs] == [
        "target.references", "benchmark.references", "base.target_outputs",
        "base.benchmark_outputs", "candidates[0].target_outputs",
        "candidates[0].benchmark_outputs"]
    assert inputs[0].spec_path == "data/target.jsonl"
    assert inputs[0].local_path == "/somewhere/data/target.jsonl"
    # YAML 1.2 core scalars, as yaml-cpp -> JSON in client/job_file.cc: "yes" is a string.
    spec, _ = parse_job_text("name: yes\nformula: 2024-01-01\n"
                             "bootstrap: {seed: 18446744073709551615, confidence: .9}\n"
                             "target: {references: '/abs/r.jsonl'}\n", "j.yaml", ".")
    assert spec.name == "yes" and spec.formula == "2024-01-01"
    assert spec.bootstrap.seed == 2**64 - 1 and spec.bootstrap.confidence == 0.9
    _, inputs = parse_job_text("target: {references: /abs/r.jsonl}\n", "j.yaml", "/x")
    assert inputs[0].local_path == "/abs/r.jsonl"
    for bad, why in (("- a\n- b\n", "a job file is a mapping"),
                     ("name: 5\n", "name"),
                     ("? [a]\n: 1\n", "a mapping key must be a field name"),
                     ("a: &x [*x]\n", "nested more than")):
        with pytest.raises(InvalidArgument) as e:
            parse_job_text(bad, "j.yaml", ".")
        assert e.value.message.startswith("j.yaml") and why in e.value.message, e.value.message
    path = tmp_path / "job.json"
    path.write_text(json.dumps({"name": "n", "target": {"references": "r.jsonl"}}))
    spec, inputs = load_job_file(path)
    assert inputs[0].local_path == str(tmp_path / "r.jsonl")


def test_mutual_tls_with_a_token(make_service, pki, embedded_report):
    token, worker_token = "client-secret-token", "worker-secret-token"
    service = make_service(
        tokens=[("client", "tls-client", token), ("worker", "tls-worker", worker_token)],
        worker_token=worker_token,
        extra=("--tls-cert", pki["server.crt"], "--tls-key", pki["server.key"],
               "--tls-client-ca", pki["ca.crt"]),
        worker_extra=("--tls-ca", pki["ca.crt"], "--tls-cert", pki["client.crt"],
                      "--tls-key", pki["client.key"]))
    client = service.client(token=token, tls_ca=pki["ca.crt"], tls_cert=pki["client.crt"],
                            tls_key=pki["client.key"])
    report = client.evaluate(str(EXAMPLE))
    assert without_job_id(report) == without_job_id(embedded_report)
    with open(pki["ca.crt"], "rb") as f:  # PEM bytes do as well as paths
        assert service.client(token=token, tls_ca=f.read(), tls_cert=pki["client.crt"],
                              tls_key=pki["client.key"]).report(report.job_id) == report
    # No client certificate, a CA that did not sign the server's, or plaintext: no connection,
    # and emarctl's hint says why.
    for kwargs, hint in (({"tls_ca": pki["ca.crt"]}, "requires a client certificate"),
                         ({"tls_ca": pki["other-ca.crt"], "tls_cert": pki["client.crt"],
                           "tls_key": pki["client.key"]}, "certificate not trusted"),
                         ({}, "is the coordinator serving TLS? pass tls_ca=")):
        with pytest.raises(Unavailable) as e:
            service.client(token=token, rpc_timeout=10, **kwargs).list()
        assert hint in e.value.hint, (kwargs, e.value.message, e.value.hint)
        assert str(e.value).endswith("hint: " + e.value.hint)
    with pytest.raises(ValueError):
        Client(service.address, tls_cert=pki["client.crt"])  # needs tls_key (and tls_ca)


def test_a_tls_client_of_a_plaintext_coordinator_gets_a_hint(make_service, pki):
    service = make_service(workers=0)
    with pytest.raises(Unavailable) as e:
        service.client(tls_ca=pki["ca.crt"], rpc_timeout=10).list()
    assert "does not seem to serve TLS" in e.value.hint, (e.value.message, e.value.hint)


def test_submit_retries_a_coordinator_restarted_mid_upload(make_service, tmp_path):
    """The coordinator is SIGKILLed as the first upload starts and restarted a second later on its
    port and data dir: submit retries under its request id, one job is made and scored; a job the
    coordinator refuses (not UNAVAILABLE) is raised at once, without a retry."""
    import threading
    service = make_service(workers=1)
    client = service.client()
    phases, restart = [], []

    def on_progress(p):
        phases.append(p.phase)
        if p.phase == "uploading" and p.bytes_total > 0 and not restart:
            service.kill_coordinator()
            restart.append(threading.Timer(1.0, service.start_coordinator))
            restart[0].start()

    job = client.submit(str(EXAMPLE), on_progress=on_progress)
    restart[0].join()
    assert "retrying" in phases and phases.index("retrying") > phases.index("uploading"), phases
    assert [j.job_id for j in client.list(limit=10)] == [job.job_id]
    assert client.wait(job.job_id, 180).state == "JOB_STATE_SUCCEEDED"

    (tmp_path / "bad.jsonl").write_text('{"id": "r0", "reference": "a"}\n{"id": "r1", "ref\n')
    (tmp_path / "out.jsonl").write_text('{"id": "r0", "prediction": "a"}\n')
    bad = {"name": "bad", "target": {"name": "t", "references": "bad.jsonl", "metric": "accuracy"},
           "benchmark": {"name": "b", "references": "bad.jsonl", "metric": "accuracy"},
           "base": {"name": "base", "target_outputs": "out.jsonl", "benchmark_outputs": "out.jsonl"},
           "candidates": [{"name": "c", "target_outputs": "out.jsonl",
                           "benchmark_outputs": "out.jsonl"}]}
    phases.clear()
    with pytest.raises(InvalidArgument):
        client.submit(bad, base_dir=str(tmp_path), on_progress=lambda p: phases.append(p.phase))
    assert "retrying" not in phases, phases
