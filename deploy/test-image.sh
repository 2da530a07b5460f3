#!/usr/bin/env bash
# Builds the container image (deploy/Dockerfile) with Podman and tests it without a container
# runtime: the example job, submitted from the host to a coordinator and a worker started from the
# image, must give the same report as the embedded run (`emarctl run`), apart from `job_id`.
#
#   bash deploy/test-image.sh        (as root, on Debian 12; prints how long the build took)
#
# 1. Podman and debootstrap are installed from Debian's packages when missing.
# 2. Base image: $EMAR_BASE_IMAGE if set, else debian:12 when it is in local storage or can be
#    pulled (registries.conf mirrors apply). Where no registry is reachable, a Debian 12 minbase
#    root filesystem is made with debootstrap from the Debian mirror ($DEBIAN_MIRROR, default
#    deb.debian.org; security updates from $DEBIAN_SECURITY_MIRROR), upgraded, and imported as
#    localhost/emar-debian-base:12: the package set of the official image (Priority required, as
#    debootstrap's minbase). It is kept for later runs; EMAR_REBUILD_BASE=1 makes it anew.
# 3. podman build --isolation=chroot -f deploy/Dockerfile -t emar:test ($EMAR_IMAGE) ., from
#    scratch (--layers=false: no intermediate images are kept, the time is a full build's);
#    EMAR_LAYERS=true keeps and reuses them (quicker reruns when only the runtime stage changes).
# 4. `podman run` fails in this sandbox (crun refuses its hybrid cgroup v1/v2 mounts, and root
#    lacks CAP_SYS_RESOURCE for podman's default rlimits), so the image is run by hand: a
#    container is created (not started) and mounted, /proc and the usual /dev nodes are mounted
#    into it, and each binary runs with `chroot --userspec=10001:10001` (the image's user) and the
#    image's environment, on the host's network namespace, bound to 127.0.0.1 port 0.
#    Checks: every library resolves inside the image (its own loader's --list), each binary's
#    --version names our version, the commit and a release build, the image holds no shell, apt,
#    dpkg or perl and is at most 60 MB, the image's user is 10001 and /data is its; coordinator + worker from the image score the job submitted by the host's
#    build/bin/emarctl; the image's emarctl embedded run and the host's give the same report; the
#    worker and the coordinator drain and exit 0 on SIGTERM; deploy/pin-image.sh pins a copy of
#    the prod overlay to the image's digest.
# Exits non-zero on any failure. Processes, mounts, the container and temp files are removed on
# exit; the images emar:test and the base stay (the ones they replace are removed).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${EMAR_IMAGE:-emar:test}
OWN_BASE=localhost/emar-debian-base:12
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
JOB=examples/restaurant-sentiment/job.yaml
IMAGE_UID=10001

