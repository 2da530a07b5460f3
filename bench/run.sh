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
#   6. scale in simulation: coordinator_bench with 64, 256 and 1,024 synthetic workers (threads,
#      one connection each) against one coordinator: cycles/s, p99 wait for a shard, the
#      coordinator's CPU.
#   7. suites: 10 datasets x 100k rows against the same rows as one dataset (bench/suite/run.sh),
#      and a series of 20 checkpoints of a suite whose base comes from the score cache (rows
#      scored and seconds per checkpoint, through a coordinator and two workers).
#   8. suite memory: a suite of 10 datasets x 1M examples (base + one candidate): peak RSS of
#      `emarctl run`, and of the coordinator when the same job runs distributed, in bytes per
#      example-model (10 x 1M x 2 = 20M); and both peaks for the README's example job (3,500
#      rows): the fixed part, which does not grow with the examples.
# Section 3 runs both protocols alternately against the same coordinator build: each result
# completed with lease_next (one call a shard, what emar-worker does) and the older Lease, then
# Complete (two calls).
#
# Every target is a row of the final table, met or not, with what it is compared against measured
# in the same run.
#
# Environment: BUILD_DIR (default build; built through scripts/build.sh when it has no
# build.ninja, else the needed targets are built there), EMAR_BENCH_REPEAT (runs of each timed
# command, the median is reported; default 3, quick 2), EMAR_BENCH_DATA (default /tmp/emar-bench),
# EMAR_BENCH_SECTIONS (the sections to run, default all: e2e svc cycles upload mem sim suite
# series suitemem; the rows of the others say "skipped"), EMAR_BENCH_PYTHON=0 skips the Python
# pipeline of section 1 (minutes).
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
  SIM_ROWS=1000           # 4,000 shards
  SUITE_ROWS=10000        # section 7: 10 x 10k against 1 x 100k
  SERIES_ROWS=2000        # per dataset of the series' suite
  SUITEMEM_ROWS=100000    # section 8: 10 datasets x 100k
else
  REPEAT="${EMAR_BENCH_REPEAT:-3}"
  E2E_N=1000000
  MEM_N=(500000 2000000)  # per dataset: 1M vs 4M examples
  UPLOAD_MB=256
  CYCLE_ROWS=2500         # 10,000 shards
  SIM_ROWS=2500
  SUITE_ROWS=100000
  SERIES_ROWS=10000
  SUITEMEM_ROWS=1000000
fi
SECTIONS=" ${EMAR_BENCH_SECTIONS:-e2e svc cycles upload mem sim suite series suitemem} "
want() { [[ "$SECTIONS" == *" $1 "* ]]; }

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
if [ "${EMAR_BENCH_NO_BUILD:-0}" != 1 ]; then  # 1: use the binaries as built (another build runs)
  cmake --build "$BUILD" -j "$(nproc)" --target emarctl emar-coordinator emar-worker \
    jsonl_parse_baseline coordinator_bench tcp_copy >/dev/null
