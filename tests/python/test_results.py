"""Typed results, canonical JSONL and the field-name hints, without a coordinator; and the
connection hints against real ones.

    PYTHONPATH=build/python EMAR_BIN_DIR=build/bin /usr/bin/python3 -m pytest -q tests/python
"""
import dataclasses
import hashlib
import json
import math

import pytest
from google.protobuf import json_format

import emar_client
from emar_client import InvalidArgument, Report, Unauthenticated, Unavailable
from emar_client._proto import job_pb2, report_pb2
from emar_client.hints import Connection, connection_hint
from emar_client.results import (Bootstrap, CandidateResult, DatasetResult, Estimate, FlipCounts,
                                 FlipItem, Formula, Gate, InputFile, Job, Pairwise, Progress,
                                 Provenance, SliceResult)

from conftest import EXAMPLE

MIRRORS = [(Estimate, report_pb2.Estimate), (DatasetResult, report_pb2.DatasetComparison),
           (FlipCounts, report_pb2.FlipCounts), (FlipItem, report_pb2.FlipItem),
           (SliceResult, report_pb2.SliceComparison),
           (Gate, report_pb2.GateResult), (CandidateResult, report_pb2.CandidateReport),
           (Pairwise, report_pb2.PairwiseComparison), (Formula, report_pb2.FormulaInfo),
           (InputFile, report_pb2.InputFile), (Provenance, report_pb2.Provenance),
           (Bootstrap, report_pb2.BootstrapSettings), (Report, report_pb2.Report),
           (Progress, job_pb2.JobProgress), (Job, job_pb2.Job)]


