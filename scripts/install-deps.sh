#!/usr/bin/env bash
# Installs the Debian 12 packages the build and tests need. Idempotent: asks apt only when a
# package is missing, so a second run costs a dpkg query.
set -euo pipefail
PACKAGES=(
  cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libsimdjson-dev libsqlite3-dev libssl-dev libyaml-cpp-dev
  zlib1g-dev libzstd-dev
  libcurl4-openssl-dev  # the coordinator fetches https:// inputs (server/input_fetch.h)
  libgtest-dev libgmock-dev libbenchmark-dev
  openssl  # tests/system/tls_test.cc makes its certificates with the openssl binary
  libspdlog-dev  # the lifecycle event log (--log-format)
  prometheus python3  # tests/metrics/prometheus_test.py scrapes a live coordinator
  python3-yaml python3-kubernetes  # tests/deploy/k8s: manifests parsed and checked offline
  python3-grpcio python3-protobuf python3-pytest  # client/python and its tests (tests/python)
  # tests/eval/stats/stats_reference_test: Wilson intervals, power and the cluster bootstrap
  # checked against statsmodels, scipy and numpy (python3-statsmodels brings the other two)
  python3-statsmodels python3-numpy
  python3-pandas  # tests/python: DataFrames as in-memory inputs (optional for the client itself)
  python3-venv flake8 mypy  # tests/python: pip install into a fresh venv; python_lint_test
  clang-format-14
  clang-tidy-14  # scripts/tidy.sh: the static checks of .clang-tidy, run by CI
  chromium fonts-dejavu-core  # tests/report/report_browser_test.py renders the HTML reports
  clang-14 libclang-rt-14-dev llvm-14  # scripts/fuzz.sh, scripts/sanitize.sh: sanitizers, symbolizer
)
# `--build-only`: just what compiling the three binaries needs (the image's build stage uses it:
# no browser, compiler toolchain for fuzzing, Prometheus or Kubernetes client).
BUILD_PACKAGES=(
  cmake ninja-build g++ pkg-config git binutils
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libsimdjson-dev libsqlite3-dev libssl-dev libyaml-cpp-dev
  zlib1g-dev libzstd-dev libspdlog-dev libcurl4-openssl-dev
)
if [ "${1:-}" = --build-only ]; then
  PACKAGES=("${BUILD_PACKAGES[@]}")
fi
# kubectl (for `kubectl kustomize`): Debian's kubernetes-client, unless some kubectl is already
# installed (another package may own /usr/bin/kubectl; dpkg would refuse to overwrite it).
[ "${1:-}" = --build-only ] || command -v kubectl >/dev/null || PACKAGES+=(kubernetes-client)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
