#!/usr/bin/env bash
# Pins the image that deploy/k8s/overlays/prod and deploy/examples/ run to one digest, so a
# re-pushed tag can never change what runs. After pushing a release:
#
#   deploy/pin-image.sh registry.example.com/ml-platform/emar@sha256:<64 hex>
#   deploy/pin-image.sh registry.example.com/ml-platform/emar:0.2.0      # asks podman for its digest
#
# Rewrites the `images:` entry of the prod kustomization (newName + digest, no tag) and the
# `image:` lines of the examples, then renders the overlay to show the result. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:?usage: pin-image.sh NAME@sha256:DIGEST | NAME:TAG}
if [[ "$ref" == *@sha256:* ]]; then
  name=${ref%@*}
  digest=${ref#*@}
else
  name=${ref%:*}
  digest=$(podman image inspect --format '{{.Digest}}' "$ref") ||
    { echo "pin-image: podman knows no image $ref; give NAME@sha256:DIGEST" >&2; exit 1; }
fi
[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]] ||
  { echo "pin-image: '$digest' is not a sha256 digest (sha256: and 64 hex digits)" >&2; exit 1; }
[[ "$name" =~ ^[a-z0-9][a-z0-9._/:-]*$ ]] ||
  { echo "pin-image: '$name' is not an image name" >&2; exit 1; }

/usr/bin/python3 - "$name" "$digest" <<'PY'
import re, sys
name, digest = sys.argv[1], sys.argv[2]
path = "deploy/k8s/overlays/prod/kustomization.yaml"
text = open(path).read()
new_entry = ("images:\n  - name: emar\n    newName: %s\n    digest: %s   # deploy/pin-image.sh\n"
             % (name, digest))
text, n = re.subn(r"images:\n  - name: emar\n(    .*\n)+", new_entry, text)
if n != 1:
    sys.exit("pin-image: no `images:` entry for emar in " + path)
open(path, "w").write(text)
for path in ("deploy/examples/emar-eval-job.yaml", "deploy/examples/emar-eval-workflow.yaml",
             "deploy/examples/emar-backup-cronjob.yaml"):
    text = open(path).read()
    text = re.sub(r"image: \S+?(@sha256:[0-9a-f]{64}|:[\w.-]+)?(\s)", "image: %s@%s\\2" % (name, digest), text)
    open(path, "w").write(text)
PY
kubectl kustomize deploy/k8s/overlays/prod | grep -m2 'image: '
