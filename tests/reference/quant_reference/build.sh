#!/usr/bin/env bash
# Builds the quant_reference peer (harness.c + llama.cpp's ggml-base) and prints its path.
#   build.sh [OUT_DIR]   default: ${SCOUT_BINARY_DIR:-build/release}/peers/quant_reference
# The llama.cpp source comes from $SCOUT_LLAMA_CPP_SRC, else from scripts/peer-llama-cpp-src.sh.
# Idempotent (a second run is an up-to-date check) and safe to run concurrently: ctest starts
# one process per test case, and a lock lets the first one build while the others wait.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

out="${1:-${SCOUT_BINARY_DIR:-$root/build/release}/peers/quant_reference}"
src="${SCOUT_LLAMA_CPP_SRC:-}"
if [ -z "$src" ]; then
  src="$(bash "$root/scripts/peer-llama-cpp-src.sh")"
fi

mkdir -p "$out"
exec 9>"$out/.build.lock"
flock 9

generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
# Configure when never configured, or configured for another source tree (or a failed try).
if ! grep -qxF "LLAMA_CPP_SRC:PATH=$src" "$out/CMakeCache.txt" 2>/dev/null || \
   { [ ! -f "$out/build.ninja" ] && [ ! -f "$out/Makefile" ]; }; then
  rm -f "$out/CMakeCache.txt"
  cmake -S "$here" -B "$out" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CPP_SRC="$src" \
    > "$out/configure.log" 2>&1 || { cat "$out/configure.log" >&2; exit 1; }
fi
cmake --build "$out" --target quant_reference -j 2 > "$out/build.log" 2>&1 \
  || { cat "$out/build.log" >&2; exit 1; }
echo "$out/quant_reference"
