#!/usr/bin/env bash
# README command 1: build the binaries and the Python client (build/python), then evaluate the
# example job on the embedded default and print the EMAR report. Extra arguments go to
# `emarctl run` (e.g. --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
# emar_python: the Python client and its stubs in build/python, where docs/python.md's first
# run starts.
bash scripts/build.sh --target emarctl emar-coordinator emar-worker emar_python >/dev/null
exec build/bin/emarctl run examples/restaurant-sentiment/job.yaml "$@"
