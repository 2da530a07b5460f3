#!/bin/bash
# Every service-path performance figure in one command and one table (bench/README.md, "Service
# path and both cores"):
#
#   bench/run.sh            # full sizes (first use generates ~1.5 GB of data under /tmp, minutes)
#   bench/run.sh --quick    # small sizes, same measurements, about a minute
#
#   1. e2e embedded: `emarctl run` of DESIGN §8's job (1M + 1M examples) against the Python/numpy
#      pipeline in the same run (bench/e2e/run.sh, which also checks the values), wall, CPU/wall,
#      ratio, and the parse-only floor.
#   2. e2e service: the same job through a real emar-coordinator and two emar-worker processes
#      (`emarctl submit --wait`), against the embedded run.
#   3. coordinator: lease + complete cycles/s of tiny shards from synthetic workers, with
#      heartbeat latency (bench/service/coordinator_bench; results durable before acknowledged).
#   4. upload: `emarctl submit` of 1 GB of outputs (4 files of 256 MB) into a fresh coordinator,
#      against a raw loopback TCP copy of the same bytes (bench/service/tcp_copy), and against
#      a raw copy whose receiver writes the bytes to the same disk and fsyncs them, as the
#      coordinator must before it acknowledges an upload (tcp_copy --durable).
#   5. memory: peak RSS (VmHWM) of the coordinator and of each worker for a 1M- and a 4M-example
#      job (references rows, both datasets together), and the coordinator's RSS once the job is done.
#
# Environment: BUILD_DIR (default build; built through scripts/build.sh when it has no
# build.ninja, else the needed targets are built there), EMAR_BENCH_REPEAT (runs of each timed
# command, the median is reported; default 3, quick 2), EMAR_BENCH_DATA (default /tmp/emar-bench).
# Everything binds 127.0.0.1 port 0; every process started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
BUILD="${BUILD_DIR:-build}"
DATA_ROOT="${EMAR_BENCH_DATA:-/tmp/emar-bench}"
PY=/usr/bin/python3
if [ "$QUICK" = 1 ]; then
  REPEAT="${EMAR_BENCH_REPEAT:-2}"
  E2E_N=200000            # per dataset
  MEM_N=(50000 200000)    # per dataset: 100k vs 400k examples
  UPLOAD_MB=32            # per file, 4 files
  CYCLE_ROWS=500          # 2,000 shards
else
  REPEAT="${EMAR_BENCH_REPEAT:-3}"
  E2E_N=1000000
  MEM_N=(500000 2000000)  # per dataset: 1M vs 4M examples
  UPLOAD_MB=256
  CYCLE_ROWS=2500         # 10,000 shards
fi

# The Python side of the e2e comparison needs Debian's numpy (not in scripts/install-deps.sh).
if ! "$PY" -c 'import numpy' 2>/dev/null; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-numpy >/dev/null
fi
if [ ! -f "$BUILD/build.ninja" ]; then
  BUILD=build
  bash scripts/build.sh >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" --target emarctl emar-coordinator emar-worker \
  jsonl_parse_baseline coordinator_bench tcp_copy >/dev/null
BIN="$BUILD/bin"

