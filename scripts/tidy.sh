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
# The compilation database and the generated headers the sources include (the protos' and
# common/build_commit.h). A clean clone has no build/ yet: scripts/build.sh configures it.
if [ ! -f "$BUILD/build.ninja" ]; then
  if [ "$BUILD" != build ]; then
    echo "tidy: $BUILD/build.ninja is missing: configure $BUILD first (or use build/)" >&2
    exit 2
  fi
  bash scripts/build.sh --target emar_proto_grpc emar_build_commit
fi
cmake --build "$BUILD" --target emar_proto_grpc emar_build_commit >/dev/null
if (($#)); then
  files=("$@")
else
  mapfile -t files < <(git ls-files -- 'common/*.cc' 'eval/*.cc' 'server/*.cc' 'worker/*.cc' \
    'client/*.cc' 'embedded/*.cc' 'bench/*.cc')
fi
# clang-tidy reports a .clang-tidy it cannot parse but goes on without it: stop here instead.
config_errors=$(clang-tidy-14 -p "$BUILD" --dump-config "${files[0]}" 2>&1 >/dev/null)
if [ -n "$config_errors" ]; then
  printf 'tidy: .clang-tidy does not parse:\n%s\n' "$config_errors" >&2
  exit 2
fi
start=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log" "$log".?* "$log-failed"' EXIT
rc=0
printf '%s\n' "${files[@]}" |
  xargs -P "$(nproc)" -I{} sh -c 'clang-tidy-14 -p "$1" --quiet --header-filter="$2" "$3" \
    >"$4.$(echo "$3" | tr / _)" 2>&1 || echo "$3" >>"$4-failed"' _ \
    "$BUILD" "^$ROOT/(common|eval|server|worker|client|embedded|bench)/" {} "$log" || rc=$?
# The findings (warnings are errors), without clang-tidy's "N warnings generated" chatter.
cat "$log".?* 2>/dev/null | grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Error while processing' || true
failed=0
if [ -f "$log-failed" ]; then
  failed=$(sort -u "$log-failed" | wc -l)
  echo "tidy: findings in $(sort -u "$log-failed" | tr '\n' ' ')"
fi
echo "tidy: ${#files[@]} files in $(($(date +%s) - start)) s, $failed with findings"
((failed == 0 && rc == 0))
