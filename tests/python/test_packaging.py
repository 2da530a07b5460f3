"""`pip install client/python` into a fresh venv, offline (Debian's pip, setuptools, protoc and
grpc_python_plugin; grpcio, protobuf and PyYAML from the system's site-packages), then the
installed package evaluates the example against a real coordinator."""
import os
import shutil
import subprocess
import textwrap

from conftest import EXAMPLE, REPO


def test_pip_install_into_a_fresh_venv(service, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(REPO / "client" / "python", src,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL")}
    env["EMAR_PROTO_DIR"] = str(REPO / "proto")  # the copy is outside the repository
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, env=env, timeout=300)
    r = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-build-isolation",
                        "--no-deps", "--no-index", str(src)], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    site = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()
    installed = sorted(os.listdir(site))
    assert "emar_client" in installed and "emar" not in installed, installed  # no top-level emar
    stubs = sorted(os.listdir(os.path.join(site, "emar_client", "_proto")))
    assert {"service_pb2.py", "service_pb2_grpc.py", "job_pb2.pyi"} <= set(stubs), stubs
    assert os.path.exists(os.path.join(site, "emar_client", "py.typed"))
    script = textwrap.dedent(f"""
        import asyncio, emar_client, emar_client.aio
        assert emar_client.__file__.startswith({site!r}), emar_client.__file__
        report = emar_client.Client({service.address!r}).evaluate({str(EXAMPLE)!r})
        async def again():
            async with emar_client.aio.Client({service.address!r}) as client:
                return await client.report(report.job_id)
        assert asyncio.run(again()) == report
        print(emar_client.__version__, round(report.candidates[0].emar.value, 4),
              report.progress.phase)
    """)
    r = subprocess.run([str(venv / "bin" / "python"), "-c", script], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0.2.0", "0.2143", "done"]