fi
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
start_workers() {  # start_workers NAME: two 1-thread workers on $SERVER, as $W1 and $W2
  "$BIN/emar-worker" --coordinator "$SERVER" --threads 1 --worker_id "$1-w1" >/dev/null \
    2>"$COORD_DIR/$1-w1.err" &
  W1=$!
  "$BIN/emar-worker" --coordinator "$SERVER" --threads 1 --worker_id "$1-w2" >/dev/null \
    2>"$COORD_DIR/$1-w2.err" &
  W2=$!
  PIDS+=("$W1" "$W2")
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
e2e_median=0 e2e_cpu=0 e2e_parse=0 e2e_python=0 e2e_values_ok=skipped e2e_rss="?"
if want e2e; then
  EMAR_BUILD_DIR="$BUILD" EMAR_E2E_DATA="$E2E" EMAR_E2E_REPEAT="$REPEAT" \
    EMAR_E2E_PYTHON="${EMAR_BENCH_PYTHON:-1}" \
    EMAR_E2E_SUMMARY="$TMP/e2e.summary" bash bench/e2e/run.sh > "$TMP/e2e.out" 2>&1 || {
    cat "$TMP/e2e.out"
    echo "bench/e2e/run.sh failed" >&2
    exit 1
  }
  # shellcheck disable=SC1090
  . "$TMP/e2e.summary"   # e2e_median e2e_cpu e2e_parse e2e_python e2e_values_ok e2e_rss
fi

# ---- 2. e2e through a coordinator and two worker processes -------------------------------------
svc_times=()
for i in $(seq 1 "$REPEAT"); do
  want svc && want e2e || break
  start_coordinator
  start_workers bench
  sleep 0.2
  t0=$(now)
  "$BIN/emarctl" submit "$E2E/job.yaml" --wait --server "$SERVER" --format json --progress off \
    > "$TMP/svc.json" 2>"$TMP/svc.err" || { cat "$TMP/svc.err" >&2; exit 1; }
  t1=$(now)
  svc_times+=("$(echo "$t1 - $t0" | bc -l)")
  stop "$W1" "$W2" "$COORD_PID"
done
svc_median=0 svc_same=skipped
if [ "${#svc_times[@]}" -gt 0 ]; then
  svc_median=$(median "${svc_times[@]}")
  # Same values as the embedded run (the report is byte-identical apart from job id and times).
  svc_same=$("$PY" - "$TMP/svc.json" "$TMP/e2e.ours.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
pick = lambda r: json.dumps(r["candidates"], sort_keys=True)
print("yes" if pick(a) == pick(b) else "NO")
EOF
)
fi

# ---- 3. coordinator cycles/s: combined complete+lease vs Lease then Complete ---------------------
# cycles FILE...: the medians of coordinator_bench's JSON outputs: cycles/s, heartbeat p50 and
# p99, cycle p50 and p99, shards, wait-for-a-shard p99, coordinator cores.
cycles() {
  "$PY" - "$@" <<'EOF'
import json, statistics, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
m = lambda f: statistics.median(f(r) for r in runs)
print(m(lambda r: r["cycles_per_s"]), m(lambda r: r["heartbeat_ms"]["p50"]),
      m(lambda r: r["heartbeat_ms"]["p99"]), m(lambda r: r["cycle_ms"]["p50"]),
      m(lambda r: r["cycle_ms"]["p99"]), runs[0]["shards"], m(lambda r: r["lease_ms"]["p99"]),
      m(lambda r: r["coordinator_cores"]))
EOF
}
coordinator_bench() {  # coordinator_bench OUT ARGS...
  local out=$1
  shift
  "$BUILD/bench/coordinator_bench" --bin_dir "$BIN" --rows_per_shard 1 --log_format off "$@" \
    > "$out" 2>"$out.err" || {
    cat "$out.err" "$out" >&2
    exit 1
  }
}
cyc_new=() cyc_old=()
for i in $(seq 1 "$REPEAT"); do
  want cycles || break
  coordinator_bench "$TMP/cyc.$i.json" --rows "$CYCLE_ROWS" --streams 16 --combined
  coordinator_bench "$TMP/cyc-old.$i.json" --rows "$CYCLE_ROWS" --streams 16 --nocombined
  cyc_new+=("$TMP/cyc.$i.json")
  cyc_old+=("$TMP/cyc-old.$i.json")
done
cyc_rate=0 hb_p50=0 hb_p99=0 cyc_p50=0 cyc_p99=0 cyc_shards=0 old_rate=0 old_hb_p99=0
if [ "${#cyc_new[@]}" -gt 0 ]; then
  read -r cyc_rate hb_p50 hb_p99 cyc_p50 cyc_p99 cyc_shards _ _ < <(cycles "${cyc_new[@]}")
  read -r old_rate _ old_hb_p99 _ _ _ _ _ < <(cycles "${cyc_old[@]}")
fi

# ---- 4. upload ---------------------------------------------------------------------------------
UP="$DATA_ROOT/upload-$UPLOAD_MB"
up_bytes=0
if want upload && [ ! -s "$UP/job.yaml" ]; then
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
if want upload; then
  up_bytes=$(cat "$UP"/out/*.jsonl "$UP"/data/*.jsonl | wc -c)
  cat "$UP"/out/*.jsonl "$UP"/data/*.jsonl > /dev/null  # page cache, for both sides
fi
up_times=()
tcp_times=()
durable_times=()
seconds_of() { sed 's/.*"seconds": *\([0-9.]*\).*/\1/'; }
for i in $(seq 1 "$REPEAT"); do
  want upload || break
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
up_median=1 tcp_median=0 durable_median=0
if [ "${#up_times[@]}" -gt 0 ]; then
  up_median=$(median "${up_times[@]}")
  tcp_median=$(median "${tcp_times[@]}")
  durable_median=$(median "${durable_times[@]}")
fi

# ---- 5. memory ---------------------------------------------------------------------------------
mem_rows=()
for n in "${MEM_N[@]}"; do
  want mem || break
  dir=$(job_data "$n")
  start_coordinator
  start_workers mem
  "$BIN/emarctl" submit "$dir/job.yaml" --wait --server "$SERVER" --format json --progress off \
    > /dev/null 2>"$TMP/mem.err" || { cat "$TMP/mem.err" >&2; exit 1; }
  sleep 0.5
  mem_rows+=("$((2 * n)) $(hwm_mb "$COORD_PID") $(rss_mb "$COORD_PID") $(hwm_mb "$W1") $(hwm_mb "$W2")")
  stop "$W1" "$W2" "$COORD_PID"
done

# ---- 6. scale in simulation ----------------------------------------------------------------------
sim_rows=()
for streams in 64 256 1024; do
  want sim || break
  coordinator_bench "$TMP/sim.$streams.json" --rows "$SIM_ROWS" --streams "$streams" --combined
  read -r rate _ hb99 _ c99 shards l99 cores < <(cycles "$TMP/sim.$streams.json")
  sim_rows+=("$streams $rate $l99 $c99 $cores $shards $hb99")
done
# At the default shard size (50,000 rows) what limits is the bytes of results stored, not calls:
# 16 synthetic workers completing 50k-row shards; rows stored per second, against the rows per
# CPU second a real worker scores (the e2e run: 4 x E2E_N example-scores over its CPU seconds).
big_rate=0 big_cores=0 big_shards=0
if want sim; then
  coordinator_bench "$TMP/sim.big.json" --rows $((10 * 50000)) --rows_per_shard 50000 \
    --streams 16 --combined
  read -r big_rate _ _ _ _ big_shards _ big_cores < <(cycles "$TMP/sim.big.json")
fi

# ---- 7. suites: 10 datasets vs one, and a series of checkpoints over the score cache -------------
suite_ratio=0 suite_single=0 suite_suite=0
if want suite; then
  quick_suite=()
  [ "$SUITE_ROWS" = 10000 ] && quick_suite=(--quick)
  BUILD_DIR="$BUILD" EMAR_BENCH_REPEAT="$REPEAT" EMAR_BENCH_DATA="$DATA_ROOT/suite" \
    bash bench/suite/run.sh "${quick_suite[@]}" > "$TMP/suite.out" 2>&1 || {
    cat "$TMP/suite.out" >&2
    exit 1
  }
  read -r suite_single suite_suite < <(awk -F'|' '/^\| single/ {s=$5} /^\| suite/ {t=$5} END {print s, t}' "$TMP/suite.out")
  suite_ratio=$(echo "$suite_suite / $suite_single" | bc -l)
fi
series_n=0
if want series; then
  SER="$DATA_ROOT/series-$SERIES_ROWS"
  if [ ! -s "$SER/series/step20.yaml" ]; then
    echo "generating $SER ..." >&2
    "$PY" bench/suite/gen_suite.py "$SER" --datasets 10 --rows "$SERIES_ROWS" \
      --target-rows "$SERIES_ROWS" --no-single --checkpoints 20 >&2
  fi
  start_coordinator
  start_workers ser
  : > "$TMP/series.tsv"
  for step in $(seq 1 20); do
    t0=$(now)
    st=0
    "$BIN/emarctl" submit "$SER/series/step$step.yaml" --wait --server "$SERVER" --format json \
      --progress off --label run=series --label "step=$step" > "$TMP/ser.json" 2>"$TMP/ser.err" || st=$?
    t1=$(now)
    [ "$st" = 0 ] || [ "$st" = 3 ] || { cat "$TMP/ser.err" >&2; exit 1; }
    job=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["job_id"])' "$TMP/ser.json")
    "$BIN/emarctl" status "$job" --server "$SERVER" --format json > "$TMP/ser.status.json"
    "$PY" - "$TMP/ser.status.json" "$(echo "$t1 - $t0" | bc -l)" >> "$TMP/series.tsv" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))["progress"]
