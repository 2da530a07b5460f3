#!/usr/bin/env bash
# Checks the Kubernetes manifests (deploy/k8s/, deploy/examples/) offline; the checks are listed
# in check_manifests.py's header.
#
#   tests/deploy/k8s/manifests_test.sh [--coordinator BIN --worker BIN --emarctl BIN] [--self-test]
#
# With the three binaries it also checks every flag name against them, runs
# deploy/k8s/make-dev-secrets.sh, and runs the prod overlay's args on loopback (a real coordinator
# and worker, and the example Job's emarctl command). --self-test then breaks one invariant at a
# time in a copy of deploy/ and checks each is caught.
# Needs kubectl (Debian: kubernetes-client; $KUBECTL picks another), /usr/bin/python3 with
# python3-yaml and python3-kubernetes, openssl (with the binaries); promtool (prometheus) when
# present. A missing tool is a failure naming the package, not a skip: installing is the job of
# scripts/install-deps.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
kubectl=${KUBECTL:-kubectl}

if ! command -v "$kubectl" >/dev/null 2>&1; then
  echo "FAIL: kubectl not found (\$KUBECTL=${KUBECTL:-unset}): the test renders the overlays with" \
    "'kubectl kustomize'; install Debian's kubernetes-client (apt-get install -y kubernetes-client)" >&2
  exit 1
fi
if [ ! -x /usr/bin/python3 ]; then
  echo "FAIL: /usr/bin/python3 not found: apt-get install -y python3 python3-yaml python3-kubernetes" >&2
  exit 1
fi
exec /usr/bin/python3 "$here/check_manifests.py" --repo "$repo" --kubectl "$kubectl" "$@"
