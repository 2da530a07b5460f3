#!/bin/bash
# Test certificates for the TLS tests (tests/system/tls_test.cc, tests/python/conftest.py), made
# by the openssl binary with a configuration of its own, so the system's openssl.cnf plays no
# part. P-256 keys (quicker than RSA), valid two days:
#
#   tests/pki/make-test-pki.sh DIR
#
#   DIR/ca.crt, ca.key              the coordinator's CA
#   DIR/other-ca.crt, other-ca.key  an unrelated CA (for "signed by the wrong CA" cases)
#   DIR/server.crt, server.key      signed by ca; serverAuth, SAN IP:127.0.0.1, DNS:localhost
#   DIR/client.crt, client.key      signed by ca; clientAuth
#
# deploy/k8s/make-dev-secrets.sh makes a cluster's certificates (SANs of its Service names).
set -euo pipefail
dir=${1:?usage: make-test-pki.sh DIR}
mkdir -p "$dir"
cd "$dir"
cat >openssl.cnf <<'CNF'
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
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF
req() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -config openssl.cnf "$@"; }
for ca in ca other-ca; do
  req -x509 -keyout "$ca.key" -out "$ca.crt" -days 2 -subj "/CN=$ca" -extensions ca_ext
done
serial=0
for leaf in server:server_ext client:client_ext; do
  name=${leaf%%:*}
  serial=$((serial + 1))
  req -keyout "$name.key" -out "$name.csr" -subj "/CN=$name"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -set_serial "$serial" -days 2 \
    -out "$name.crt" -extfile openssl.cnf -extensions "${leaf#*:}"
done
