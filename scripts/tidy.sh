#!/usr/bin/env bash
# clang-tidy-14 (checks and why: .clang-tidy) over the project's own sources: every .cc of the
# libraries and programs (common/ eval/ server/ worker/ client/ embedded/ bench/) and the headers
# they include from those folders. Not the generated proto code, not tests/ (their gtest macros
# are third-party expansions; the tests run under ASan + UBSan instead: scripts/sanitize.sh).
# Runs one clang-tidy per core and fails (exit 1) on any finding, printing it.
#   bash scripts/tidy.sh [BUILD_DIR]     # default build/, configured and its protos generated
#   bash scripts/tidy.sh build server/job_store.cc   # some files only
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${1:-build}
shift || true
bash scripts/install-deps.sh
# The compilation database and the generated proto headers the sources include.
[ -f "$BUILD/build.ninja" ] || bash scripts/build.sh --target emar_proto_grpc
cmake --build "$BUILD" --target emar_proto_grpc >/dev/null
if (($#)); then
  files=("$@")
else
  mapfile -t files < <(git ls-files -- 'common/*.cc' 'eval/*.cc' 'server/*.cc' 'worker/*.cc' \
    'client/*.cc' 'embedded/*.cc' 'bench/*.cc')
fi
start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -I{} sh -c 'clang-tidy-14 -p "$1" --quiet --header-filter="$2" "$3" \
    >"$4.$(echo "$3" | tr / _)" 2>&1 || echo "$3" >>"$4.failed"' _ \
    "$BUILD" "^$ROOT/(common|eval|server|worker|client|embedded|bench)/" {} "$log" || rc=$?
# The findings (warnings are errors), without clang-tidy's "N warnings generated" chatter.
cat "$log".?* 2>/dev/null | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Error while processing' || true
failed=0
[ -f "$log.failed" ] && failed=$(sort -u "$log.failed" | wc -l)
rm -f "$log".?*
echo "tidy: ${#files[@]} files in $(($(date +%s) - start)) s, $failed with findings"
((failed == 0 && rc == 0))
