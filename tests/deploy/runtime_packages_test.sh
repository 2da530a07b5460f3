#!/usr/bin/env bash
# Checks deploy/runtime-packages.txt, the runtime packages of the container image, against the
# built binaries, offline (dpkg's database and apt's local package lists, no download):
#
#   runtime_packages_test.sh PACKAGES_FILE BINARY_OR_DIR...
#
# Every shared library that `ldd` resolves for a binary (the whole load closure) is mapped to the
# Debian package that owns it (`dpkg -S`). That package must be in the image, which is:
#   - the base image, debian:12. The rule: the base is what apt installs for the packages of
#     Priority `required` of bookworm main (the Essential ones among them) plus usr-is-merged —
#     exactly the package set of `debootstrap --variant=minbase bookworm`, from which the official
#     debian:12 image and deploy/test-image.sh's own base are made (88 packages: libc6, libgcc-s1,
#     libstdc++6, zlib1g, libzstd1 are there; libssl3, libsqlite3-0 are not);
#   - plus the packages of PACKAGES_FILE and what they pull in (Depends, Pre-Depends, never
#     Recommends: the Dockerfile installs with --no-install-recommends).
# The image's packages are apt's own answer, from its local package lists: `apt-get -s` (simulate)
# installing the base's packages and the listed ones onto an empty dpkg status, so apt resolves
# alternatives and virtual packages as it does when it builds the image.
# It fails, naming the library, the binary and the package, when that package would not be in the
# image, when a library does not resolve or belongs to no package (built or copied by hand: the
# image could not install it), and when apt cannot install the list (an unknown name, a typo, a
# name of another release). Exit 77 (skipped) off Debian 12, or when apt has no package lists
# (`apt-get update` makes them), where the answer would not be the image's.
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 PACKAGES_FILE BINARY_OR_DIR..." >&2
  exit 2
fi
list_file=$1
shift

if ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null ||
  ! grep -qs '^VERSION_ID="12"' /etc/os-release || ! grep -qs '^ID=debian' /etc/os-release; then
  echo "SKIP: not Debian 12 (dpkg and apt-get here must answer for the image's Debian 12)"
  exit 77
fi

