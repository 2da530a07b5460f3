"""Generates the emar.v1 stubs from proto/emar/v1 into the build, next to emar_client.

With grpcio-tools importable (pip's isolated build installs it) it runs grpc_tools.protoc, else
`protoc` and `grpc_python_plugin` from PATH (Debian: protobuf-compiler, protobuf-compiler-grpc).
The protos are found at $EMAR_PROTO_DIR, else ../../proto (this directory in the repository).
"""
import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOS = ["emar/v1/job.proto", "emar/v1/report.proto", "emar/v1/service.proto"]


def proto_dir():
    for d in (os.environ.get("EMAR_PROTO_DIR"), os.path.join(HERE, "..", "..", "proto")):
        if d and all(os.path.isfile(os.path.join(d, p)) for p in PROTOS):
            return os.path.abspath(d)
    sys.exit("emar-client: proto/emar/v1/*.proto not found: build from client/python in the "
             "repository, or set EMAR_PROTO_DIR to the repository's proto/ directory")


def generate(out_dir):
    src = proto_dir()
    out_dir = os.path.abspath(out_dir)
    os.makedirs(os.path.join(out_dir, "emar", "v1"), exist_ok=True)
    try:
        from grpc_tools import protoc  # noqa: F401
        import grpc_tools
        args = ["grpc_tools.protoc", f"--proto_path={src}",
                f"--proto_path={os.path.join(os.path.dirname(grpc_tools.__file__), '_proto')}",
                f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"] + PROTOS
        if protoc.main(args) != 0:
            sys.exit("emar-client: grpc_tools.protoc failed")
    except ImportError:
        protoc_bin = shutil.which("protoc")
        plugin = shutil.which("grpc_python_plugin")
        if not protoc_bin or not plugin:
            sys.exit("emar-client: generating the stubs needs grpcio-tools, or protoc and "
                     "grpc_python_plugin (Debian: protobuf-compiler protobuf-compiler-grpc)")
        subprocess.check_call([protoc_bin, f"--proto_path={src}", f"--python_out={out_dir}",
                               f"--grpc_python_out={out_dir}",
                               f"--plugin=protoc-gen-grpc_python={plugin}"] + PROTOS, cwd=src)
    for package in ("emar", os.path.join("emar", "v1")):
        open(os.path.join(out_dir, package, "__init__.py"), "a").close()


class BuildPyWithStubs(build_py):
    def run(self):
        super().run()
        if not self.dry_run:
            generate(self.build_lib)

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        generated = [os.path.join(self.build_lib, "emar", "__init__.py"),
                     os.path.join(self.build_lib, "emar", "v1", "__init__.py")]
        generated += [os.path.join(self.build_lib, p.replace(".proto", suffix))
                      for p in PROTOS for suffix in ("_pb2.py", "_pb2_grpc.py")]
        return outputs + generated


setup(cmdclass={"build_py": BuildPyWithStubs})
