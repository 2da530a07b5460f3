"""The pipeline side against real processes: labels, paged listings, series, request-id
conflicts and the score cache through the Python client; the code of docs/python.md ("A first
run") and docs/pipeline.md, run as written; and examples/checkpoint-loop.
"""
import json
import os
import re
import subprocess
import sys

import pytest

import emar_client
from emar_client import AlreadyExists, InvalidArgument

from conftest import EXAMPLE, REPO, bin_dir


def doc_block(page, kind):
    """The code block that follows `<!-- doc-test: KIND -->` in docs/PAGE."""
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    m = re.search(r"<!-- doc-test: " + kind + r" -->\n```\w*\n(.*?)```", text, re.S)
    assert m, f"docs/{page} has no block marked doc-test: {kind}"
    return m.group(1)


def test_labels_pages_series_and_request_ids(service):
    client = service.client()
    steps = ["1000", "200", "30"]
    ids = {}
    for step in steps:
        report = client.evaluate(str(EXAMPLE), labels={"run": "exp-42", "step": step})
        ids[step] = report.job_id
    client.submit(str(EXAMPLE), labels={"run": "exp-7", "step": 1})
    jobs = client.list(labels={"run": "exp-42"}, limit=None, page_size=1)  # three pages
    assert [j.job_id for j in jobs] == [ids["30"], ids["200"], ids["1000"]]
    assert all(j.labels["run"] == "exp-42" for j in jobs)
    page, token = client.list_page(limit=2, labels={"run": "exp-42"})
    assert len(page) == 2 and token
    rest, token = client.list_page(limit=2, labels={"run": "exp-42"}, page_token=token)
    assert [j.job_id for j in rest] == [ids["1000"]] and token == ""
    # The later jobs scored nothing: the same inputs as the first.
    assert jobs[0].progress.shards_reused == jobs[0].progress.shards_total
    assert jobs[0].progress.examples_scored == 0
    assert jobs[-1].progress.shards_reused == 0

    series = client.series({"run": "exp-42"}, by="step")
    assert series["by"] == "step" and series["numeric"] is True
    assert [p["value"] for p in series["points"]] == ["30", "200", "1000"]
    point = series["points"][0]
    assert point["job_id"] == ids["30"]
    c = point["candidates"][0]
    assert set(c) >= {"name", "emar", "target_delta", "benchmark_delta", "gates_passed"}
    assert c["emar"]["value"] == pytest.approx(0.2143, abs=1e-4)
    assert c["gates_passed"] is True
    with pytest.raises(InvalidArgument):
        client.series({}, by="step")

    client.submit(str(EXAMPLE), request_id="exp-42/step-5", labels={"step": 5})
    with pytest.raises(AlreadyExists) as e:
        client.submit(str(EXAMPLE), request_id="exp-42/step-5", labels={"step": 6})
    assert "exp-42/step-5" in e.value.message and "already created job" in e.value.message


def test_python_first_run_in_the_docs_runs_as_written(service):
    env = dict(os.environ, EMAR_SERVER=service.address)
    r = subprocess.run([sys.executable, "-c", doc_block("python.md", "python")], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:3] == ["100 lora-r16 0.2143 True 0", "200 lora-r16 0.2143 True 4", "0.15"]
    assert lines[-1] == "0.1839"
    progress = lines[3:-1]  # on_progress=print: str(Progress), one line per phase and change
    assert progress[0].startswith("[hashing]") and progress[-1].startswith("[done] 4/4 shards")
    assert any(p.startswith("[uploading]") for p in progress), progress


def test_pipeline_step_in_the_docs_runs_as_written(service, tmp_path):
    (tmp_path / "examples").symlink_to(REPO / "examples")
    env = dict(os.environ, EMAR_SERVER=service.address,
               PATH=f"{bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}")
    script = doc_block("pipeline.md", "sh")
    r = subprocess.run(["sh", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["gates_passed"] is True
    assert "1500" in r.stdout and report["job_id"] in r.stdout  # the series line
    # Run again (a retried pipeline step): the same job, not a second one.
    r = subprocess.run(["sh", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "report.json").read_text())["job_id"] == report["job_id"]
    assert len(service.client().list(labels={"run": "exp-42"})) == 1


def test_checkpoint_loop_example_stops_at_the_first_failed_gate(tmp_path):
    env = dict(os.environ, EMAR_BIN_DIR=str(bin_dir()))
    r = subprocess.run([sys.executable, str(REPO / "examples/checkpoint-loop/checkpoint_loop.py"),
                        "--run", "test-run", "--work-dir", str(tmp_path / "work")],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    evaluated = re.findall(r"^step +(\d+): .* gates (PASS|FAIL) +\(shards reused (\d+)/(\d+), "
                           r"examples scored (\d+)\)$", out, re.M)
    assert [(s, g) for s, g, *_ in evaluated] == [
        ("500", "PASS"), ("1000", "PASS"), ("1500", "PASS"), ("2000", "FAIL")], out
    # The first job scores everything; later ones reuse the base model's shards.
    assert evaluated[0][2:] == ("0", "4", "2000")
    assert all(e[2:] == ("2", "4", "1000") for e in evaluated[1:]), out
    assert "stopping: checkpoint 2000 failed its gate (max_benchmark_regression)" in out
    series = out.split("series of run test-run by step:")[1].splitlines()[2:]
    assert [line.split()[0] for line in series] == ["500", "1000", "1500", "2000"]
    assert series[-1].split()[4] == "FAIL"
