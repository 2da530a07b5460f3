"""Generates the emar.v1 stubs into the build as emar_client._proto (gen_stubs.py here).

With grpcio-tools importable (pip's isolated build installs it) it runs grpc_tools.protoc, else
`protoc` and `grpc_python_plugin` from PATH (Debian: protobuf-compiler, protobuf-compiler-grpc).
The protos are found at $EMAR_PROTO_DIR, else ../../proto (this directory in the repository).
"""
import os
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_stubs  # noqa: E402  (beside this file)


def proto_dir():
    for d in (os.environ.get("EMAR_PROTO_DIR"), os.path.join(HERE, "..", "..", "proto")):
        if d and all(os.path.isfile(os.path.join(d, p)) for p in gen_stubs.PROTOS):
            return os.path.abspath(d)
    sys.exit("emar-client: proto/emar/v1/*.proto not found: build from client/python in the "
             "repository, or set EMAR_PROTO_DIR to the repository's proto/ directory")


class BuildPyWithStubs(build_py):
    def run(self):
        super().run()
        if not self.dry_run:
            gen_stubs.generate(proto_dir(), self._stub_dir())

    def _stub_dir(self):
        return os.path.join(self.build_lib, "emar_client", "_proto")

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        return outputs + [os.path.join(self._stub_dir(), name) for name in gen_stubs.OUTPUTS]


setup(cmdclass={"build_py": BuildPyWithStubs})
