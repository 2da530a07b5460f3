"""emar_client submitting a job whose inputs are named by reference (docs/inputs.md): one by a
presigned-style https:// URL served by tests/system/https_fixture.py on 127.0.0.1, one by file://
under the coordinator's --input-root. The coordinator reads both; the client reads neither.

    PYTHONPATH=build/python EMAR_BIN_DIR=build/bin /usr/bin/python3 -m pytest -q \
        tests/python/test_references.py
"""
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import emar_client
from emar_client import InvalidArgument

from conftest import EXAMPLE

FIXTURE = Path(__file__).resolve().parents[1] / "system" / "https_fixture.py"
SECRET = "X-Amz-Signature=pythons3cr3t"


@pytest.fixture
def https_server(pki, tmp_path):
    """The example's directory over https on 127.0.0.1: its base URL."""
    port_file = tmp_path / "https.port"
    proc = subprocess.Popen([sys.executable, str(FIXTURE), "--cert", pki["server.crt"],
                             "--key", pki["server.key"], "--dir", str(EXAMPLE.parent),
                             "--port-file", str(port_file)])
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            assert proc.poll() is None, "https_fixture.py exited"
            assert time.monotonic() < deadline, "https_fixture.py wrote no port file"
            time.sleep(0.05)
        yield f"https://127.0.0.1:{int(port_file.read_text())}/files"
    finally:
        proc.kill()
        proc.wait()


def without_ids(report):
    d = report.to_dict()
    d.pop("job_id", None)
    for f in d["provenance"]["inputs"]:
        f.pop("path_or_name", None)
    return d


def test_a_job_by_reference(make_service, pki, https_server, tmp_path):
    root = tmp_path / "shared"
    (root / "run42").mkdir(parents=True)
    shutil.copy(EXAMPLE.parent / "out" / "r16.target.jsonl", root / "run42" / "out.jsonl")
    svc = make_service(extra=["--allow-private-urls", "--url-ca-file", pki["ca.crt"],
                              "--input-root", str(root)])
    client = svc.client()
    with open(EXAMPLE) as f:
        job = yaml.safe_load(f)
    by_upload = client.evaluate(job, base_dir=str(EXAMPLE.parent), reuse_scores=False)

    job["target"]["references"] = {
        "uri": f"{https_server}/data/target.jsonl?{SECRET}",
        **emar_client.hash_file(EXAMPLE.parent / "data" / "target.jsonl")}
    job["candidates"][0]["target_outputs"] = {
        "uri": f"file://{root}/run42/out.jsonl", **emar_client.hash_file(root / "run42/out.jsonl")}
    by_ref = client.evaluate(job, base_dir=str(EXAMPLE.parent), reuse_scores=False)
    assert without_ids(by_ref) == without_ids(by_upload)
    names = [f["path_or_name"] for f in by_ref.to_dict()["provenance"]["inputs"]]
    assert f"{https_server}/data/target.jsonl" in names  # without its query
    assert f"file://{root}/run42/out.jsonl" in names
    assert SECRET not in str(by_ref.to_dict())

    # A wrong digest is the coordinator's error, naming the input and what it got.
    job["target"]["references"]["sha256"] = "0" * 64
    with pytest.raises(InvalidArgument) as e:
        client.evaluate(job, base_dir=str(EXAMPLE.parent))
    assert "target.references" in str(e.value)
    assert f"{https_server}/data/target.jsonl: sha256 mismatch: expected {'0' * 64}" in str(e.value)
    assert "s3cr3t" not in str(e.value)


def test_a_reference_needs_its_digest_and_size():
    job = {"target": {"references": {"uri": "https://example.com/t.jsonl"}}}
    with pytest.raises(InvalidArgument, match="uri, sha256 and size"):
        emar_client.job_from_dict(job)
    with pytest.raises(InvalidArgument, match="not a bare URI"):
        emar_client.job_from_dict({"target": {"references": "https://example.com/t.jsonl"}})
