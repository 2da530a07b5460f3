#!/usr/bin/env bash
# README command 1: build, then evaluate the example job on the embedded default and print the
# EMAR report. Extra arguments go to `emarctl run` (e.g. --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh --target emarctl emar-coordinator emar-worker >/dev/null
exec build/bin/emarctl run examples/restaurant-sentiment/job.yaml "$@"
