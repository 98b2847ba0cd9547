#!/usr/bin/env bash
# Runs one libFuzzer target under ASan+UBSan for a number of seconds, starting from its seed
# corpus (copied, so findings never pollute the repository).
#   bash scripts/fuzz.sh gguf_reader|tokenizer [SECONDS=600] [extra libFuzzer flags...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
target="${1:?usage: scripts/fuzz.sh gguf_reader|tokenizer [SECONDS]}"
seconds="${2:-600}"
shift $(( $# >= 2 ? 2 : 1 ))
case "$target" in
  gguf_reader) seeds=fuzz/corpus/gguf ;;
  tokenizer) seeds=fuzz/corpus/tokenizer ;;
  *) echo "fuzz: unknown target '$target' (known: gguf_reader, tokenizer)" >&2; exit 2 ;;
esac
bash scripts/setup.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "fuzz_$target"
work="build/fuzz/corpus-$target"
mkdir -p "$work"
cp -n "$seeds"/* "$work"/ 2>/dev/null || true
exec "build/fuzz/fuzz/fuzz_$target" -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="build/fuzz/$target-" "$@" "$work"
