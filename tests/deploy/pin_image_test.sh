#!/usr/bin/env bash
# deploy/pin-image.sh on a copy of deploy/: prod and the examples pinned to NAME@sha256:DIGEST
# (newName + digest, no tag), the overlay renders that reference, a second run changes nothing,
# a re-pin replaces the digest, and a tag or a malformed digest is refused naming it.
#
#   bash tests/deploy/pin_image_test.sh REPO
set -euo pipefail
repo=${1:?usage: pin_image_test.sh REPO}
command -v kubectl >/dev/null || { echo "SKIP: no kubectl (kubernetes-client)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$repo/deploy" "$tmp/deploy"
fail() { echo "FAIL: $*" >&2; exit 1; }
kust=$tmp/deploy/k8s/overlays/prod/kustomization.yaml

grep -q '^    digest: sha256:[0-9a-f]\{64\}' "$kust" || fail "prod does not carry a digest: $(grep -A3 '^images:' "$kust")"
grep -q 'newTag' "$kust" && fail "prod names a tag"

d1=sha256:$(printf 'one' | sha256sum | cut -d' ' -f1)
d2=sha256:$(printf 'two' | sha256sum | cut -d' ' -f1)
name=registry.example.com/ml-platform/emar
bash "$tmp/deploy/pin-image.sh" "$name@$d1" >"$tmp/out" || fail "pin-image.sh failed: $(cat "$tmp/out")"
grep -q "image: $name@$d1" "$tmp/out" || fail "the rendered overlay does not show $name@$d1: $(cat "$tmp/out")"
rendered=$(kubectl kustomize "$tmp/deploy/k8s/overlays/prod" | grep 'image: ' | sort -u)
[ "$rendered" = "        image: $name@$d1" ] || fail "prod renders: $rendered"
for f in emar-eval-job.yaml emar-eval-workflow.yaml emar-backup-cronjob.yaml; do
  grep 'image: ' "$tmp/deploy/examples/$f" | grep -vq "image: $name@$d1" &&
    fail "$f has an image line not pinned: $(grep 'image: ' "$tmp/deploy/examples/$f")"
done
cp "$kust" "$tmp/first"
bash "$tmp/deploy/pin-image.sh" "$name@$d1" >/dev/null
cmp -s "$kust" "$tmp/first" || fail "a second run changed the kustomization: $(diff "$tmp/first" "$kust")"
bash "$tmp/deploy/pin-image.sh" "$name@$d2" >/dev/null
grep -q "digest: $d2" "$kust" && ! grep -q "$d1" "$kust" || fail "re-pinning left: $(grep -A3 '^images:' "$kust")"
grep -c '^  - name: emar$' "$kust" | grep -qx 1 || fail "re-pinning duplicated the images entry"

cp "$kust" "$tmp/before"
out=$(bash "$tmp/deploy/pin-image.sh" "$name@sha256:1234" 2>&1) && fail "a short digest was accepted"
[[ "$out" == *"'sha256:1234' is not a sha256 digest"* ]] || fail "short digest: $out"
out=$(bash "$tmp/deploy/pin-image.sh" "Bad Name@$d1" 2>&1) && fail "a bad name was accepted"
[[ "$out" == *"is not an image name"* ]] || fail "bad name: $out"
cmp -s "$kust" "$tmp/before" || fail "a refused pin changed the kustomization"
echo "PASS: pin-image.sh pins prod and the examples by digest, idempotent, refuses bad input"
