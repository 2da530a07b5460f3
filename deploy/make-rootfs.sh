#!/usr/bin/env bash
# Assembles the runtime image's whole root filesystem in ROOTFS from a Debian 12 system that has
# the binaries and their runtime packages installed (deploy/Dockerfile's rootfs stage):
#   - the binaries (given) into /usr/local/bin, and every shared library they load (their `ldd`
#     closure, symlinks resolved) at the same path, with the dynamic loader;
#   - CA certificates, time zones and gRPC's default roots (when installed);
#   - /etc/passwd, /etc/group (root and emar, UID/GID 10001, no login shell), a nsswitch.conf
#     (files, then DNS), /data owned by emar (0750), /tmp (1777), and empty /proc, /dev, /sys.
# No shell, package manager, coreutils or perl: nothing runs in the image but the binaries.
#
#   bash deploy/make-rootfs.sh ROOTFS BINARY...
set -euo pipefail
rootfs=${1:?usage: make-rootfs.sh ROOTFS BINARY...}
shift
# proc, dev and sys stay empty: they are the mount points the container runtime fills.
mkdir -p "$rootfs"/{usr/local/bin,etc,tmp,data,proc,dev,sys}
# Debian 12's merged /usr first: /lib, /lib64, /bin and /sbin are links into /usr, as on the
# build system, so a library copied by either path lands once and every relative link (soname
# -> file) and the loader path in each binary (/lib64/ld-linux-x86-64.so.2) resolve.
for link in lib lib64 bin sbin; do
  if [ -L "/$link" ]; then
    target=$(readlink "/$link")
    mkdir -p "$rootfs/$(dirname "$link")/$target"
    ln -sfn "$target" "$rootfs/$link"
  fi
done

copy() { # copy PATH with its directories; a symlink is copied as a link and its target too
  local path=$1
  [ -e "$rootfs$path" ] && return 0
  mkdir -p "$rootfs$(dirname "$path")"
  if [ -L "$path" ]; then
    cp -P "$path" "$rootfs$path"
    local target
    target=$(readlink -f "$path")
    copy "$target"
  else
    cp -p "$path" "$rootfs$path"
  fi
}

for bin in "$@"; do
  cp -p "$bin" "$rootfs/usr/local/bin/"
  # ldd lines: "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
  while read -r lib; do
    copy "$lib"
  done < <(ldd "$bin" | awk '/=> \// {print $3} /^\t\// {print $1}')
done

copy /etc/ssl/certs/ca-certificates.crt
mkdir -p "$rootfs/usr/share"
cp -a /usr/share/zoneinfo "$rootfs/usr/share/"
[ ! -f /usr/share/grpc/roots.pem ] || copy /usr/share/grpc/roots.pem

cat >"$rootfs/etc/passwd" <<'P'
root:x:0:0:root:/root:/usr/sbin/nologin
emar:x:10001:10001:emar:/data:/usr/sbin/nologin
P
cat >"$rootfs/etc/group" <<'G'
root:x:0:
emar:x:10001:
G
echo 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
: >"$rootfs/etc/hosts"
: >"$rootfs/etc/resolv.conf"
chown 10001:10001 "$rootfs/data"
chmod 0750 "$rootfs/data"
chmod 1777 "$rootfs/tmp"
du -sh "$rootfs"
