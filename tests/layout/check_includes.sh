#!/usr/bin/env bash
# The layout's one-way dependencies (README: Layout), checked on every quoted #include:
#   eval/    includes none of server/, worker/, client/, and no gRPC header;
#   worker/  includes neither server/ nor client/;   server/ includes neither worker/ nor client/;
#   client/  reaches server/ and worker/ only in the embedded mode (embedded_coordinator.*);
#   common/  includes none of eval/, server/, worker/, client/.
# Prints every offending line (file:line: include) and exits 1 when there is one.
set -uo pipefail
cd "${1:-$(dirname "$0")/../..}"
bad=0
check() {  # check DIR REGEX WHY [EXCEPT_REGEX]
  local dir=$1 regex=$2 why=$3 except=${4:-^$}
  local hits
  hits=$(grep -rnE --include='*.cc' --include='*.h' "^#include [\"<]($regex)" "$dir" |
    grep -vE "$except" || true)
  if [ -n "$hits" ]; then
    echo "$why:"
    echo "$hits" | sed 's/^/  /'
    bad=1
  fi
}
check eval 'server/|worker/|client/' 'eval/ must not depend on the service edges'
check eval 'grpcpp/|.*\.grpc\.pb\.h' 'eval/ must not use gRPC (messages only: *.pb.h)'
check worker 'server/|client/' 'worker/ must not include server/ or client/'
check server 'worker/|client/' 'server/ must not include worker/ or client/'
check client 'server/|worker/' 'client/ reaches server/ and worker/ only in the embedded mode' \
  '^client/embedded_coordinator\.(h|cc):'
check common 'eval/|server/|worker/|client/' 'common/ must not depend on the components'
if [ "$bad" = 0 ]; then
  echo "layout: include directions hold (eval <- server, worker, client; embedded mode only)"
fi
exit "$bad"
