#!/bin/bash
# How fast the coordinator reads an input named by reference (docs/inputs.md), against uploading
# the same file with emarctl, on loopback: one MiB-sized JSONL outputs file (default 256 MiB)
# named as the candidate's target outputs of the example job, three ways:
#   https   {uri: https://127.0.0.1:PORT/...} served by tests/system/https_fixture.py (Python's
#           http.server in ssl: the server, not libcurl, is the likely bound)
#   file    {uri: file:///...} under --input-root
#   upload  the local path: emarctl hashes and uploads it
# Then the curl binary alone on the same https URL (to /dev/null): the server's own bound.
# Prints the coordinator's own fetch time (its input_fetched event) for https and file, and the
# wall time of `emarctl submit` (hash + upload + CreateJob) for each. Each way gets a new
# coordinator, so nothing is already stored.
#
#   bench/input_fetch.sh [MiB]        (EMAR_BUILD_DIR: default build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${EMAR_BUILD_DIR:-build}"
MIB="${1:-256}"
work=$(mktemp -d /tmp/emar-input-fetch.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

bash tests/pki/make-test-pki.sh "$work/pki" >/dev/null 2>&1
mkdir -p "$work/root"
/usr/bin/python3 - "$work/root/big.jsonl" "$MIB" <<'PY'
import sys
path, mib = sys.argv[1], int(sys.argv[2])
line_no = 0
with open(path, "w") as f:
    while f.tell() < mib << 20:
        f.write("".join('{"id": "x%09d", "prediction": "positive"}\n' % (line_no + i)
                        for i in range(10000)))
        line_no += 10000
PY
read -r sha size < <(python3 -c 'import hashlib,os,sys; p=sys.argv[1]; h=hashlib.sha256()
with open(p,"rb") as f:
    for c in iter(lambda: f.read(1<<20), b""): h.update(c)
print(h.hexdigest(), os.path.getsize(p))' "$work/root/big.jsonl")
cp -r examples/restaurant-sentiment "$work/job"
/usr/bin/python3 tests/system/https_fixture.py --cert "$work/pki/server.crt" \
  --key "$work/pki/server.key" --dir "$work/root" --port-file "$work/https.port" &
pids+=($!)
while [ ! -s "$work/https.port" ]; do sleep 0.1; done
port=$(cat "$work/https.port")

run() {  # run NAME TARGET_OUTPUTS
  local name=$1 outputs=$2 dir="$work/$1"
  mkdir -p "$dir"
  sed "s|target_outputs: out/r16.target.jsonl|target_outputs: $outputs|" "$work/job/job.yaml" \
    >"$work/job/$name.yaml"
  "$BUILD/bin/emar-coordinator" --listen 127.0.0.1:0 --data-dir "$dir/data" \
    --port-file "$dir/port" --allow-private-urls --url-ca-file "$work/pki/ca.crt" \
    --input-root "$work/root" >"$dir/out" 2>"$dir/err" &
  pids+=($!)
  while [ ! -s "$dir/port" ]; do sleep 0.1; done
  local start end
  start=$(date +%s.%N)
  "$BUILD/bin/emarctl" submit "$work/job/$name.yaml" --server "127.0.0.1:$(cat "$dir/port")" \
    --progress off >/dev/null
  end=$(date +%s.%N)
  local fetched
  fetched=$(grep -o 'input_fetched.*' "$dir/err" | grep -o 'duration_ms=[0-9.e-]*' | head -1 || true)
  printf '%-7s %6d MiB  submit %6.2f s  %s\n' "$name" "$MIB" "$(echo "$end - $start" | bc)" \
    "${fetched:-(no fetch: uploaded)}"
}
run https "{uri: \"https://127.0.0.1:$port/files/big.jsonl?X-Amz-Signature=x\", sha256: $sha, size: $size}"
run file "{uri: \"file://$work/root/big.jsonl\", sha256: $sha, size: $size}"
run upload "$work/root/big.jsonl"
# The same https transfer by the curl binary to /dev/null: what the server alone allows.
printf '%-7s %6d MiB  curl -o /dev/null %6.2f s\n' baseline "$MIB" "$(curl -s --cacert \
  "$work/pki/ca.crt" -o /dev/null -w '%{time_total}' "https://127.0.0.1:$port/files/big.jsonl")"
