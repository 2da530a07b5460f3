#!/usr/bin/env bash
# Builds tests with clang-14 and a sanitizer, each mode in its own build directory, and runs them.
#   bash scripts/sanitize.sh asan   # AddressSanitizer + UndefinedBehaviorSanitizer (+ leaks):
#                                   # every unit and integration test (ctest -L 'unit|integration')
#                                   # but the Python lint (no C++ in it)
#   bash scripts/sanitize.sh tsan   # ThreadSanitizer: the coordinator driven from many threads,
#                                   # its parts (job board, lease broker), the shard scheduler and
#                                   # the job store (server_test, coordinator_parts_test)
# The tests that go through gRPC (coordinator_test, embedded_test, the edge) are not run under
# TSan: Debian's gRPC and protobuf are not instrumented, so TSan cannot see the completion queue
# hand a call from thread to thread and reports thousands of races inside them (one run: ~14,600).
# server_test's CoordinatorConcurrencyTest drives the same Coordinator from worker, client,
# reader and watcher threads without gRPC in between instead.
# Extra arguments select tests within those, as ctest does (e.g. -R server_test): only their
# binaries are built and run. Exits 1 on any finding: UBSan aborts on
# the first report, ASan and TSan fail the test that triggered them. Suppressions, for
# third-party code only, are in scripts/sanitizers/.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-}
shift || true
case "$MODE" in
  asan)
    FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
    LABELS='unit|integration'
    TESTS=''
    EXCLUDE='^python_lint_test$'
    ;;
  tsan)
    FLAGS="-fsanitize=thread"
    LABELS=''
    TESTS='^(server_test|coordinator_parts_test)$'
    EXCLUDE=''
    ;;
  *)
    echo "usage: $0 asan|tsan [CTEST_ARGS...]" >&2
    exit 2
    ;;
esac
FLAGS+=" -fno-omit-frame-pointer"

bash scripts/install-deps.sh
BUILD=build-$MODE
LDFLAGS=$FLAGS
if [ "$MODE" = tsan ]; then
  # Debian's Abseil is not TSan-instrumented: link our annotations of its Mutex in front of it
  # (see the file's header), one --wrap per function it wraps.
  mkdir -p "$BUILD"
  shim=$PWD/$BUILD/absl_tsan_annotations.o
  clang++-14 -std=c++17 -O1 $FLAGS -c scripts/sanitizers/absl_tsan_annotations.cc -o "$shim"
  LDFLAGS+=" $shim"
  for sym in $(nm "$shim" | sed -nE 's/^[0-9a-f]+ T __wrap_(.*)$/\1/p'); do
    LDFLAGS+=" -Wl,--wrap=$sym"
  done
fi
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
source scripts/ccache-env.sh  # keys relative to the clone: another clone reuses them
start=$(date +%s)
# -O1: the sanitizers' usual level, and a quicker compile than the default build's -O2. (The
# Debug type is used only because the project fixes RelWithDebInfo's flags.)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
  -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="$LDFLAGS" "${launcher[@]}" >/dev/null

# Only what the chosen tests need: their gtest binaries, and the three programs when a chosen
# test may start them (an integration or system test, or a script test such as
# runtime_packages_test); unit gtest binaries start none, so `-L unit` builds no program.
select=(-N)
[ -n "$LABELS" ] && select+=(-L "$LABELS")
[ -n "$TESTS" ] && select+=(-R "$TESTS")
[ -n "$EXCLUDE" ] && select+=(-E "$EXCLUDE")
select+=("$@")  # e.g. -R worker_test: build and run only those
list_tests() {
  ctest --test-dir "$BUILD" "$@" 2>/dev/null | sed -nE 's/^ *Test +#[0-9]+: ([A-Za-z0-9_]+)$/\1/p'
}
mapfile -t tests < <(list_tests "${select[@]}")
mapfile -t all_targets < <(ninja -C "$BUILD" -t targets all | sed -nE 's/^([A-Za-z0-9_-]+): .*/\1/p')
mapfile -t starting < <(list_tests -N -L 'integration|system')
is_in() {  # is_in WORD LIST...
  local w=$1
  shift
  printf '%s\n' "$@" | grep -qx "$w"
}
targets=()
programs=0
for t in "${tests[@]}"; do
  if is_in "$t" "${all_targets[@]}"; then targets+=("$t"); else programs=1; fi
  if is_in "$t" "${starting[@]}"; then programs=1; fi
done
if ((programs)); then targets+=(emarctl emar-coordinator emar-worker); fi
cmake --build "$BUILD" -j "$(nproc)" --target "${targets[@]}"
echo "sanitize $MODE: build took $(($(date +%s) - start)) s (${targets[*]})"

supp=$PWD/scripts/sanitizers
export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp
export TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1:suppressions=$supp/tsan.supp:history_size=4
export TSAN_SYMBOLIZER_PATH=$ASAN_SYMBOLIZER_PATH

start=$(date +%s)
rc=0
(cd "$BUILD" && ctest --output-on-failure --timeout 1800 "${select[@]:1}") || rc=$?
echo "sanitize $MODE: tests took $(($(date +%s) - start)) s"
exit "$rc"
