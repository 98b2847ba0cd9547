#!/usr/bin/env bash
# Prints the path of a llama.cpp source tree that tests use as a peer for numerics, cloning it
# once from the git bundle shipped by the node-llama-cpp npm package (installed into
# tests/reference/node_modules by scripts/setup.sh).
#   destination: ${SCOUT_PEER_DIR:-build/peers}/llama.cpp (a relative SCOUT_PEER_DIR is taken
#   from the repository root)
# Idempotent, and safe to run from several test processes at once: a lock serialises the clone.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

peer_dir="${SCOUT_PEER_DIR:-build/peers}"
case "$peer_dir" in /*) ;; *) peer_dir="$here/$peer_dir" ;; esac
dest="$peer_dir/llama.cpp"
bundle="$here/tests/reference/node_modules/node-llama-cpp/llama/gitRelease.bundle"

if [ ! -f "$dest/ggml/src/ggml-quants.c" ]; then
  if [ ! -f "$bundle" ]; then
    echo "peer-llama-cpp-src: $bundle is missing; run scripts/setup.sh" >&2
    exit 1
  fi
  mkdir -p "$peer_dir"
  exec 9>"$dest.lock"
  flock 9
  if [ ! -f "$dest/ggml/src/ggml-quants.c" ]; then
    tmp="$dest.tmp.$$"
    rm -rf "$tmp"
    git -c advice.detachedHead=false clone --quiet "$bundle" "$tmp" >&2
    rm -rf "$dest"
    mv "$tmp" "$dest"
  fi
  exec 9>&-
fi
echo "$dest"