g = lambda k: int(p.get(k, 0))
# examples_scored counts only what was scored this time, not the reused rows
print(g("examples_scored"), g("examples_reused"), sys.argv[2])
EOF
  done
  stop "$W1" "$W2" "$COORD_PID"
  # checkpoint 1's rows scored, rows reused and seconds; the median rows scored and seconds of 2-20
  read -r ser_first_rows ser_first_reused ser_first_s ser_rows ser_s ser_reused < <("$PY" - "$TMP/series.tsv" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
later = rows[1:]
print(rows[0][0], rows[0][1], rows[0][2], statistics.median(int(r[0]) for r in later),
      statistics.median(float(r[2]) for r in later), statistics.median(int(r[1]) for r in later))
EOF
)
  series_n=20
fi

# ---- 8. suite memory: 10 datasets x SUITEMEM_ROWS, embedded and distributed ----------------------
sm_run_mb=0 sm_coord_mb=0 sm_w1=0 sm_w2=0 sm_s=0 sm0_run_mb=0 sm0_coord_mb=0
if want suitemem; then
  # The fixed part: the same two peaks for a job of a few thousand rows.
  SM0=examples/restaurant-sentiment/job.yaml
  /usr/bin/time -v -o "$TMP/sm0.time" "$BIN/emarctl" run "$SM0" --format json --progress off \
    > /dev/null 2>"$TMP/sm.err" || true
  sm0_run_mb=$(awk '/Maximum resident set size/ {printf "%.0f", $NF / 1024}' "$TMP/sm0.time")
  start_coordinator
  start_workers sm0
  "$BIN/emarctl" submit "$SM0" --wait --server "$SERVER" --format json --progress off \
    > /dev/null 2>"$TMP/sm.err" || true
  sm0_coord_mb=$(hwm_mb "$COORD_PID")
  stop "$W1" "$W2" "$COORD_PID"
  SM="$DATA_ROOT/suitemem-$SUITEMEM_ROWS"
  if [ ! -s "$SM/suite.yaml" ]; then
    echo "generating $SM ..." >&2
    "$PY" bench/suite/gen_suite.py "$SM" --datasets 9 --rows "$SUITEMEM_ROWS" \
      --target-rows "$SUITEMEM_ROWS" --no-single >&2
  fi
  t0=$(now)
  st=0
  /usr/bin/time -v -o "$TMP/sm.time" "$BIN/emarctl" run "$SM/suite.yaml" --format json \
    --progress off > /dev/null 2>"$TMP/sm.err" || st=$?
  t1=$(now)
  [ "$st" = 0 ] || [ "$st" = 3 ] || { cat "$TMP/sm.err" >&2; exit 1; }
  sm_s=$(echo "$t1 - $t0" | bc -l)
  sm_run_mb=$(awk '/Maximum resident set size/ {printf "%.0f", $NF / 1024}' "$TMP/sm.time")
  start_coordinator
  start_workers sm
  st=0
  "$BIN/emarctl" submit "$SM/suite.yaml" --wait --server "$SERVER" --format json --progress off \
    > /dev/null 2>"$TMP/sm.err" || st=$?
  [ "$st" = 0 ] || [ "$st" = 3 ] || { cat "$TMP/sm.err" >&2; exit 1; }
  sm_coord_mb=$(hwm_mb "$COORD_PID") sm_w1=$(hwm_mb "$W1") sm_w2=$(hwm_mb "$W2")
  stop "$W1" "$W2" "$COORD_PID"