log() { echo "test-image: $*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}
[ "$(id -u)" = 0 ] || die "run as root (chroot, mount and podman's root storage need it)"

tools=(podman debootstrap)
missing=()
for p in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
fi

tmp=$(mktemp -d /tmp/emar-test-image.XXXXXX)
ctr=""
mnt=""
pids=()
mounts=() # mounted inside the container's root, unmounted in reverse order
cleanup() {
  local rc=$?
  set +e
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  if [ -n "$mnt" ]; then # anything still running inside the container's root is ours
    for proc in /proc/[0-9]*; do
      [ "$(readlink "$proc/root" 2>/dev/null)" = "$mnt" ] && kill -KILL "${proc#/proc/}" 2>/dev/null
    done
  fi
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}"; done
  if [ -n "$ctr" ]; then
    podman umount "$ctr" >/dev/null || log "warning: podman umount $ctr failed"
    podman rm -f "$ctr" >/dev/null || log "warning: podman rm $ctr failed"
  fi
  rm -rf "$tmp"
  ((rc == 0)) || log "failed (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 2. The base image -------------------------------------------------------------------------
make_base() {
  local rootfs=$tmp/rootfs
  log "debootstrap --variant=minbase bookworm from $MIRROR"
  if ! debootstrap --variant=minbase --components=main bookworm "$rootfs" "$MIRROR" \
    >"$tmp/debootstrap.log" 2>&1; then
    tail -20 "$tmp/debootstrap.log" >&2
    die "debootstrap failed (log above)"
  fi
  # Sources as in the official image: the release, its updates and its security updates.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  log "upgrading the base from bookworm-updates and bookworm-security"
  mount -t proc proc "$rootfs/proc"
  mounts+=("$rootfs/proc")
  if ! { chroot "$rootfs" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get upgrade -y -qq; } \
    >"$tmp/upgrade.log" 2>&1; then
    tail -20 "$tmp/upgrade.log" >&2
    die "apt-get upgrade in the base failed (log above)"
  fi
  umount "$rootfs/proc"
  mounts=()
  chroot "$rootfs" apt-get clean
  # Nothing of this host: the runtime provides /dev, resolv.conf and the hostname.
  rm -rf "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/var/cache/apt/*.bin "${rootfs:?}"/dev/* \
    "${rootfs:?}"/var/log/apt/* "${rootfs:?}"/var/log/dpkg.log "${rootfs:?}"/var/log/bootstrap.log
  : >"$rootfs/etc/resolv.conf"
  echo localhost >"$rootfs/etc/hostname"
  local old_id
  old_id=$(podman image inspect --format '{{.Id}}' "$OWN_BASE" 2>/dev/null || true)
  tar -C "$rootfs" --numeric-owner -cf - . |
    podman import --quiet \
      --message "debootstrap --variant=minbase bookworm $MIRROR, upgraded $(date -u +%F)" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - "$OWN_BASE" >/dev/null
  rm -rf "$rootfs"
  if [ -n "$old_id" ] && [ "$old_id" != "$(podman image inspect --format '{{.Id}}' "$OWN_BASE")" ]
  then
    podman rmi "$old_id" >/dev/null 2>&1 || true # the base it replaces
  fi
}

pick_base() { # sets base
  base=${EMAR_BASE_IMAGE:-}
  [ -z "$base" ] || return 0
  base=docker.io/library/debian:12
  podman image exists "$base" && return 0
  timeout 300 podman pull -q "$base" >/dev/null 2>"$tmp/pull.log" && return 0
  log "no debian:12 image: $(tail -1 "$tmp/pull.log")"
  base=$OWN_BASE
  if [ "${EMAR_REBUILD_BASE:-0}" = 1 ] || ! podman image exists "$base"; then
    make_base
  else
    log "using $base made earlier by debootstrap (EMAR_REBUILD_BASE=1 makes it anew)"
  fi
}

t0=$SECONDS
pick_base
base_seconds=$((SECONDS - t0))
log "base image: $base ($(podman image inspect --format '{{.Id}}' "$base" | cut -c1-12))," \
  "${base_seconds}s"

# --- 3. Build ----------------------------------------------------------------------------------
log "podman build --isolation=chroot -f deploy/Dockerfile -t $IMAGE ."
t0=$SECONDS
old_id=$(podman image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
commit=$(git describe --always --dirty --abbrev=12 --exclude='*' 2>/dev/null || echo unknown)
podman build --isolation=chroot --layers="${EMAR_LAYERS:-false}" --build-arg "BASE_IMAGE=$base" \
  --build-arg "EMAR_COMMIT=$commit" -f deploy/Dockerfile -t "$IMAGE" . || die "podman build failed"
build_seconds=$((SECONDS - t0))
if [ -n "$old_id" ] && [ "$old_id" != "$(podman image inspect --format '{{.Id}}' "$IMAGE")" ]; then
  podman rmi "$old_id" >/dev/null 2>&1 || true # the previous emar:test, now untagged
fi
log "image build took $((build_seconds / 60))m$((build_seconds % 60))s"

# --- 4. Run the image by hand ------------------------------------------------------------------
user=$(podman image inspect --format '{{.Config.User}}' "$IMAGE")
[ "${user%%:*}" = "$IMAGE_UID" ] || die "the image's USER is '$user', not $IMAGE_UID"
ctr=$(podman create --name "emar-test-image-$$" "$IMAGE")
mnt=$(podman mount "$ctr")
[ "$(stat -c %u "$mnt/data")" = "$IMAGE_UID" ] || die "/data is not owned by $IMAGE_UID"
mount -t proc proc "$mnt/proc"
mounts+=("$mnt/proc")
mount -t tmpfs -o mode=0755,size=1m tmpfs "$mnt/dev"
mounts+=("$mnt/dev")
for node in null zero full random urandom; do
  touch "$mnt/dev/$node"
  mount --bind "/dev/$node" "$mnt/dev/$node"
  mounts+=("$mnt/dev/$node")
done

# The image's environment (its ENV, HOME of its user) and user, on the host's loopback.
image_env=()
while IFS= read -r kv; do
  [ -z "$kv" ] || image_env+=("$kv")
done < <(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE")
# An array, not a function: `"${in_image[@]}" CMD &` then execs in the child, so $! is CMD's pid.
# chroot by its host path: the image's PATH (its ENV) does not hold the host's tools.
in_image=(env -i "${image_env[@]}" HOME=/data
  "$(command -v chroot)" --userspec="$IMAGE_UID:$IMAGE_UID" --groups="$IMAGE_UID" "$mnt")

# The image has no ldd (no shell): its own dynamic loader lists what each binary loads.
for bin in emar-coordinator emar-worker emarctl; do
  ldd_out=$(chroot "$mnt" /lib64/ld-linux-x86-64.so.2 --list "/usr/local/bin/$bin" 2>&1) ||
    die "the image's loader cannot load $bin: $ldd_out"
  if grep -q 'not found' <<<"$ldd_out"; then
    grep 'not found' <<<"$ldd_out" >&2
    die "libraries missing in the image: add their packages to deploy/runtime-packages.txt"
  fi
  version=$("${in_image[@]}" "/usr/local/bin/$bin" --version)
  [[ "$version" == "$bin "*"(commit $commit, release build)" ]] ||
    die "$bin --version printed '$version', not our version, commit $commit and 'release build'"
done
log "--version: $version"
# Lean: nothing but the binaries runs in it.
for f in bin/sh bin/bash bin/dash usr/bin/sh usr/bin/bash usr/bin/dash usr/bin/apt usr/bin/apt-get \
  usr/bin/dpkg usr/bin/perl usr/bin/env usr/bin/ls usr/bin/ldd; do
  [ ! -e "$mnt/$f" ] && [ ! -L "$mnt/$f" ] || die "the image has /$f: the runtime image must hold no shell or tools"
done
size_bytes=$(podman image inspect --format '{{.Size}}' "$IMAGE")
max_bytes=$((60 * 1000 * 1000))
((size_bytes <= max_bytes)) || die "the image is $size_bytes bytes, over $max_bytes"

log "starting emar-coordinator and emar-worker from the image as uid $IMAGE_UID"
"${in_image[@]}" /usr/local/bin/emar-coordinator --listen 127.0.0.1:0 --data-dir /data/coordinator \
  --port-file /data/coordinator.port >"$tmp/coordinator.log" 2>&1 &
coordinator=$!
pids+=("$coordinator")
for _ in $(seq 300); do
  [ -s "$mnt/data/coordinator.port" ] && break
  kill -0 "$coordinator" 2>/dev/null || {
    cat "$tmp/coordinator.log" >&2
    die "the coordinator exited at start (log above)"
  }
  sleep 0.1
done
[ -s "$mnt/data/coordinator.port" ] || die "the coordinator wrote no port file in 30 s"
port=$(cat "$mnt/data/coordinator.port")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$coordinator/status")
[ "$uid" = "$IMAGE_UID" ] || die "the coordinator runs as uid $uid, not $IMAGE_UID"
"${in_image[@]}" /usr/local/bin/emar-worker --coordinator "127.0.0.1:$port" --threads 2 \
  --worker-id image-worker >"$tmp/worker.log" 2>&1 &
pids+=("$!") # the worker: pids[1]

# Reference: the host's embedded run. The host's emarctl submits to the image's services.
bash scripts/build.sh --target emarctl >/dev/null
rc=0
build/bin/emarctl run "$JOB" --format json >"$tmp/embedded.json" || rc=$?
((rc == 0 || rc == 3)) || die "emarctl run (host, embedded) exited $rc"
reference_rc=$rc
log "submitting $JOB to 127.0.0.1:$port"
rc=0
timeout 300 build/bin/emarctl submit "$JOB" --wait --format json --server "127.0.0.1:$port" \
  >"$tmp/submitted.json" || rc=$?
if ((rc != reference_rc)); then
  tail -20 "$tmp/coordinator.log" "$tmp/worker.log" >&2
  die "emarctl submit --wait exited $rc, the embedded run $reference_rc (service logs above)"
fi
# The image's emarctl, embedded, on a copy of the example inside the container.
cp -r "$(dirname "$JOB")" "$mnt/data/example"
chown -R "$IMAGE_UID:$IMAGE_UID" "$mnt/data/example"
rc=0
"${in_image[@]}" /usr/local/bin/emarctl run "/data/example/$(basename "$JOB")" --format json \
  >"$tmp/image-embedded.json" || rc=$?
((rc == reference_rc)) || die "the image's emarctl run exited $rc, the host's $reference_rc"

# Reports are pretty-printed JSON with "job_id" on a line of its own.
without_job_id() {
  [ "$(grep -c '^ *"job_id": ' "$1")" = 1 ] || die "$(basename "$1"): no single job_id line"
  grep -v '^ *"job_id": ' "$1"
}
without_job_id "$tmp/embedded.json" >"$tmp/embedded.cmp"
grep -q '"candidates"' "$tmp/embedded.cmp" || die "the embedded report has no candidates"
for got in submitted image-embedded; do
  without_job_id "$tmp/$got.json" >"$tmp/$got.cmp"
  diff -u "$tmp/embedded.cmp" "$tmp/$got.cmp" >&2 ||
    die "the $got report differs from the embedded run (diff above)"
done
log "the submitted report and the image's embedded report equal the embedded run's (but job_id)"

others=$(find "$mnt/data" ! -user "$IMAGE_UID" | head -5)
[ -z "$others" ] || die "files in /data not owned by $IMAGE_UID: $others"
# Both drain on SIGTERM and exit 0: the worker first, then the coordinator.
for i in 1 0; do
  rc=0
  kill -TERM "${pids[i]}"
  wait "${pids[i]}" || rc=$?
  ((rc == 0)) || die "$([ "$i" = 0 ] && echo coordinator || echo worker) exited $rc on SIGTERM"
  unset 'pids[i]'
done

# deploy/pin-image.sh with this image (NAME:TAG: it asks podman for the digest), on a copy of
# deploy/: prod then names the image by that digest, without a tag.
digest=$(podman image inspect --format '{{.Digest}}' "$IMAGE")
mkdir "$tmp/pin"
cp -r deploy "$tmp/pin/deploy"
bash "$tmp/pin/deploy/pin-image.sh" "$IMAGE" >"$tmp/pin.log" 2>&1 ||
  die "pin-image.sh $IMAGE failed: $(cat "$tmp/pin.log")"
pinned=$(grep -A3 '^images:' "$tmp/pin/deploy/k8s/overlays/prod/kustomization.yaml")
[[ "$pinned" == *"newName: ${IMAGE%:*}"*"digest: $digest"* && "$pinned" != *newTag* ]] ||
  die "pin-image.sh $IMAGE wrote: $pinned (want ${IMAGE%:*} and digest $digest)"
log "pin-image.sh $IMAGE: prod pinned to ${IMAGE%:*}@$digest"

size=$(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=iec)
log "PASS: image $IMAGE (${size}B), build ${build_seconds}s, base image ${base_seconds}s"
