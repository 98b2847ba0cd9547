#!/usr/bin/env bash
# Builds llama.cpp's llama-bench natively for this machine and prints the path of the binary.
#
# llama.cpp is the speed peer of the engine benchmark (bench/run_engine_bench.sh): we use it as
# a black box, built from the llama.cpp source that the node-llama-cpp npm package ships (the
# same release the numerical peer tests use, via scripts/peer-llama-cpp-src.sh), configured the
# way llama.cpp recommends for CPU speed: Release, -DGGML_NATIVE=ON (every SIMD extension this
# CPU has), CPU back end only, its default OpenMP thread pool, and only the llama-bench target.
# Nothing of it is linked into Scout.
#
#   bash bench/build_llama_bench.sh          # prints e.g. ~/.cache/scout/llama-bench/build/bin/llama-bench
#
# The build lives outside the repository, in ${SCOUT_BENCH_PEER_DIR:-$HOME/.cache/scout/llama-bench}
# (source clone from scripts/peer-llama-cpp-src.sh stays where that script puts it). Idempotent:
# when the binary exists and was built from the same llama.cpp commit, nothing is rebuilt.
# Progress goes to stderr; stdout carries only the binary's path.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

out_dir="${SCOUT_BENCH_PEER_DIR:-$HOME/.cache/scout/llama-bench}"
mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"
build_dir="$out_dir/build"
binary="$build_dir/bin/llama-bench"
stamp="$out_dir/commit"

src="$(bash "$here/scripts/peer-llama-cpp-src.sh")"
commit="$(git -C "$src" rev-parse HEAD)"

# One build at a time (two benchmark scripts started together must not race on the same tree).
exec 9>"$out_dir/.lock"
flock 9

if [ -x "$binary" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$commit" ]; then
  echo "build_llama_bench: up to date ($binary, llama.cpp $commit)" >&2
  echo "$binary"
  exit 0
fi

echo "build_llama_bench: building llama-bench from $src (llama.cpp $commit) in $build_dir" >&2
rm -f "$stamp"
if [ -f "$build_dir/CMakeCache.txt" ] && ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$src" "$build_dir/CMakeCache.txt"; then
  rm -rf "$build_dir"  # configured from another source tree: start over
fi
start=$(date +%s)
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S "$src" -B "$build_dir" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=ON \
  -DGGML_CUDA=OFF \
  -DLLAMA_CURL=OFF \
  -DLLAMA_OPENSSL=OFF \
  -DBUILD_SHARED_LIBS=OFF \
  -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF \
  -DLLAMA_BUILD_SERVER=OFF \
  -DLLAMA_BUILD_APP=OFF \
  -DLLAMA_BUILD_TOOLS=ON >&2
cmake --build "$build_dir" --config Release --target llama-bench -j"$(nproc)" >&2
if [ ! -x "$binary" ]; then
  echo "build_llama_bench: the build finished but $binary is missing" >&2
  exit 1
fi
echo "$commit" >"$stamp"
echo "build_llama_bench: built in $(($(date +%s) - start)) s" >&2
echo "$binary"