TMP=$(mktemp -d /tmp/emar-bench-run.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$DATA_ROOT"

now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
hwm_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
job_data() {  # job_data N: a generated e2e job with N rows per dataset
  local dir="$DATA_ROOT/e2e-$1"
  if [ "$1" = 1000000 ] && [ -s /tmp/emar-e2e/job.yaml ]; then dir=/tmp/emar-e2e; fi
  if [ ! -s "$dir/job.yaml" ]; then
    echo "generating $dir ..." >&2
    "$PY" bench/e2e/gen_job.py "$dir" --n-target "$1" --n-benchmark "$1" >&2
  fi
  echo "$dir"
}

# A coordinator on 127.0.0.1 port 0 with a fresh data dir; sets COORD_PID and SERVER.
start_coordinator() {
  local dir="$TMP/coord.$RANDOM$RANDOM"
  mkdir -p "$dir"
  "$BIN/emar-coordinator" --listen 127.0.0.1:0 --data_dir "$dir/data" --port_file "$dir/port" \
    --log_format off "$@" >"$dir/out" 2>"$dir/err" &
  COORD_PID=$!
  PIDS+=("$COORD_PID")
  for _ in $(seq 1 300); do
    [ -s "$dir/port" ] && break
    sleep 0.05
  done
  [ -s "$dir/port" ] || { cat "$dir/err" >&2; exit 1; }
  SERVER="127.0.0.1:$(cat "$dir/port")"
  COORD_DIR=$dir
}
stop() {  # stop PID...: SIGTERM, wait
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem/ {print $2}') GB," \
  "$(uname -r), build $BUILD ($(grep -m1 CMAKE_BUILD_TYPE "$BUILD/CMakeCache.txt" | cut -d= -f2)), $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo '+wip')"
echo "start: $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. e2e embedded vs Python ----------------------------------------------------------------
E2E=$(job_data "$E2E_N")
EMAR_BUILD_DIR="$BUILD" EMAR_E2E_DATA="$E2E" EMAR_E2E_REPEAT="$REPEAT" \
  EMAR_E2E_SUMMARY="$TMP/e2e.summary" bash bench/e2e/run.sh > "$TMP/e2e.out" 2>&1 || {
  cat "$TMP/e2e.out"
  echo "bench/e2e/run.sh failed" >&2
  exit 1
}
# shellcheck disable=SC1090
. "$TMP/e2e.summary"   # e2e_median e2e_cpu e2e_parse e2e_python e2e_values_ok e2e_rss

# ---- 2. e2e through a coordinator and two worker processes -------------------------------------
svc_times=()
for i in $(seq 1 "$REPEAT"); do
  start_coordinator
  "$BIN/emar-worker" --coordinator "$SERVER" --threads 1 --worker_id "bench-w1" >/dev/null 2>"$COORD_DIR/w1.err" &
  W1=$!
  "$BIN/emar-worker" --coordinator "$SERVER" --threads 1 --worker_id "bench-w2" >/dev/null 2>"$COORD_DIR/w2.err" &
  W2=$!
  PIDS+=("$W1" "$W2")
  sleep 0.2
  t0=$(now)
  "$BIN/emarctl" submit "$E2E/job.yaml" --wait --server "$SERVER" --format json --progress off \
    > "$TMP/svc.json" 2>"$TMP/svc.err" || { cat "$TMP/svc.err" >&2; exit 1; }
  t1=$(now)
  svc_times+=("$(echo "$t1 - $t0" | bc -l)")
  stop "$W1" "$W2" "$COORD_PID"
done
svc_median=$(median "${svc_times[@]}")
# Same values as the embedded run (the report is byte-identical apart from job id and times).
svc_same=$("$PY" - "$TMP/svc.json" "$TMP/e2e.ours.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
pick = lambda r: json.dumps(r["candidates"], sort_keys=True)
print("yes" if pick(a) == pick(b) else "NO")
EOF
)

# ---- 3. coordinator cycles/s ---------------------------------------------------------------------
cyc_out=()
for i in $(seq 1 "$REPEAT"); do
  "$BUILD/bench/coordinator_bench" --bin_dir "$BIN" --rows "$CYCLE_ROWS" --rows_per_shard 1 \
    --streams 16 --log_format off > "$TMP/cyc.$i.json" 2>"$TMP/cyc.$i.err" || {
    cat "$TMP/cyc.$i.err" "$TMP/cyc.$i.json" >&2
    exit 1
  }
  cyc_out+=("$TMP/cyc.$i.json")
done
read -r cyc_rate hb_p50 hb_p99 cyc_p50 cyc_p99 cyc_shards < <("$PY" - "${cyc_out[@]}" <<'EOF'
import json, statistics, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
m = lambda f: statistics.median(f(r) for r in runs)
print(m(lambda r: r["cycles_per_s"]), m(lambda r: r["heartbeat_ms"]["p50"]),
      m(lambda r: r["heartbeat_ms"]["p99"]), m(lambda r: r["cycle_ms"]["p50"]),
      m(lambda r: r["cycle_ms"]["p99"]), runs[0]["shards"])
EOF
)

# ---- 4. upload ---------------------------------------------------------------------------------
UP="$DATA_ROOT/upload-$UPLOAD_MB"
if [ ! -s "$UP/job.yaml" ]; then
  echo "generating $UP ..." >&2
  "$PY" - "$UP" "$UPLOAD_MB" <<'EOF'
import os, sys
out, mb = sys.argv[1], int(sys.argv[2])
os.makedirs(out + "/data", exist_ok=True)
os.makedirs(out + "/out", exist_ok=True)
with open(out + "/data/refs.jsonl", "w") as f:
    f.write("".join('{"id": "q%d", "reference": "positive"}\n' % i for i in range(1000)))
words = ["positive", "negative", "the river", "Zürich", "a long answer with several words"]
for name in ["base.target", "cand.target", "base.benchmark", "cand.benchmark"]:
    with open("%s/out/%s.jsonl" % (out, name), "w") as f:
        size, i = 0, 0
        while size < mb << 20:
            block = "".join('{"id": "%s-%09d", "prediction": "%s"}\n' % (name, j, words[j % 5])
                            for j in range(i, i + 10000))
            f.write(block)
            size += len(block.encode())
            i += 10000
with open(out + "/job.yaml", "w") as f:
    f.write("name: upload-bench\n"
            "target: {name: t, references: data/refs.jsonl, metric: accuracy}\n"
            "benchmark: {name: b, references: data/refs.jsonl, metric: exact_match}\n"
            "base: {name: base, target_outputs: out/base.target.jsonl, benchmark_outputs: out/base.benchmark.jsonl}\n"
            "candidates:\n"
            "  - {name: cand, target_outputs: out/cand.target.jsonl, benchmark_outputs: out/cand.benchmark.jsonl}\n")
EOF
fi
up_bytes=$(cat "$UP"/out/*.jsonl "$UP"/data/*.jsonl | wc -c)
cat "$UP"/out/*.jsonl "$UP"/data/*.jsonl > /dev/null  # page cache, for both sides
up_times=()
tcp_times=()
durable_times=()
seconds_of() { sed 's/.*"seconds": *\([0-9.]*\).*/\1/'; }
for i in $(seq 1 "$REPEAT"); do
  tcp_times+=("$("$BUILD/bench/tcp_copy" "$UP"/out/*.jsonl "$UP"/data/*.jsonl | seconds_of)")
  sync
  durable_times+=("$("$BUILD/bench/tcp_copy" --durable "$TMP" "$UP"/out/*.jsonl "$UP"/data/*.jsonl | seconds_of)")
  sync
  start_coordinator
  t0=$(now)
  "$BIN/emarctl" submit "$UP/job.yaml" --server "$SERVER" --progress off > /dev/null 2>"$TMP/up.err" \
    || { cat "$TMP/up.err" >&2; exit 1; }
  t1=$(now)
  up_times+=("$(echo "$t1 - $t0" | bc -l)")
  stop "$COORD_PID"
  rm -rf "$COORD_DIR"
  sync
done
up_median=$(median "${up_times[@]}")
tcp_median=$(median "${tcp_times[@]}")
durable_median=$(median "${durable_times[@]}")

# ---- 5. memory ---------------------------------------------------------------------------------
mem_rows=()
for n in "${MEM_N[@]}"; do
  dir=$(job_data "$n")
  start_coordinator
  "$BIN/emar-worker" --coordinator "$SERVER" --threads 1 --worker_id "mem-w1" >/dev/null 2>&1 &
  W1=$!
  "$BIN/emar-worker" --coordinator "$SERVER" --threads 1 --worker_id "mem-w2" >/dev/null 2>&1 &
  W2=$!
  PIDS+=("$W1" "$W2")
  "$BIN/emarctl" submit "$dir/job.yaml" --wait --server "$SERVER" --format json --progress off \
    > /dev/null 2>"$TMP/mem.err" || { cat "$TMP/mem.err" >&2; exit 1; }
  sleep 0.5
  mem_rows+=("$((2 * n)) $(hwm_mb "$COORD_PID") $(rss_mb "$COORD_PID") $(hwm_mb "$W1") $(hwm_mb "$W2")")
  stop "$W1" "$W2" "$COORD_PID"
done

# ---- the table -----------------------------------------------------------------------------------
echo "end: $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg); timed commands: median of $REPEAT"
echo
f() { printf %.2f "$1"; }
ok() { [ "$(echo "$1" | bc -l)" = 1 ] && echo met || echo "NOT met"; }
e2e_ratio=$(echo "$e2e_python / $e2e_median" | bc -l)
e2e_cores=$(echo "$e2e_cpu / $e2e_median" | bc -l)
svc_ratio=$(echo "$svc_median / $e2e_median" | bc -l)
up_ratio=$(echo "$tcp_median / $up_median" | bc -l)
printf "| %-66s | %-52s | %-20s |\n" "measure" "value" "target"
printf "|%s|%s|%s|\n" "$(printf -- '-%.0s' {1..68})" "$(printf -- '-%.0s' {1..54})" "$(printf -- '-%.0s' {1..22})"
row() { printf "| %-66s | %-52s | %-20s |\n" "$1" "$2" "$3"; }
row "e2e embedded, $((E2E_N / 1000))k + $((E2E_N / 1000))k examples: emarctl run" "$(f "$e2e_median") s (parse floor $(f "$e2e_parse") s, $(f "$(echo "$e2e_median / $e2e_parse" | bc -l)")x)" "aim 2x parse floor"
row "e2e Python/numpy pipeline, same run" "$(f "$e2e_python") s, ratio $(printf %.1f "$e2e_ratio")x, values $e2e_values_ok" ">= 25x: $(ok "$e2e_ratio >= 25")"
row "e2e CPU / wall (whole emarctl run)" "$(f "$e2e_cpu") s / $(f "$e2e_median") s = $(f "$e2e_cores") cores" ">= 1.7: $(ok "$e2e_cores >= 1.7")"
row "e2e peak RSS (emarctl run)" "$e2e_rss MB" ""
row "e2e service: coordinator + 2 workers, submit --wait" "$(f "$svc_median") s = $(f "$svc_ratio")x embedded, same values $svc_same" "<= 1.5x: $(ok "$svc_ratio <= 1.5")"
row "coordinator: lease+complete cycles/s ($cyc_shards tiny shards, 16 streams)" "$(printf %.0f "$cyc_rate")/s (cycle p50 $(f "$cyc_p50") p99 $(f "$cyc_p99") ms)" ">= 2000/s: $(ok "$cyc_rate >= 2000")"
row "coordinator: heartbeat latency under that load" "p50 $(f "$hb_p50") ms, p99 $(f "$hb_p99") ms" "p99 < 50 ms: $(ok "$hb_p99 < 50")"
row "upload: emarctl submit of $((4 * UPLOAD_MB)) MB outputs, fresh coordinator" "$(f "$up_median") s = $(f "$(echo "$up_bytes / $up_median / 1000000000" | bc -l)") GB/s" ""
row "upload: raw loopback TCP copy of the same bytes" "$(f "$tcp_median") s; submit = $(printf %.0f "$(echo "100 * $up_ratio" | bc -l)") % of it" ">= 50 %: $(ok "$up_ratio >= 0.5")"
row "upload: raw copy written to this disk and fsynced (its floor)" "$(f "$durable_median") s; submit = $(printf %.0f "$(echo "100 * $durable_median / $up_median" | bc -l)") % of it" ""
for r in "${mem_rows[@]}"; do
  set -- $r
  row "memory, $(($1 / 1000))k examples: peak RSS coordinator / workers" "$2 MB (after: $3 MB) / $4, $5 MB" ""
done
