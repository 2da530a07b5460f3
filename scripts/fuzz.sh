#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang-14 into build-fuzz/ and runs each for
# SECONDS (default 30) on a copy of its committed corpus. Exits 1 when any target finds a crash,
# a leak, an out-of-memory (RSS or one allocation above 2 GiB) or a timeout (one input > 10 s),
# naming the target and the saved input (build-fuzz/artifacts/<target>/).
#   bash scripts/fuzz.sh            # 30 s each
#   bash scripts/fuzz.sh 300 jsonl  # 5 minutes, one target (formula, jsonl, job_file, decompress)
#   bash scripts/fuzz.sh 0          # build only
# Reproduce a saved input: build-fuzz/fuzz/fuzz_<target> build-fuzz/artifacts/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-30}
[[ $SECONDS_PER_TARGET =~ ^[0-9]+$ ]] || {
  echo "usage: $0 [SECONDS] [TARGET...]" >&2
  exit 2
}
shift || true
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(formula jsonl job_file decompress)

bash scripts/install-deps.sh

BUILD=build-fuzz
# Every library is compiled with coverage instrumentation and the sanitizers; the fuzz binaries
# add the libFuzzer driver (tests/fuzz/CMakeLists.txt). UBSan findings abort instead of printing.
FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
FLAGS+=" -fno-omit-frame-pointer"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# Paths relative to the clone in ccache's keys (scripts/ccache-env.sh), so another clone of the repo
# on this machine reuses the same cache entries.
source scripts/ccache-env.sh
start=$(date +%s)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 -DEMAR_FUZZ=ON \
  -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" "${launcher[@]}" >/dev/null
binaries=()
for t in "${TARGETS[@]}"; do binaries+=("fuzz_$t"); done
cmake --build "$BUILD" -j "$(nproc)" --target "${binaries[@]}"
echo "fuzz: build took $(($(date +%s) - start)) s"
# libFuzzer reads -max_total_time=0 as "no limit".
((SECONDS_PER_TARGET > 0)) || exit 0

export ASAN_OPTIONS=detect_leaks=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer

failed=()
for t in "${TARGETS[@]}"; do
  # A scratch copy: libFuzzer adds the inputs it finds to its corpus directory, and the
  # committed corpus must not change.
  work="$BUILD/corpus-run/$t"
  artifacts="$BUILD/artifacts/$t"
  log="$BUILD/logs/$t.log"
  rm -rf "$work"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  cp tests/fuzz/corpus/"$t"/* "$work"/
  echo "fuzz: $t for ${SECONDS_PER_TARGET} s (log: $log)"
  rc=0
  "$BUILD/fuzz/fuzz_$t" "$work" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 \
    -malloc_limit_mb=2048 -timeout=10 -detect_leaks=1 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?
  # The last status line: executions, coverage (cov: edges, ft: features), corpus size.
  grep -E '^#[0-9]+' "$log" | tail -1 | sed 's/^/  /' || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" |
    sed 's/^/  /' || true
  if ((rc != 0)); then
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $rc):" >&2
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|FUZZ_CHECK failed|SUMMARY:|Test unit written to|^terminate called' \
      "$log" | sed 's/^/  /' >&2 || true
    echo "  full report: $log" >&2
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: findings in: ${failed[*]} (reports: $BUILD/logs/, inputs: $BUILD/artifacts/)" >&2
fi
# The closing line CI reads (one word, a colon, then the counts).
echo "fuzz: $((${#TARGETS[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
