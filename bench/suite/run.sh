#!/bin/bash
# A suite against the same rows as one dataset, embedded, side by side in one run:
#
#   bench/suite/run.sh            # 10 benchmarks x 100k rows (+ a 100k target) vs 1 x 1M
#   bench/suite/run.sh --quick    # 10 x 10k
#
# Both jobs score the same rows with the same metrics (the single job's benchmark file is the
# concatenation of the suite's ten), so the difference is what a suite costs: ten references
# files planned instead of one, ten sets of shards, ten resamplers and the per-dataset report.
# `emarctl run` (embedded, --workers 2) of each job alternately, EMAR_BENCH_REPEAT times
# (default 5); the median wall time of each and their ratio are printed.
# Environment: BUILD_DIR (default build), EMAR_BENCH_DATA (default /tmp/emar-bench-suite).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD_DIR:-build}"
REPEAT="${EMAR_BENCH_REPEAT:-5}"
ROWS=100000
[ "${1:-}" = "--quick" ] && ROWS=10000
DATA="${EMAR_BENCH_DATA:-/tmp/emar-bench-suite}/$ROWS"
if [ ! -f "$DATA/suite.yaml" ]; then
  mkdir -p "$DATA"
  /usr/bin/python3 bench/suite/gen_suite.py "$DATA" --datasets 10 --rows "$ROWS" \
    --target-rows "$ROWS"
fi
[ "${EMAR_BENCH_NO_BUILD:-0}" = 1 ] || cmake --build "$BUILD" --target emarctl >/dev/null
EMARCTL="$BUILD/bin/emarctl"

# Wall seconds of one embedded run; the report must come out (exit 0 or 3: a gate failed).
run_once() {
  local start end status=0
  start=$(date +%s.%N)
  "$EMARCTL" run "$1" --format json --progress off >/dev/null || status=$?
  end=$(date +%s.%N)
  if [ "$status" != 0 ] && [ "$status" != 3 ]; then
    echo "emarctl run $1 failed ($status)" >&2
    exit 1
  fi
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f\n", b - a}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

single=() suite=()
for ((i = 0; i < REPEAT; i++)); do
  single+=("$(run_once "$DATA/single.yaml")")
  suite+=("$(run_once "$DATA/suite.yaml")")
done
s=$(printf '%s\n' "${single[@]}" | median)
t=$(printf '%s\n' "${suite[@]}" | median)
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| job | datasets | rows | median s | runs |\n|---|---:|---:|---:|---|\n'
printf '| single | 1 + 1 | %d + %d | %.3f | %s |\n' "$ROWS" $((10 * ROWS)) "$s" "${single[*]}"
printf '| suite | 1 + 10 | %d + 10 x %d | %.3f | %s |\n' "$ROWS" "$ROWS" "$t" "${suite[*]}"
awk -v t="$t" -v s="$s" 'BEGIN {printf "suite / single: %.3fx\n", t / s}'
