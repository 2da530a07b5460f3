"""Suites in the Python client: job files with `targets`/`benchmarks`, `metrics` entries as names
or objects, models' `outputs` maps (read as client/job_file.cc reads them), and the per-dataset
results of a report."""
import pytest
from emar_client._proto import report_pb2

import emar_client
from emar_client.errors import InvalidArgument, NotFound
from emar_client.job_file import job_from_dict, parse_job_text

SUITE = """
name: suite
targets:
  - {name: tickets, references: data/tickets.jsonl, metrics: [accuracy, macro_f1]}
benchmarks:
  - {name: mmlu, references: bench/mmlu.jsonl, metrics: accuracy}
  - name: wmt
    references: bench/wmt.jsonl
    metrics: [{name: bleu, tokenize: intl}, {name: chrf, word_order: 2}, ter]
    weight: 2
    gates: {max_benchmark_regression: 0.05}
base: {name: base, outputs: {tickets: out/b.t.jsonl, mmlu: out/b.m.jsonl, wmt: out/b.w.jsonl}}
candidates:
  - {name: r16, outputs: {tickets: out/c.t.jsonl, mmlu: out/b.m.jsonl, wmt: out/c.w.jsonl}}
gates: {min_emar: 0.1, max_suite_regression: 0.01}
"""


def test_suite_job_files_read_like_emarctl():
    spec, inputs = parse_job_text(SUITE, "job.yaml", "/w")
    assert [d.name for d in spec.targets] == ["tickets"]
    assert [m.name for m in spec.targets[0].metrics] == ["accuracy", "macro_f1"]
    assert [m.name for m in spec.benchmarks[0].metrics] == ["accuracy"]  # `metrics: x`: one
    wmt = spec.benchmarks[1]
    assert [m.name for m in wmt.metrics] == ["bleu", "chrf", "ter"]
    assert wmt.metrics[0].tokenize == "intl" and wmt.metrics[1].word_order == 2
    assert wmt.weight == 2 and wmt.gates.max_benchmark_regression == 0.05
    assert spec.gates.max_suite_regression == 0.01
    assert spec.candidates[0].outputs["wmt"] == "out/c.w.jsonl"
    # Every path once, in the order of eval/job/job_inputs.cc, named by its spec field.
    assert [(i.field, i.spec_path) for i in inputs] == [
        ("targets[0].references", "data/tickets.jsonl"),
        ("benchmarks[0].references", "bench/mmlu.jsonl"),
        ("benchmarks[1].references", "bench/wmt.jsonl"),
        ("base.outputs[tickets]", "out/b.t.jsonl"),
        ("base.outputs[mmlu]", "out/b.m.jsonl"),
        ("base.outputs[wmt]", "out/b.w.jsonl"),
        ("candidates[0].outputs[tickets]", "out/c.t.jsonl"),
        ("candidates[0].outputs[wmt]", "out/c.w.jsonl")]
    assert inputs[0].local_path == "/w/data/tickets.jsonl"


def test_the_older_form_takes_metrics_lists_too_and_dicts_are_normalized_alike():
    spec, inputs = parse_job_text(
        "target: {name: t, references: t.jsonl, metrics: [exact_match, token_f1]}\n"
        "benchmark: {name: b, references: b.jsonl, metric: accuracy}\n"
        "base: {name: base, target_outputs: bt.jsonl, benchmark_outputs: bb.jsonl}\n",
        "j.yaml", ".")
    assert [m.name for m in spec.target.metrics] == ["exact_match", "token_f1"]
    assert spec.benchmark.metric == "accuracy"
    assert [i.field for i in inputs] == ["target.references", "benchmark.references",
                                         "base.target_outputs", "base.benchmark_outputs"]
    spec, _ = job_from_dict({"benchmarks": [{"name": "b", "metrics": ["bleu", {"name": "chrf"}]}]})
    assert [m.name for m in spec.benchmarks[0].metrics] == ["bleu", "chrf"]


@pytest.mark.parametrize("bad, where, why", [
    ("targets:\n  - {name: a, metrics: {name: x}}\n", "j.yaml:2:", "not a mapping"),
    ("targets:\n  - name: a\n    metrics:\n      - accuracy\n      - [x]\n", "j.yaml:5:",
     "a `metrics` entry is a metric name or an object"),
    ("benchmarks: [{name: a, metrics: [{name: bleu, tokenise: intl}]}]\n", "j.yaml",
     "tokenise"),
])
def test_bad_metrics_entries_name_file_and_line(bad, where, why):
    with pytest.raises(InvalidArgument) as e:
        parse_job_text(bad, "j.yaml", ".")
    assert e.value.message.startswith(where) and why in e.value.message, e.value.message


def suite_report():
    r = report_pb2.Report(name="suite")
    c = r.candidates.add(name="r16", rank=1)
    for role, name, metric, primary, delta in (("target", "tickets", "accuracy", True, 0.1),
                                               ("target", "tickets", "macro_f1", False, 0.08),
                                               ("benchmark", "mmlu", "accuracy", True, -0.01),
                                               ("benchmark", "wmt", "bleu", True, 0.002),
                                               ("benchmark", "wmt", "chrf", False, 0.001)):
        d = c.datasets.add(dataset=name, metric=metric, role=role, primary=primary, weight=1)
        d.delta.value = delta
        if role == "benchmark" and primary:
            d.delta.p_value_holm = 0.2
    return emar_client.to_dict(r)


def test_per_dataset_results_of_a_report():
    report = suite_report()
    assert [(d["dataset"], d["metric"]) for d in emar_client.dataset_results(report, "r16")] == [
        ("tickets", "accuracy"), ("tickets", "macro_f1"), ("mmlu", "accuracy"), ("wmt", "bleu"),
        ("wmt", "chrf")]
    primary_benchmarks = emar_client.dataset_results(report, "r16", role="benchmark",
                                                     primary=True)
    assert [d["dataset"] for d in primary_benchmarks] == ["mmlu", "wmt"]
    assert all(d["delta"]["p_value_holm"] == 0.2 for d in primary_benchmarks)
    assert emar_client.dataset_result(report, "r16", "wmt")["metric"] == "bleu"
    assert emar_client.dataset_result(report, "r16", "wmt", "chrf")["delta"]["value"] == 0.001
    with pytest.raises(NotFound, match=r"no result for wmt/ter \(it has: tickets/accuracy"):
        emar_client.dataset_result(report, "r16", "wmt", "ter")
    with pytest.raises(NotFound, match=r"no candidate 'r8' \(its candidates: r16\)"):
        emar_client.dataset_results(report, "r8")
