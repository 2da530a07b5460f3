#!/usr/bin/env bash
# Builds and runs the load test (bench/README.md, "Load under worker failures"): one
# emar-coordinator and 3 emar-worker processes on 127.0.0.1, 50 client threads x 4 jobs (~70 %
# good, ~15 % bad inputs, ~15 % cancelled at once), a worker SIGKILLed and replaced every ~2 s,
# a 300 s deadline. Prints a table of outcomes, wall time and jobs/s; exits 0 only when every
# check passed (1: a check failed, 2: the deadline was hit).
#
#   bench/load/run.sh                                  # defaults, build/ via scripts/build.sh
#   BUILD_DIR=build-load bench/load/run.sh --clients 10 --jobs_per_client 2
#
# Environment:
#   BUILD_DIR  build directory (default build). build/ is configured and built by
#              scripts/build.sh; any other directory must already be configured with CMake.
#   NO_BUILD   1: run what is built, build nothing
# Arguments go to load_test (load_test --help lists its flags: --workers, --kill_interval_ms,
# --deadline_seconds, --max_cancel_delay_ms, --seed, --keep_temp, ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${BUILD_DIR:-build}"
targets=(load_test emar-coordinator emar-worker)

if [ "${NO_BUILD:-0}" != 1 ]; then
  if [ "$BUILD_DIR" = build ]; then
    bash scripts/build.sh --target "${targets[@]}"
  elif [ -f "$BUILD_DIR/build.ninja" ] || [ -f "$BUILD_DIR/Makefile" ]; then
    cmake --build "$BUILD_DIR" --target "${targets[@]}" -j "$(nproc)"
  else
    echo "run.sh: $BUILD_DIR is not a configured build directory" >&2
    echo "  cmake -S . -B $BUILD_DIR -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo" >&2
    exit 1
  fi
fi

echo "$(date -u "+%Y-%m-%d %H:%M UTC"), build: $BUILD_DIR"
exec "$BUILD_DIR/bench/load_test" --bin_dir "$(realpath "$BUILD_DIR/bin")" "$@"
