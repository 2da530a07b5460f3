#!/usr/bin/env bash
# The console's flips page on the example job (restaurant-sentiment: 2,000 target items, 420 flips
# of lora-r16): bytes and time to first byte over loopback, 20 GETs each, against
# `emarctl flips --format html` for the same dataset (bench/README.md, "Console").
# Usage: bench/console/flips_page.sh BUILD_DIR   (needs curl)
set -euo pipefail
B=$(cd "${1:-build}" && pwd); D=$(mktemp -d)
cd "$(dirname "$0")/../.."
$B/bin/emar-coordinator --listen 127.0.0.1:0 --port-file $D/port --data-dir $D/data \
  --console-listen 127.0.0.1:0 --console-port-file $D/cport > $D/coord.log 2>&1 &
C=$!
trap 'kill $W $C 2>/dev/null; wait; rm -rf $D' EXIT
while [ ! -s $D/port ] || [ ! -s $D/cport ]; do sleep 0.1; done
S=127.0.0.1:$(cat $D/port); P=$(cat $D/cport)
$B/bin/emar-worker --coordinator $S --threads 2 > $D/worker.log 2>&1 &
W=$!
JOB=$($B/bin/emarctl submit examples/restaurant-sentiment/job.yaml --server $S --format json --progress off | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
until curl -s http://127.0.0.1:$P/jobs/$JOB/status | grep -q '"done": true'; do sleep 0.2; done
measure() {  # NAME URL
  local first; first=$(curl -s -o /dev/null -w '%{time_starttransfer} %{size_download} %{http_code}' "$2")
  for i in $(seq 20); do curl -s -o /dev/null -w '%{time_starttransfer}\n' "$2"; done | sort -n > $D/t
  echo "$1: first ${first}; p50 $(sed -n 10p $D/t) s, p95 $(sed -n 19p $D/t) s"
}
measure "flips page 1 (200 of 420)" "http://127.0.0.1:$P/jobs/$JOB/flips?dataset=restaurant-reviews"
measure "flips page 3 (21 of 420)" "http://127.0.0.1:$P/jobs/$JOB/flips?dataset=restaurant-reviews&page=3"
measure "flips, forgot (60)" "http://127.0.0.1:$P/jobs/$JOB/flips?dataset=restaurant-reviews&kind=forgot"
measure "job page" "http://127.0.0.1:$P/jobs/$JOB"
for i in $(seq 5); do
  /usr/bin/time -f '%e' -o $D/time.$i $B/bin/emarctl flips $JOB --dataset restaurant-reviews --format html --server $S > $D/out.html
done
echo "emarctl flips --format html (420 items, $(wc -c < $D/out.html) bytes): median of 5: $(cat $D/time.* | sort -n | sed -n 3p) s"
