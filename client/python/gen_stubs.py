#!/usr/bin/env python3
"""Generates the emar.v1 stubs as the package emar_client._proto (used by CMake and setup.py).

    python3 gen_stubs.py --proto-dir proto --out build/python/emar_client/_proto \
        [--protoc protoc] [--plugin grpc_python_plugin]

protoc names a generated module after its proto's path (emar/v1/job.proto -> emar.v1.job_pb2,
imported as `from emar.v1 import job_pb2`), which would install a top-level package `emar` beside
the client, free to collide with any other package of that name. The modules are generated into
a temporary directory instead and written flat into OUT with those imports made relative
(`from . import job_pb2`): job_pb2, report_pb2, service_pb2 (with .pyi type stubs) and
service_pb2_grpc. The descriptors keep their proto names (emar/v1/job.proto, emar.v1.JobSpec).

Without --protoc, grpc_tools.protoc is used when importable (pip's isolated build), else protoc
and grpc_python_plugin from PATH (Debian: protobuf-compiler, protobuf-compiler-grpc).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import List, Optional

PROTOS = ["emar/v1/job.proto", "emar/v1/report.proto", "emar/v1/service.proto"]
# The files written into OUT (job_pb2_grpc.py and report_pb2_grpc.py hold no service: dropped).
OUTPUTS = ["__init__.py", "job_pb2.py", "job_pb2.pyi", "report_pb2.py", "report_pb2.pyi",
           "service_pb2.py", "service_pb2.pyi", "service_pb2_grpc.py"]
_ABSOLUTE_IMPORT = re.compile(r"^from emar\.v1 import ", re.M)
_INIT = ('"""emar.v1 messages and stubs, generated from proto/emar/v1 by gen_stubs.py: do not '
         'edit."""\n')


def _run_protoc(proto_dir: str, tmp: str, protoc: Optional[str], plugin: Optional[str]) -> None:
    outs = [f"--python_out={tmp}", f"--pyi_out={tmp}", f"--grpc_python_out={tmp}"]
    if protoc is None:
        try:
            import grpc_tools
            from grpc_tools import protoc as tools_protoc
        except ImportError:
            pass
        else:
            include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
            args = ["grpc_tools.protoc", f"--proto_path={proto_dir}", f"--proto_path={include}"]
            if tools_protoc.main(args + outs + PROTOS) != 0:
                sys.exit("gen_stubs: grpc_tools.protoc failed")
            return
        protoc = shutil.which("protoc")
    plugin = plugin or shutil.which("grpc_python_plugin")
    if not protoc or not plugin:
        sys.exit("gen_stubs: generating the stubs needs grpcio-tools, or protoc and "
                 "grpc_python_plugin (Debian: protobuf-compiler protobuf-compiler-grpc)")
    subprocess.check_call([protoc, f"--proto_path={proto_dir}", *outs,
                           f"--plugin=protoc-gen-grpc_python={plugin}", *PROTOS], cwd=proto_dir)


def generate(proto_dir: str, out_dir: str, protoc: Optional[str] = None,
             plugin: Optional[str] = None) -> List[str]:
    """Writes OUTPUTS into out_dir; returns their paths."""
    proto_dir = os.path.abspath(proto_dir)
    missing = [p for p in PROTOS if not os.path.isfile(os.path.join(proto_dir, p))]
    if missing:
        sys.exit(f"gen_stubs: {proto_dir}: no {', '.join(missing)}")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        _run_protoc(proto_dir, tmp, protoc, plugin)
        for name in OUTPUTS:
            dest = os.path.join(out_dir, name)
            if name == "__init__.py":
                text = _INIT
            else:
                with open(os.path.join(tmp, "emar", "v1", name), encoding="utf-8") as f:
                    text = _ABSOLUTE_IMPORT.sub("from . import ", f.read())
            with open(dest, "w", encoding="utf-8") as f:
                f.write(text)
            written.append(dest)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proto-dir", required=True, help="the repository's proto/ directory")
    parser.add_argument("--out", required=True, help="the emar_client/_proto directory to fill")
    parser.add_argument("--protoc", help="protoc binary (default: grpc_tools, else PATH)")
    parser.add_argument("--plugin", help="grpc_python_plugin binary (default: PATH)")
    args = parser.parse_args()
    generate(args.proto_dir, args.out, args.protoc, args.plugin)


if __name__ == "__main__":
    main()