binaries=()
for arg in "$@"; do
  if [ -d "$arg" ]; then
    for f in "$arg"/*; do [ -f "$f" ] && [ -x "$f" ] && binaries+=("$f"); done
  elif [ -f "$arg" ]; then
    binaries+=("$arg")
  else
    echo "FAIL: no such binary: $arg" >&2
    exit 1
  fi
done
((${#binaries[@]})) || {
  echo "FAIL: no binaries in $*" >&2
  exit 1
}

listed=()
# Words after stripping comments: one package a line, but any blank-separated layout reads alike.
while read -r p; do
  [ -n "$p" ] && listed+=("$p")
done < <(sed -e 's/#.*//' "$list_file" | tr -s '[:blank:]' '\n')
((${#listed[@]})) || {
  echo "FAIL: $list_file lists no package" >&2
  exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Priority required packages of bookworm main, from apt's lists (dpkg's own Priority fields are
# the packages' and differ from the archive's, which debootstrap follows).
# shellcheck disable=SC2016 # $(FILENAME) is apt's field, not a command
mapfile -t indexes < <(apt-get indextargets --format '$(FILENAME)' 'Identifier: Packages' \
  'Codename: bookworm' 'Component: main')
mapfile -t required < <(for f in "${indexes[@]}"; do /usr/lib/apt/apt-helper cat-file "$f"; done |
  awk '/^Package: / {p = $2} /^Priority: required/ {print p}' | sort -u)
if ((${#required[@]} < 20)); then
  echo "SKIP: apt has no package lists of bookworm main (run apt-get update)"
  exit 77
fi
# simulate NAME PKG...: what `apt-get install --no-install-recommends PKG...` installs on an empty
# system, into $tmp/NAME, one package a line.
simulate() {
  local name=$1
  shift
  if ! apt-get -s -qq -o Dir::State::status=/dev/null -o Debug::NoLocking=1 \
    -o APT::Install-Recommends=false -o APT::Install-Suggests=false install "$@" \
    >"$tmp/$name.out" 2>&1; then
    sed -n 's/^E: /FAIL: apt: /p' "$tmp/$name.out"
    return 1
  fi
  awk '/^Inst / {print $2}' "$tmp/$name.out" >"$tmp/$name"
}
fail=0
if ! simulate image "${required[@]}" usr-is-merged "${listed[@]}"; then
  echo "FAIL: apt cannot install the packages of $list_file (above)"
  exit 1
fi
declare -A in_image=()
while read -r p; do in_image[$p]=1; done <"$tmp/image"

# Each library the binaries load (ldd resolves the whole closure), with the first binary that
# loads it.
declare -A user_of=()
libs=()
for bin in "${binaries[@]}"; do
  if ! ldd_out=$(ldd "$bin" 2>&1); then
    echo "FAIL: ldd $bin: $ldd_out"
    fail=1
    continue
  fi
  while read -r line; do
    case $line in
      *"not found"*)
        echo "FAIL: $(basename "$bin"): ${line%% *} does not resolve"
        fail=1
        continue
        ;;
      *"=> /"*) lib=${line#*=> } lib=${lib%% (*} ;;
      /*) lib=${line%% (*} ;; # the dynamic loader
      *) continue ;;         # linux-vdso.so.1, "statically linked"
    esac
    [ -z "${user_of[$lib]:-}" ] || continue
    user_of[$lib]=$(basename "$bin")
    libs+=("$lib")
  done <<<"$ldd_out"
done

# The packages owning them, in one dpkg -S (each call reads the whole file database). dpkg may
# record a library under /lib or /usr/lib (merged /usr), or under the name a symlink points to.
candidates_of() {
  local c
  for c in "$1" "$(readlink -f "$1")"; do
    case $c in
      /usr/*) printf '%s\n' "$c" "${c#/usr}" ;;
      *) printf '%s\n' "$c" "/usr$c" ;;
    esac
  done
}
declare -A owner_of=()
if ((${#libs[@]})); then
  mapfile -t paths < <(for lib in "${libs[@]}"; do candidates_of "$lib"; done | sort -u)
  # Lines "pkg:arch: /path", or "pkg1, pkg2: /path" for a path several packages share.
  while IFS=$'\t' read -r path pkgs; do
    pkg=${pkgs%%,*}
    owner_of[$path]=${pkg%%:*}
  done < <(dpkg -S "${paths[@]}" 2>/dev/null | grep -v '^diversion by' |
    sed -n 's/^\(.*\): \(\/.*\)$/\2\t\1/p' || true)
fi

for lib in "${libs[@]}"; do
  pkg=""
  while read -r c; do
    pkg=${owner_of[$c]:-}
    [ -z "$pkg" ] || break
  done < <(candidates_of "$lib")
  if [ -z "$pkg" ]; then
    echo "FAIL: ${user_of[$lib]}: $lib belongs to no Debian package (built or copied by hand?)"
    fail=1
  elif [ -z "${in_image[$pkg]:-}" ]; then
    echo "FAIL: ${user_of[$lib]}: $lib is in package $pkg, which $list_file neither lists nor" \
      "pulls in, and which the base image does not have"
    fail=1
  fi
done

if ((fail)); then
  echo "runtime_packages_test: FAILED (${#binaries[@]} binaries, ${#libs[@]} libraries)"
  exit 1
fi
echo "runtime_packages_test: OK: the ${#libs[@]} libraries of ${#binaries[@]} binaries are in the" \
  "image's ${#in_image[@]} packages (${#required[@]} required + usr-is-merged," \
  "${#listed[@]} listed, and their dependencies)"