fi

# ---- the table -----------------------------------------------------------------------------------
echo "end: $(date -u '+%H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg); timed commands: median of $REPEAT"
echo
f() { printf %.2f "$1"; }
ok() { [ "$(echo "$1" | bc -l)" = 1 ] && echo met || echo "NOT met"; }
skip() {  # prints "skipped" and succeeds when section $1 did not run; else fails, printing nothing
  if want "$1"; then return 1; fi
  echo skipped
}
div() { if [ "$(echo "$2 == 0" | bc -l)" = 1 ]; then echo 0; else echo "$1 / $2" | bc -l; fi; }
e2e_ratio=$(div "$e2e_python" "$e2e_median")
e2e_cores=$(div "$e2e_cpu" "$e2e_median")
e2e_floor=$(div "$e2e_median" "$e2e_parse")
svc_ratio=$(div "$svc_median" "$e2e_median")
up_ratio=$(div "$tcp_median" "$up_median")
W=72 V=84 T=26
dashes() { printf -- '-%.0s' $(seq "$1"); }
row() { printf "| %-${W}s | %-${V}s | %-${T}s |\n" "$1" "$2" "$3"; }
row "measure" "value (and what it is compared with, same run)" "target"
printf "|%s|%s|%s|\n" "$(dashes $((W + 2)))" "$(dashes $((V + 2)))" "$(dashes $((T + 2)))"
E2=$((E2E_N / 1000))k
row "e2e embedded, $E2 + $E2 examples: emarctl run, wall vs parse floor" "$(f "$e2e_median") s; parse floor $(f "$e2e_parse") s: $(f "$e2e_floor")x" "<= 2x: $(skip e2e || ok "$e2e_floor <= 2 && $e2e_floor > 0")"
row "e2e CPU / wall (whole emarctl run)" "$(f "$e2e_cpu") s / $(f "$e2e_median") s = $(f "$e2e_cores") cores" ">= 1.8: $(skip e2e || ok "$e2e_cores >= 1.8")"
row "e2e Python/numpy pipeline, same run" "$(f "$e2e_python") s, ratio $(printf %.1f "$e2e_ratio")x, values $e2e_values_ok" ">= 25x: $(skip e2e || ok "$e2e_ratio >= 25")"
row "e2e peak RSS (emarctl run)" "$e2e_rss MB" ""
row "e2e service: coordinator + 2 workers, submit --wait" "$(f "$svc_median") s = $(f "$svc_ratio")x embedded, same values $svc_same" "<= 1.5x: $( (want svc && want e2e) && ok "$svc_ratio <= 1.5 && $svc_ratio > 0" || echo skipped)"
row "coordinator: durable cycles/s, 1-row shards, 16 streams, complete+lease" "$(printf %.0f "$cyc_rate")/s ($cyc_shards shards; cycle p50 $(f "$cyc_p50"), p99 $(f "$cyc_p99") ms)" ">= 4000/s: $(skip cycles || ok "$cyc_rate >= 4000")"
row "coordinator: the same as Lease, then Complete (two calls), alternately" "$(printf %.0f "$old_rate")/s: complete+lease is $(f "$(div "$cyc_rate" "$old_rate")")x that" ""
row "coordinator: heartbeat latency under the complete+lease load" "p50 $(f "$hb_p50") ms, p99 $(f "$hb_p99") ms (two-call load: p99 $(f "$old_hb_p99") ms)" "p99 < 20 ms: $(skip cycles || ok "$hb_p99 < 20")"
for r in "${sim_rows[@]}"; do
  set -- $r
  row "simulation: $1 synthetic workers, $6 1-row shards, one coordinator" "$(printf %.0f "$2")/s; wait for a shard p99 $(f "$3") ms; coordinator $(f "$5") cores" "measured"
