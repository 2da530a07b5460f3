#!/usr/bin/env bash
# flake8 and mypy --strict on the Python client (ctest python_lint_test):
#   bash tests/python/lint.sh [BUILD_PYTHON_DIR]   # default build/python
# flake8 reads client/python/setup.cfg, mypy client/python/pyproject.toml. mypy checks the
# package as the build lays it out (build/python/emar_client, generated stubs included, whose
# own code is not checked), so that its imports of emar_client._proto resolve.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
built="$(cd "${1:-$repo/build/python}" && pwd)"
src="$repo/client/python"
/usr/bin/python3 -m flake8 --config "$src/setup.cfg" "$src/emar_client" "$src/gen_stubs.py" \
  "$src/setup.py"
cd "$built"
MYPY_CACHE_DIR="$(mktemp -d)" && trap 'rm -rf "$MYPY_CACHE_DIR"' EXIT && export MYPY_CACHE_DIR
/usr/bin/python3 -m mypy --config-file "$src/pyproject.toml" -p emar_client