@pytest.mark.parametrize("cls,message", MIRRORS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_message_field_has_a_typed_field(cls, message):
    proto_fields = [f.name for f in message.DESCRIPTOR.fields]
    typed = [f.name for f in dataclasses.fields(cls)]
    assert typed[:len(proto_fields)] == proto_fields  # same names, same order
    own = set(typed) - set(proto_fields)  # the client's own additions
    assert own <= {"job", "phase", "job_id", "elapsed", "bytes_done", "bytes_total"}


def estimate(v, lo=None, hi=None, p=None, holm=None, test=""):
    e = report_pb2.Estimate(value=v, test=test, undefined_resamples=3)
    for name, x in (("ci_low", lo), ("ci_high", hi), ("p_value", p), ("p_value_holm", holm)):
        if x is not None:
            setattr(e, name, x)
    return e


def suite_report():
    """A report with every field a suite fills: per-dataset entries, weights, Holm p-values,
    per-dataset gates, an undefined estimate and a 64-bit size."""
    def comparison(dataset, metric, role, primary, weight):
        return report_pb2.DatasetComparison(
            dataset=dataset, metric=metric, direction="higher_is_better", signature="sig", n=900,
            base=estimate(0.5, 0.45, 0.55), candidate=estimate(0.6, 0.55, 0.65),
            delta=estimate(0.1, 0.05, 0.15, p=0.001, holm=0.003, test="mcnemar_exact"),
            role=role, weight=weight, primary=primary)
    cand = report_pb2.CandidateReport(
        name="lora-r16", emar=estimate(0.2, 0.1, 0.3), rank=1, gates_passed=False,
        target=comparison("t-all", "accuracy", "", False, 0),
        benchmark=comparison("b-all", "accuracy", "", False, 0),
        gates=[report_pb2.GateResult(gate="min_emar", threshold=0.1, bound="emar.ci_low",
                                     bound_value=0.1, passed=True),
               report_pb2.GateResult(gate="max_benchmark_regression", threshold=0.02,
                                     bound="delta.ci_low", passed=False, dataset="mmlu",
                                     detail="undefined bound")],
        datasets=[comparison("sst2", "accuracy", "target", True, 2.0),
                  comparison("sst2", "macro_f1", "target", False, 0),
                  comparison("mmlu", "exact_match", "benchmark", True, 1.0)])
    undefined = report_pb2.CandidateReport(
        name="full-ft", emar=report_pb2.Estimate(undefined_reason="T0 is 0"), rank=2)
    return report_pb2.Report(
        job_id="job-1", name="suite", formula=report_pb2.FormulaInfo(name="relative_gain",
                                                                     expression="(T1-T0)/T0"),
        candidates=[cand, undefined],
        pairwise=[report_pb2.PairwiseComparison(a="lora-r16", b="full-ft", p_value=0.5,
                                                p_value_holm=1.0, test="paired_bootstrap")],
        bootstrap=report_pb2.BootstrapSettings(resamples=1000, confidence=0.95,
                                               seed=2**64 - 1),
        provenance=report_pb2.Provenance(inputs=[report_pb2.InputFile(
            role="target.references", path_or_name="memory:x", sha256="ab",
            size_bytes=5 * 2**32)], version="0.1"))


def test_a_suite_report_is_typed_and_to_dict_is_emarctls_json():
    message = suite_report()
    report = Report.from_proto(message)
    assert report.to_dict() == emar_client.message_to_dict(message)
    assert report.to_dict()["bootstrap"]["seed"] == str(2**64 - 1)  # JSON: a string
    assert report.bootstrap.seed == 2**64 - 1  # typed: an int
    assert report.provenance.inputs[0].size_bytes == 5 * 2**32
    c = report.candidate("lora-r16")
    assert [(d.role, d.dataset, d.metric, d.primary, d.weight) for d in c.datasets] == [
        ("target", "sst2", "accuracy", True, 2.0), ("target", "sst2", "macro_f1", False, 0.0),
        ("benchmark", "mmlu", "exact_match", True, 1.0)]
    assert c.datasets[0].delta.p_value_holm == 0.003
    assert c.gates[1].dataset == "mmlu" and c.gates[1].bound_value is None
    assert report.failed_gates() == (("lora-r16", "max_benchmark_regression"),)
    full = report.candidate("full-ft")
    assert not full.emar.defined and full.emar.undefined_reason == "T0 is 0"
    # Unset messages stay absent in to_dict, as in the message's own JSON.
    assert "target" not in report.to_dict()["candidates"][1]
    with pytest.raises(KeyError, match="lora-r16, full-ft"):
        report.candidate("nope")
    # Frozen, comparable, and the same after a round trip through the message.
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.name = "x"
    assert Report.from_proto(report.to_proto()) == report


def test_flat_names_every_number_once():
    report = Report.from_proto(suite_report())
    flat = report.flat()
    assert all(isinstance(v, float) and math.isfinite(v) for v in flat.values())
    assert flat["gates_passed"] == 0.0
    assert flat["lora-r16/emar"] == 0.2 and flat["lora-r16/emar/ci_low"] == 0.1
    assert flat["lora-r16/rank"] == 1.0 and flat["lora-r16/gates_passed"] == 0.0
    assert flat["lora-r16/target/delta"] == pytest.approx(0.1)
    assert flat["lora-r16/target/delta/p_value"] == 0.001
    assert flat["lora-r16/target/n"] == 900.0
    assert flat["lora-r16/target/sst2/macro_f1/candidate"] == 0.6
    assert flat["lora-r16/benchmark/mmlu/exact_match/delta/p_value_holm"] == 0.003
    assert flat["lora-r16/gate/min_emar"] == 1.0
    assert flat["lora-r16/gate/min_emar/bound_value"] == 0.1
    assert flat["lora-r16/gate/mmlu/max_benchmark_regression"] == 0.0
    assert "lora-r16/gate/mmlu/max_benchmark_regression/bound_value" not in flat
    assert flat["pairwise/lora-r16/full-ft/p_value_holm"] == 1.0
    assert not any(k.startswith("full-ft/emar") for k in flat)  # undefined: no key
    assert not any(k.startswith("job/") for k in flat)  # no job watched
    job = Job.from_proto(job_pb2.Job(job_id="job-1", state=job_pb2.JOB_STATE_SUCCEEDED,
                                     progress=job_pb2.JobProgress(
                                         shards_total=4, shards_done=4, shards_reused=2,
                                         examples_scored=2**40, examples_reused=1000)))
    flat = report.with_job(job).flat()
    assert flat["job/shards_reused"] == 2.0 and flat["job/examples_scored"] == 2.0**40
    assert report.with_job(job).progress.examples_scored == 2**40


def test_flips_and_slices_are_typed_and_flat():
    d = report_pb2.DatasetComparison(
        dataset="mmlu", metric="exact_match", primary=True, role="benchmark",
        flips=report_pb2.FlipCounts(learned=7, forgot=2**33, items=2**34, right_at=0.5),
        flip_items=[report_pb2.FlipItem(kind="forgot", id="q3", references=["a", "b"],
                                        base_line=2**40)],
        slices=[report_pb2.SliceComparison(slice="law", n=100, delta=estimate(-0.1, -0.2, 0.0),
                                           gated=True)])
    typed = DatasetResult.from_proto(d)
    assert typed.flips.forgot == 2**33 and typed.flip_items[0].references == ("a", "b")
    assert typed.slices[0].delta.ci_low == -0.2 and typed.slices[0].gated
    assert typed.to_dict() == json_format.MessageToDict(
        d, preserving_proto_field_name=True, **{emar_client.results._DEFAULTS_FLAG: True})
    report = Report.from_proto(report_pb2.Report(candidates=[report_pb2.CandidateReport(
        name="c", datasets=[d])]))
    flat = report.flat()
    assert flat["c/benchmark/mmlu/exact_match/flips/forgot"] == 2.0**33
    assert flat["c/benchmark/mmlu/exact_match/slice/law/delta/ci_low"] == -0.2
    assert "c/target/flips/learned" not in flat  # a comparison without counts has no key


def test_a_job_is_typed_and_to_dict_is_emarctls_json():
    message = job_pb2.Job(job_id="job-1", name="n", state=job_pb2.JOB_STATE_RUNNING,
                          progress=job_pb2.JobProgress(shards_total=4, shards_done=1,
                                                       examples_scored=2**40),
                          created_unix_ms=1796610143066, labels={"run": "r", "step": "5"})
    job = Job.from_proto(message)
    assert job.state == "JOB_STATE_RUNNING" and not job.finished
    assert job.progress.examples_scored == 2**40 and job.created_unix_ms == 1796610143066
    assert job.labels == {"run": "r", "step": "5"}
    assert job.to_dict() == emar_client.message_to_dict(message)
    assert job.to_dict()["progress"]["examples_scored"] == str(2**40)
    assert job["state"] == "JOB_STATE_RUNNING"
    assert Job.from_proto(job.to_proto()) == job


def test_job_phases_follow_state_and_shards():
    def phase(state, done, total=4):
        return Job.from_proto(job_pb2.Job(job_id="j", state=state, progress=job_pb2.JobProgress(
            shards_total=total, shards_done=done))).progress.phase
    assert phase(job_pb2.JOB_STATE_QUEUED, 0) == "queued"
    assert phase(job_pb2.JOB_STATE_RUNNING, 1) == "scoring"
    assert phase(job_pb2.JOB_STATE_RUNNING, 4) == "bootstrap"
    assert phase(job_pb2.JOB_STATE_SUCCEEDED, 4) == "done"
    assert phase(job_pb2.JOB_STATE_FAILED, 1) == "failed"
    assert phase(job_pb2.JOB_STATE_CANCELLED, 0) == "cancelled"


def test_canonical_jsonl_is_one_text_for_the_same_data():
    a = [{"id": "r1", "prediction": "positive", "meta": {"z": 1, "a": [1.0, 0.1, True, None]}},
         {"prediction": "négatif", "id": 2}]
    b = [{"meta": {"a": (1.0, 0.1, True, None), "z": 1}, "prediction": "positive", "id": "r1"},
         {"id": 2, "prediction": "négatif"}]
    text = emar_client.canonical_jsonl(a, "f")
    assert text == emar_client.canonical_jsonl(iter(b), "f")  # key order, tuples, iterators
    assert text == ('{"id":"r1","meta":{"a":[1.0,0.1,true,null],"z":1},"prediction":"positive"}\n'
                    '{"id":2,"prediction":"négatif"}\n').encode()
    assert emar_client.canonical_jsonl([{"x": 1e-7, "y": 1e16, "z": 10**20}], "f") == \
        b'{"x":1e-07,"y":1e+16,"z":100000000000000000000}\n'


def test_canonical_jsonl_of_a_dataframe_drops_missing_cells():
    pandas = pytest.importorskip("pandas")
    numpy = pytest.importorskip("numpy")
    frame = pandas.DataFrame({"id": [1, 2], "prediction": ["a", None],
                              "score": [0.5, numpy.nan],
                              "token_logprobs": [numpy.array([-0.5, -1.0]), [-2.0]]},
                             index=[10, 20])
    assert emar_client.canonical_jsonl(frame, "f") == (
        b'{"id":1,"prediction":"a","score":0.5,"token_logprobs":[-0.5,-1.0]}\n'
        b'{"id":2,"token_logprobs":[-2.0]}\n')


@pytest.mark.parametrize("records,why", [
    ([{"id": 1}, {"id": 2, "score": float("nan")}], "record 2, key 'score': nan is not"),
    ([{"id": 1, "x": {"y": [1, float("inf")]}}], "record 1, key 'x.y.1': inf is not"),
    ([{"id": 1}, "r2"], "record 2: a record is a dict"),
    ([{1: "x"}], "record 1, key '1': keys must be strings"),
    ([{"id": 1, "when": object()}], "record 1, key 'when': a object is not JSON"),
    ([{"id": "\ud800"}], "record 1: a string is not valid Unicode"),
    ([], "no records"),
    ({"id": 1}, "a single dict"),
    (42, "not int"),
])
def test_bad_in_memory_records_name_the_field_record_and_key(records, why):
    with pytest.raises(InvalidArgument) as e:
        emar_client.canonical_jsonl(records, "candidates[0].target_outputs")
    assert e.value.message.startswith("job spec field 'candidates[0].target_outputs'")
    assert why in e.value.message, e.value.message


def test_misspelled_fields_get_snake_case_suggestions(tmp_path):
    client = emar_client.Client("127.0.0.1:1")  # never called: the spec is refused first
    job = yaml_example()
    job["gates"] = {"min_emr": 0.1}
    with pytest.raises(InvalidArgument) as e:
        client.submit(job, base_dir=str(EXAMPLE.parent))
    message = e.value.message
    assert "gates: unknown field 'min_emr' (did you mean 'min_emar'?)" in message, message
    assert "GateSpec fields: min_emar, max_benchmark_regression" in message
    assert "minEmar" not in message and "Available Fields" not in message
    # In a job file, deeper, with the file named.
    path = tmp_path / "job.yaml"
    path.write_text(EXAMPLE.read_text().replace("metric: accuracy",
                                                "metric: accuracy, fields: {idfield: doc_id}"))
    with pytest.raises(InvalidArgument) as e:
        client.submit(path)
    assert e.value.message.startswith(str(path)), e.value.message
    assert "target.fields: unknown field 'idfield' (did you mean 'id_field'?)" in e.value.message
    job = yaml_example()
    job["candidates"][0]["target_output"] = job["candidates"][0].pop("target_outputs")
    with pytest.raises(InvalidArgument, match=r"candidates\[0\]: unknown field 'target_output' "
                                              r"\(did you mean 'target_outputs'\?\)"):
        client.submit(job, base_dir=str(EXAMPLE.parent))
    client.close()


def yaml_example():
    import yaml
    with open(EXAMPLE) as f:
        return yaml.safe_load(f)


def test_connection_hints_are_emarctls():
    plain, tls = Connection("h:1"), Connection("h:1", uses_tls=True)
    closed = "failed to connect to all addresses; last error: UNKNOWN: ipv4:h:1: Socket closed"
    assert connection_hint("UNAVAILABLE", closed, plain).startswith(
        "is the coordinator serving TLS?")
    assert "client certificate" in connection_hint("UNAVAILABLE", closed, tls)
    assert "does not seem to serve TLS" in connection_hint(
        "UNAVAILABLE", "Ssl handshake failed: wrong version number", tls)
    assert "certificate not trusted" in connection_hint(
        "UNAVAILABLE", "SSL routines::certificate verify failed", tls)
    assert connection_hint("UNAUTHENTICATED", "no token", plain).startswith("no token")
    assert "did not accept the token" in connection_hint(
        "UNAUTHENTICATED", "bad", Connection("h:1", has_token=True))
    assert connection_hint("NOT_FOUND", closed, plain) == ""
    assert connection_hint("UNAVAILABLE", "draining", plain) == ""


def test_unreachable_and_unauthenticated_errors_carry_hints(make_service):
    client = emar_client.Client("127.0.0.1:1", rpc_timeout=5)
    with pytest.raises(Unavailable) as e:
        client.list()
    assert e.value.hint.startswith("is a coordinator listening on 127.0.0.1:1?"), e.value.hint
    assert str(e.value).endswith("\nhint: " + e.value.hint)
    client.close()
    token = "secret-of-team-a"
    service = make_service(workers=0, tokens=[("client", "team-a", token)])
    with pytest.raises(Unauthenticated) as e:
        service.client().list()
    assert e.value.hint == "no token: set $EMAR_TOKEN or pass token= or token_file="
    with pytest.raises(Unauthenticated) as e:
        service.client(token="wrong").list()
    assert "did not accept the token" in e.value.hint


def test_in_memory_inputs_are_found_wherever_a_job_names_a_file():
    from emar_client.inputs import split_in_memory
    rows = [{"id": 1, "prediction": "a"}]
    job = {"target": {"references": rows}, "benchmark": {"references": "b.jsonl"},
           "targets": [{"references": "t.jsonl"}, {"references": rows}],
           "benchmarks": [{"references": rows}],
           "base": {"target_outputs": rows, "benchmark_outputs": "bb.jsonl",
                    "outputs": {"mmlu": rows, "sst2": "s.jsonl"}},
           "candidates": [{"benchmark_outputs": iter(rows)}, {"outputs": {"x": rows}}]}
    plain, found = split_in_memory(job)
    assert sorted(found) == sorted("memory:" + f for f in (
        "target.references", "targets[1].references", "benchmarks[0].references",
        "base.target_outputs", "base.outputs[mmlu]", "candidates[0].benchmark_outputs",
        "candidates[1].outputs[x]"))
    assert plain["base"]["outputs"] == {"mmlu": "memory:base.outputs[mmlu]", "sst2": "s.jsonl"}
    assert plain["benchmark"] == {"references": "b.jsonl"}
    assert plain["targets"][0] == {"references": "t.jsonl"}
    assert job["base"]["outputs"]["mmlu"] is rows  # the caller's job is not changed
    assert found["memory:candidates[1].outputs[x]"] == ("candidates[1].outputs[x]", rows)


def test_inputs_hash_to_the_canonical_bytes():
    data = [{"id": 1, "prediction": "a"}]
    text = emar_client.canonical_jsonl(data, "f")
    assert hashlib.sha256(text).hexdigest() == hashlib.sha256(
        (json.dumps(data[0], sort_keys=True, separators=(",", ":")) + "\n").encode()).hexdigest()
