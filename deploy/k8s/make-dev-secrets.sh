#!/usr/bin/env bash
# Makes the Secrets of a development install (README.md beside this file, "Secrets"), the way
# that section describes by hand: a throwaway CA and a coordinator certificate naming the Service,
# random tokens for a client, the workers and an admin, and the tokens file of their sha256.
#
#   deploy/k8s/make-dev-secrets.sh [--namespace NS] [--dir DIR] [--extra-san SAN]... [--apply]
#
#   --namespace NS   the namespace of the install (default emar-dev): the certificate names
#                    emar-coordinator, emar-coordinator.NS, emar-coordinator.NS.svc and
#                    emar-coordinator.NS.svc.cluster.local
#   --dir DIR        where the files go (default ~/.config/emar/dev-secrets/NS; mode 700, keep it
#                    out of git). Files already there are kept, so a second run rotates nothing.
#   --extra-san SAN  another subjectAltName, e.g. IP:127.0.0.1 or DNS:emar.example.org
#   --apply          also `kubectl apply -n NS` the Secrets (otherwise: only DIR/secrets.yaml)
#
# DIR then holds ca.crt, ca.key, tls.crt, tls.key, tokens, client.token, worker.token,
# admin.token and secrets.yaml (the Secrets emar-tls, emar-tokens, emar-worker-token,
# emar-client-token and emar-admin-token, made by `kubectl create secret ... --dry-run=client`, no cluster needed).
# Use client.token with emarctl (--token-file or EMAR_TOKEN) and ca.crt as its --tls-ca.
# For production, use your PKI (cert-manager, a CA you run) and your secret manager instead.
set -euo pipefail

ns=emar-dev
dir=""
apply=0
extra_sans=()
while (($#)); do
  case $1 in
    -n | --namespace) ns=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --extra-san) extra_sans+=("$2"); shift 2 ;;
    --apply) apply=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "make-dev-secrets.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
dir=${dir:-${XDG_CONFIG_HOME:-$HOME/.config}/emar/dev-secrets/$ns}
kubectl=${KUBECTL:-kubectl}
for tool in openssl sha256sum "$kubectl"; do
  command -v "$tool" >/dev/null || { echo "make-dev-secrets.sh: needs $tool" >&2; exit 1; }
done

umask 077
mkdir -p "$dir"
cd "$dir"

sans="DNS:emar-coordinator,DNS:emar-coordinator.$ns,DNS:emar-coordinator.$ns.svc"
sans+=",DNS:emar-coordinator.$ns.svc.cluster.local"
for s in "${extra_sans[@]}"; do sans+=",$s"; done
# openssl's configuration, so the system's openssl.cnf plays no part.
cat >openssl.cnf <<EOF
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $sans
authorityKeyIdentifier = keyid
EOF
newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config openssl.cnf)
if [ ! -s ca.crt ] || [ ! -s ca.key ]; then
  openssl req -x509 "${newkey[@]}" -keyout ca.key -out ca.crt -days 365 \
    -subj "/CN=emar dev CA ($ns)" -extensions ca_ext 2>/dev/null
fi
if [ ! -s tls.crt ] || [ ! -s tls.key ]; then
  openssl req "${newkey[@]}" -keyout tls.key -out tls.csr -subj "/CN=emar-coordinator" 2>/dev/null
  openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
    -days 365 -out tls.crt -extfile openssl.cnf -extensions server_ext 2>/dev/null
  rm -f tls.csr
fi

# One random token per principal; the coordinator's file holds only their sha256.
for who in client worker admin; do
  [ -s "$who.token" ] || openssl rand -hex 32 >"$who.token"
done
hash() { printf '%s' "$(cat "$1")" | sha256sum | cut -d' ' -f1; }
cat >tokens <<EOF
# ROLE  PRINCIPAL  SHA256 of the token (made by make-dev-secrets.sh)
client  dev        $(hash client.token)
worker  workers    $(hash worker.token)
admin   ops        $(hash admin.token)
EOF

create() { "$kubectl" create secret generic --namespace "$ns" --dry-run=client -o yaml "$@"; }
{
  create emar-tls --type=kubernetes.io/tls \
    --from-file=tls.crt=tls.crt --from-file=tls.key=tls.key --from-file=ca.crt=ca.crt
  echo ---
  create emar-tokens --from-file=tokens=tokens
  echo ---
  create emar-worker-token --from-file=token=worker.token
  echo ---
  create emar-client-token --from-file=token=client.token
  echo ---
  create emar-admin-token --from-file=token=admin.token   # the backup CronJob's (deploy/examples)
} >secrets.yaml

if ((apply)); then
  "$kubectl" apply --namespace "$ns" -f secrets.yaml
fi
echo "make-dev-secrets.sh: Secrets for namespace $ns in $dir/secrets.yaml$( ((apply)) && echo ", applied")"
