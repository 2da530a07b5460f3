#!/usr/bin/env bash
# README command 2: install what is missing, check formatting, build everything, run every test
# (ctest).
# Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/check-format.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 900 "$@"
