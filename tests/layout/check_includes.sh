#!/usr/bin/env bash
# The layout's one-way dependencies (docs/architecture.md: Include directions), checked on every
# quoted #include:
#   eval/     includes none of server/, worker/, client/, embedded/, and no gRPC header;
#   common/   includes none of eval/, server/, worker/, client/, embedded/;
#   worker/   includes none of server/, client/, embedded/;
#   server/   includes none of worker/, client/, embedded/;
#   client/   includes neither server/ nor worker/, with no exception; embedded/ only from
#             emarctl (client/emarctl*.cc, client/commands/), never from the client library;
#   embedded/ (the embedded mode: server/ + worker/ in one process) may include server/,
#             worker/, eval/, common/, proto/, never client/;
#   console/  (the web console) may include server/, client/'s renderers, eval/, common/,
#             proto/, never worker/ or embedded/; only server/main.cc (emar-coordinator)
#             includes console/, so the coordinator's library never depends on the client.
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
check eval 'server/|worker/|client/|embedded/' 'eval/ must not depend on the service edges'
check eval 'grpcpp/|.*\.grpc\.pb\.h' 'eval/ must not use gRPC (messages only: *.pb.h)'
check common 'eval/|server/|worker/|client/|embedded/' 'common/ must not depend on the components'
check worker 'server/|client/|embedded/' 'worker/ must not include server/, client/ or embedded/'
check server 'worker/|client/|embedded/' 'server/ must not include worker/, client/ or embedded/'
check server 'console/' 'only emar-coordinator (server/main.cc) includes console/' \
  '^server/main\.cc:'
check client 'server/|worker/' 'client/ must not include server/ or worker/ (embedded/ does)'
check client 'embedded/' 'only emarctl includes embedded/, never the client library' \
  '^client/(emarctl[^/]*|commands/[^/]*)\.(cc|h):'
check embedded 'client/' 'embedded/ must not include client/'
check console 'worker/|embedded/' 'console/ must not include worker/ or embedded/'
for dir in eval common worker client embedded; do
  check "$dir" 'console/' "$dir/ must not include console/ (only server/main.cc does)"
done
if [ "$bad" = 0 ]; then
  echo "layout: include directions hold (eval <- server, worker, client; server + worker <- embedded <- emarctl; server + client <- console <- emar-coordinator)"
fi
exit "$bad"
