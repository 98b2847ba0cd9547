"""Checks forward.py's deepseek2 against llama.cpp's logits.

Each case is a tiny deepseek2 model written by make_deepseek2_gguf.py (llama.cpp's gguf-py writer),
optionally patched with extra RoPE-scaling metadata, evaluated by llama.cpp through node-llama-cpp
(llama_cpp_logits.mjs: raw logits at every position, F32 KV cache, no flash attention) and by
forward.py. It prints the largest |difference| over all positions, the agreement of the top-1 and
top-5 tokens, and the smallest routing margin of the reference (the gap between the last chosen and
the first unchosen expert or group: below ~1e-5 a float32 engine may route differently).

    /usr/bin/python3 tests/reference/torch_reference/check_deepseek2.py [--only NAME] [--keep DIR]

Needs node and tests/reference/node_modules (scripts/setup.sh), and llama.cpp's source tree for
gguf-py (scripts/peer-llama-cpp-src.sh provides it; no scout binary is needed). It exits 1 if
any case disagrees beyond 1e-3 or on a top-1 token. Not run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
from check_llama_cpp import compare, llama_cpp_logits, patch_gguf  # noqa: E402
from forward import ReferenceModel  # noqa: E402

SHORT = [(i * 131 + 17) % 1000 for i in range(40)]
LONG = [(i * 131 + 17) % 1000 for i in range(200)]
# The V2-Lite files route by a softmax over 8 experts, whose runner-up probabilities come close
# over long prompts (a 1e-6 gap at position 170): their patched cases stop at 96 tokens, where
# the smallest gap is 2e-5, far above float32's rounding.
MID = LONG[:96]
TOLERANCE = 1e-3

# name, variant of make_deepseek2_gguf.py, extra kv ("deepseek2." prefix added), prompt
CASES = [
    ("v2-lite-single", "v2-lite-single", {}, SHORT),
    ("v2-lite-split", "v2-lite-split", {}, SHORT),
    ("v3-split", "v3-split", {}, SHORT),
    ("v3-single", "v3-single", {}, SHORT),
    # the YaRN ramp turns the slow dims only: a longer prompt reaches them
    ("v3-split, 200 tokens", "v3-split", {}, LONG),
    # the other ways llama.cpp scales deepseek2's rope and kq_scale
    ("v2-lite-split + yarn x4 (orig 1024), no log multiplier", "v2-lite-split",
     {"rope.scaling.type": "yarn", "rope.scaling.factor": 4.0, "rope.scaling.original_context_length": 1024}, MID),
    ("v2-lite-single + yarn x4, mscale_all_dim 0.707", "v2-lite-single",
     {"rope.scaling.type": "yarn", "rope.scaling.factor": 4.0, "rope.scaling.original_context_length": 1024,
      "rope.scaling.yarn_log_multiplier": 0.0707}, MID),
    ("v2-lite-split + linear x2, attn_factor 0.9", "v2-lite-split",
     {"rope.scaling.type": "linear", "rope.scaling.factor": 2.0, "rope.scaling.attn_factor": 0.9}, MID),
]


def routing_margin(trace: dict, model: ReferenceModel) -> float:
    """The smallest gap, over tokens and MoE layers, between the last chosen and the first unchosen
    selection score (experts, and groups where the model groups its experts)."""
    hp, m = model.hp, model.hp.mla
    worst = float("inf")
    for il in range(m.n_layer_dense_lead, hp.n_layer):
        probs = trace[f"ffn_moe_probs-{il}"]
        biased = trace.get(f"ffn_moe_probs_biased-{il}", probs)
        selection = trace.get(f"ffn_moe_probs_masked-{il}", biased)
        top = selection.topk(hp.n_expert_used + 1, dim=-1).values
        worst = min(worst, float((top[:, -2] - top[:, -1]).min()))
        if m.n_expert_groups > 1:
            groups = biased.reshape(biased.shape[0], m.n_expert_groups, -1).topk(2, dim=-1).values.sum(dim=-1)
            groups = groups.sort(dim=-1, descending=True).values
            worst = min(worst, float((groups[:, m.n_group_used - 1] - groups[:, m.n_group_used]).min()))
    return worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="run only the cases whose name contains this")
    ap.add_argument("--keep", help="write the models into this folder (kept) instead of a temporary one")
    args = ap.parse_args()

    src = subprocess.run(["bash", "scripts/peer-llama-cpp-src.sh"], check=True, capture_output=True,
                         text=True, cwd=REPO).stdout.strip()
    sys.path.insert(0, os.path.join(src, "gguf-py"))
    from make_deepseek2_gguf import write_variant

    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or tmp
        os.makedirs(folder, exist_ok=True)
        for name, variant, kv, ids in CASES:
            if args.only and args.only not in name:
                continue
            path = os.path.join(folder, f"deepseek2-{variant}.gguf")
            if not os.path.exists(path):
                write_variant(path, variant)
            if kv:
                patched = os.path.join(folder, "patched.gguf")
                patch_gguf(path, patched, {f"deepseek2.{k}": v for k, v in kv.items()}, {})
                path = patched
            model = ReferenceModel(path)
            trace: dict = {}
            ref = model.forward(ids, trace=trace)
            r = compare(ref, llama_cpp_logits(path, ids))
            ok = r["max_abs_diff"] <= TOLERANCE and r["top1_agree"] == r["n"]
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name:56s} max|diff| {r['max_abs_diff']:.3g} "
                  f"(mean {r['mean_abs_diff']:.2g}, max|logit| {r['max_abs_logit']:.1f}), "
                  f"top-1 {r['top1_agree']}/{r['n']}, top-5 {r['top5_agree']}/{r['n']}, "
                  f"routing margin {routing_margin(trace, model):.2g}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    torch.set_num_threads(min(2, torch.get_num_threads()))
    sys.exit(main())