done
want sim || row "simulation: 64, 256, 1024 synthetic workers" "skipped" "measure"
big_rows=$(echo "$big_rate * 50000" | bc -l)
worker_rows=$(div "$((4 * E2E_N))" "$e2e_cpu")
row "simulation: 16 workers, $big_shards shards of 50,000 rows (the default)" "$(printf %.0f "$big_rows") rows/s stored; coordinator $(f "$big_cores") cores" "measured"
row "one coordinator feeds, at the default shard size" "$(printf %.0f "$(div "$big_rows" "$worker_rows")") worker threads (a thread scores $(printf %.0f "$worker_rows") rows/s, e2e)" "measured"
row "suite: 10 datasets x $((SUITE_ROWS / 1000))k rows vs the same rows as one dataset" "$(f "$suite_suite") s vs $(f "$suite_single") s = $(f "$suite_ratio")x (measured before: 1.09x)" "<= 1.15x: $(skip suite || ok "$suite_ratio <= 1.15 && $suite_ratio > 0")"
if [ "$series_n" -gt 0 ]; then
  row "suite series: 20 checkpoints of 11 x $((SERIES_ROWS / 1000))k rows, base from the cache" "1st: $ser_first_rows rows scored, $(f "$ser_first_s") s; 2nd-20th: $(printf %.0f "$ser_rows") scored + $(printf %.0f "$ser_reused") reused, $(f "$ser_s") s" "candidate's only: $(ok "$ser_rows == $((11 * SERIES_ROWS))")"
