#!/usr/bin/env bash
# Runs libFuzzer targets under ASan+UBSan, each from its seed corpus (copied, so findings never
# pollute the repository) with its dictionary. Not part of CI: a run takes minutes and stops at
# the first finding, leaving the input that caused it in build/fuzz/.
#   bash scripts/fuzz.sh TARGET [SECONDS=600] [extra libFuzzer flags...]
#   bash scripts/fuzz.sh --all [SECONDS=600] [extra libFuzzer flags...]   every target, one after another
#   bash scripts/fuzz.sh --list                                           the targets and what they read
# Each run fuzzes in one process (-jobs=1 -workers=1), so --all never uses more than one core.
# Every run prints a table row: executions, executions per second, corpus size, coverage
# (libFuzzer's cov: edges and ft: features) and the outcome; its log is build/fuzz/logs/TARGET.log.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

# target | seed corpus | dictionary ("-" for none) | what it reads
targets=(
  "gguf_reader|fuzz/corpus/gguf|-|GGUF model files"
  "tokenizer|fuzz/corpus/tokenizer|-|text to tokens and back (qwen2, llama-bpe, deepseek-v3 pre-tokenizers)"
  "stream_parser|fuzz/corpus/stream_parser|fuzz/dict/stream_parser.dict|streamed model output: Qwen3 and DeepSeek-V3/R1 markup, in-thought actions, any chunking"
  "config|fuzz/corpus/config|fuzz/dict/config.dict|config.toml text"
  "mcp_server|fuzz/corpus/mcp_server|fuzz/dict/mcp.dict|what an MCP client writes to scout mcp-server (line framing, JSON-RPC, the session)"
  "mcp_client|fuzz/corpus/mcp_client|fuzz/dict/mcp.dict|what an MCP server answers Scout's client (responses, notifications, its own requests)"
  "http_response|fuzz/corpus/http_response|fuzz/dict/http_response.dict|HTTP responses over loopback: framing, chunked, gzip/deflate, caps, SSE bodies"
  "sse|fuzz/corpus/sse|fuzz/dict/sse.dict|text/event-stream, any chunking"
  "url|fuzz/corpus/url|fuzz/dict/url.dict|URLs and the SSRF guard (IP literals in every form, no DNS)"
  "json_schema|fuzz/corpus/json_schema|fuzz/dict/json_schema.dict|tool argument schemas and arguments"
  "content_decode|fuzz/corpus/content_decode|fuzz/dict/content_decode.dict|fetched bodies: Content-Type, charset detection and decoding, HTML to text"
  "text_extract|fuzz/corpus/text_extract|fuzz/dict/text_extract.dict|HTML (gumbo), Markdown and plain-text documents"
  "pdf_text|fuzz/corpus/pdf_text|fuzz/dict/pdf_text.dict|PDF documents (poppler)"
)
names() { for t in "${targets[@]}"; do printf '%s ' "${t%%|*}"; done; }
entry() { for t in "${targets[@]}"; do [ "${t%%|*}" = "$1" ] && { echo "$t"; return 0; }; done; return 1; }

usage="usage: scripts/fuzz.sh TARGET|--all|--list [SECONDS=600] [libFuzzer flags...]; targets: $(names)"
what="${1:?$usage}"
if [ "$what" = "--list" ]; then
  for t in "${targets[@]}"; do IFS='|' read -r name _ _ reads <<<"$t"; printf '%-15s %s\n' "$name" "$reads"; done
  exit 0
fi
seconds="${2:-600}"
shift $(( $# >= 2 ? 2 : 1 ))
if [ "$what" = "--all" ]; then
  run=($(names))
else
  entry "$what" >/dev/null || { echo "fuzz: unknown target '$what' (known: $(names))" >&2; exit 2; }
  run=("$what")
fi

# SCOUT_FUZZ_SKIP_BUILD=1 uses the targets as built: for a second run beside one already going,
# since two builds must not share build/fuzz at once.
if [ "${SCOUT_FUZZ_SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/setup.sh
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz
fi
mkdir -p build/fuzz/logs

# One run: the scratch corpus (seeded from the repository's), the target's dictionary, and the
# outcome as a table row. With -jobs=1 -workers=1 libFuzzer runs the fuzzing in one child
# process writing fuzz-0.log in its working folder, build/fuzz/run-TARGET; the log is kept as
# build/fuzz/logs/TARGET.log.
fuzz_one() {
  local name="$1" seeds dict
  shift
  IFS='|' read -r _ seeds dict _ <<<"$(entry "$name")"
  local work="$here/build/fuzz/corpus-$name" dir="$here/build/fuzz/run-$name" log="$here/build/fuzz/logs/$name.log"
  mkdir -p "$work" "$dir"
  rm -f "$dir"/fuzz-*.log
  cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  local flags=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -jobs=1 -workers=1
               -artifact_prefix="$here/build/fuzz/$name-")
  if [ "$dict" != "-" ]; then flags+=(-dict="$here/$dict"); fi
  local status=0
  (cd "$dir" && "$here/build/fuzz/fuzz/fuzz_$name" "${flags[@]}" "$@" "$work") >/dev/null 2>&1 || status=$?
  cat "$dir"/fuzz-*.log >"$log" 2>/dev/null || true
  local units speed cov ft corpus outcome
  units="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo '?')"
  speed="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo '?')"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo '?')"
  ft="$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo '?')"
  corpus="$(find "$work" -type f | wc -l)"
  if [ "$status" = 0 ] && ! grep -q '^==[0-9]*==ERROR\|^SUMMARY: \|invariant broken' "$log"; then
    outcome=clean
  else
    outcome="FINDING (exit $status, log $log): $(ls -t "$here"/build/fuzz/"$name"-* 2>/dev/null | head -1)"
  fi
  printf '| %s | %s | %s | %s | %s/%s | %s |\n' "$name" "$units" "$speed" "$corpus" "$cov" "$ft" "$outcome"
  [ "$outcome" = clean ]
}

echo "| target | executions | exec/s | corpus files | cov/ft | result |"
echo "|---|---|---|---|---|---|"
failed=0
for name in "${run[@]}"; do fuzz_one "$name" "$@" || failed=1; done
exit "$failed"
