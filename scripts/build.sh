#!/usr/bin/env bash
# Configures (once) and builds everything into build/ with Ninja. Binaries land in build/bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# ccache, when installed, makes rebuilds after a branch switch or a clean clone cheap; the build
# does not need it.
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Paths relative to the clone in ccache's keys (scripts/ccache-env.sh), so another clone of the repo
# on this machine reuses the same cache entries.
source scripts/ccache-env.sh
[ -f build/build.ninja ] ||
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build build -j "$(nproc)" "$@"
