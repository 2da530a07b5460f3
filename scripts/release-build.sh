#!/usr/bin/env bash
# Builds what ships: emar-coordinator, emar-worker and emarctl as a Release build (-O2, NDEBUG)
# in build-release/, then installs them stripped into PREFIX/bin with their symbols split into
# PREFIX/debug/NAME.debug (each binary names its debug file in a .gnu_debuglink section, so gdb
# finds it when both are placed side by side or under /usr/lib/debug).
#
#   bash scripts/release-build.sh PREFIX        # e.g. /out; the image build uses it
#   BUILD_ONLY_DEPS=1: install only the build dependencies (scripts/install-deps.sh --build-only)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:?usage: release-build.sh PREFIX}
if [ "${BUILD_ONLY_DEPS:-0}" = 1 ]; then
  bash scripts/install-deps.sh --build-only
else
  bash scripts/install-deps.sh
fi
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Paths relative to the clone in ccache's keys (scripts/ccache-env.sh), so another clone of the repo
# on this machine reuses the same cache entries.
source scripts/ccache-env.sh
[ -f build-release/build.ninja ] ||
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMAR_BUILD_TESTS=OFF \
    "${launcher[@]}" >/dev/null
cmake --build build-release -j "$(nproc)" --target emarctl emar-coordinator emar-worker
mkdir -p "$prefix/bin" "$prefix/debug"
for b in emar-coordinator emar-worker emarctl; do
  objcopy --only-keep-debug "build-release/bin/$b" "$prefix/debug/$b.debug"
  objcopy --strip-all --add-gnu-debuglink="$prefix/debug/$b.debug" "build-release/bin/$b" \
    "$prefix/bin/$b"
done
ls -l "$prefix/bin"
