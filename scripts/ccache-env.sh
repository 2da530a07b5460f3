# Sourced by the build scripts from the repo root: ccache keys its entries by the compile
# command, whose paths are absolute; with base_dir set to the clone they become relative to the
# build directory, and with hash_dir off the build directory's own path is left out. So a fresh
# clone elsewhere on this machine (CI) compiles what an earlier clone compiled from the cache.
# The caller's own settings win.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