else
  row "suite series: 20 checkpoints, base from the cache" "skipped" "measure"
fi
SM_EM=$((10 * SUITEMEM_ROWS * 2))
bpe() { printf %.1f "$(echo "$1 * 1048576 / $SM_EM" | bc -l)"; }
row "suite memory: 10 datasets x $((SUITEMEM_ROWS / 1000))k x 2 models, emarctl run peak RSS" "$sm_run_mb MB = $(bpe "$sm_run_mb") B per example-model ($(f "$sm_s") s)" "<= 50 B: $(skip suitemem || ok "$sm_run_mb * 1048576 <= 50 * $SM_EM")"
row "suite memory: the same job distributed, coordinator peak RSS" "$sm_coord_mb MB = $(bpe "$sm_coord_mb") B per example-model (workers $sm_w1, $sm_w2 MB)" "<= 25 B: $(skip suitemem || ok "$sm_coord_mb * 1048576 <= 25 * $SM_EM")"
row "suite memory: fixed part (3,500-row example job), embedded / coordinator" "$sm0_run_mb / $sm0_coord_mb MB; the suite above it: $(bpe "$((sm_run_mb - sm0_run_mb))") / $(bpe "$((sm_coord_mb - sm0_coord_mb))") B per example-model" "measured"
if want upload; then
  row "upload: emarctl submit of $((4 * UPLOAD_MB)) MB outputs, fresh coordinator" "$(f "$up_median") s = $(f "$(echo "$up_bytes / $up_median / 1000000000" | bc -l)") GB/s" ""
  row "upload: raw loopback TCP copy of the same bytes" "$(f "$tcp_median") s; submit = $(printf %.0f "$(echo "100 * $up_ratio" | bc -l)") % of it" ">= 50 %: $(ok "$up_ratio >= 0.5")"
  row "upload: raw copy written to this disk and fsynced (its floor)" "$(f "$durable_median") s; submit = $(printf %.0f "$(echo "100 * $durable_median / $up_median" | bc -l)") % of it" ""
else
  row "upload: emarctl submit of $((4 * UPLOAD_MB)) MB outputs vs raw copies" "skipped" ">= 50 %: skipped"
fi
for r in "${mem_rows[@]}"; do
  set -- $r
  row "memory, $(($1 / 1000))k examples: peak RSS coordinator / workers" "$2 MB (after: $3 MB) / $4, $5 MB" ""
done
