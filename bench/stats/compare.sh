#!/bin/bash
# Runs the C++ bootstrap (stats_bench) and the numpy index-gather baseline on the bootstrap job
# (1,000 resamples, 1M target + 1M benchmark examples, base + one candidate) and prints the
# speed-up per metric.
#
#   bench/stats/compare.sh [build-dir]        # default build dir: build-stats
#
# numpy is slow (minutes per metric at 1,000 resamples on 2 cores), so it runs
# NUMPY_RESAMPLES resamples (default 100) and its time is scaled to 1,000: its cost per
# resample is constant. NUMPY_RESAMPLES=1000 runs the full job.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${1:-build-stats}"
NUMPY_RESAMPLES="${NUMPY_RESAMPLES:-100}"
N=1000000
if [ ! -x "$BUILD/bench/stats_bench" ]; then
  cmake -S . -B "$BUILD" -G Ninja >/dev/null
  ninja -C "$BUILD" stats_bench >/dev/null
fi
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  echo "needs Debian's numpy: apt-get install -y python3-numpy" >&2
  exit 1
fi
cpp_json=$(mktemp)
trap 'rm -f "$cpp_json"' EXIT
"$BUILD/bench/stats_bench" --benchmark_filter='BM_Study' --benchmark_format=json >"$cpp_json"
printf "%-9s %12s %14s %9s\n" metric "C++ (s)" "numpy (s)" speedup
for metric in binary ratio bleu10 macro_f1; do
  cpp=$(/usr/bin/python3 - "$cpp_json" "$metric" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
for b in data["benchmarks"]:
    if b.get("label") == sys.argv[2]:
        t = b["real_time"]
        unit = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
        print(t * unit)
        break
PY
)
  np_raw=$(/usr/bin/python3 bench/stats/bootstrap_numpy.py --metric "$metric" --n "$N" \
             --resamples "$NUMPY_RESAMPLES" | awk '{print $3}')
  np_scaled=$(awk -v t="$np_raw" -v r="$NUMPY_RESAMPLES" 'BEGIN{printf "%.3f", t * 1000 / r}')
  speedup=$(awk -v a="$np_scaled" -v b="$cpp" 'BEGIN{printf "%.0fx", a / b}')
  printf "%-9s %12.3f %14s %9s\n" "$metric" "$cpp" "$np_scaled" "$speedup"
done
echo "(numpy: $NUMPY_RESAMPLES resamples scaled to 1000; C++: 1000 resamples, whole study)"
