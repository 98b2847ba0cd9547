"""The deepseek2 layer (DeepSeek-V2, V2-Lite, V3, R1 as llama.cpp's GGUF files describe them) for
forward.py: multi-head latent attention and the MoE block with shared experts.

Semantics of llama.cpp (src/models/deepseek2.cpp, src/llama-graph.cpp build_moe_ffn,
src/llama-context.cpp), computed naively, i.e. with the latent decompressed into ordinary
multi-head K and V (llama.cpp's "absorbed" MQA form of the split tensors is the same product,
reassociated):

  q       = h Wq                                    or, with q-LoRA, (rms_norm(h Wq_a) * q_a_norm) Wq_b
          = [q_nope (nope) | q_pe (n_rot)] per head
  [c | k_pe] = h Wkv_a_mqa                          c: the latent (kv_lora_rank), k_pe: one rope head
  c       = rms_norm(c) * kv_a_norm
  q_pe, k_pe = rope(q_pe), rope(k_pe)               NORMAL rope (adjacent pairs) over n_rot dims
  k_nope, v = per head, decompressed from c         attn_kv_b (old single tensor) or attn_k_b/attn_v_b
  k       = [k_nope | k_pe]                         the same k_pe for every head
  a       = softmax(q k^T * kq_scale + causal mask) v, then a Wo
  kq_scale = mscale^2 / sqrt(nope + n_rot)          (see kq_scale below for mscale)

  FFN: layers < leading_dense_block_count dense SwiGLU; the others
       moe_ffn(softmax or sigmoid gating, exp_probs_b, expert groups, norm, scale) + shared SwiGLU.

Two tensor forms are read:
  single (old files): attention.key_length = nope + n_rot, value_length = v, and
      attn_kv_b [kv_lora_rank, n_head * (nope + v)]: per head, nope K rows then v V rows;
  split (current files, "MLA"): key_length = kv_lora_rank + n_rot, value_length = kv_lora_rank,
      head_count_kv = 1, key_length_mla = nope + n_rot, value_length_mla = v, and
      attn_k_b [nope, kv_lora_rank, n_head] (K transposed per head), attn_v_b [kv_lora_rank, v, n_head].
(Shapes in ggml order, ne0 first.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from forward import ROPE_NORMAL, apply_rope, attention, moe_ffn, rms_norm, swiglu_ffn

GATING_FUNCS = {1: "softmax", 2: "sigmoid"}  # llama_expert_gating_func_type; 0 (absent): softmax


@dataclass
class MlaHparams:
    n_rot: int               # rope.dimension_count: the decoupled rope part of each q/k head
    n_embd_head_k: int       # nope + n_rot: the decompressed K head
    n_embd_head_v: int       # v: the decompressed V head
    n_lora_q: int            # 0: no q-LoRA (attn_q)
    n_lora_kv: int
    split: bool              # attn_k_b/attn_v_b (key_length_mla and value_length_mla present)
    n_layer_dense_lead: int
    n_ff_exp: int
    n_expert_shared: int
    expert_gating: str       # "softmax" or "sigmoid"
    expert_weights_norm: bool
    expert_weights_scale: float
    n_expert_groups: int
    n_group_used: int
    yarn_log_mul: float      # mscale_all_dim: rope.scaling.yarn_log_multiplier / 0.1 (0: absent)

    @property
    def n_nope(self) -> int:
        return self.n_embd_head_k - self.n_rot


def read_mla_hparams(g, key, n_embd: int, n_head: int) -> MlaHparams:
    """The deepseek2 hyperparameters, as llama_model_deepseek2::load_arch_hparams and
    llama_model_base::load_hparams read them. `key(name, default, required)` reads "deepseek2.NAME"."""
    n_layer = int(key("block_count", required=True))
    n_vocab = int(key("vocab_size", 0)) or len(g.get("tokenizer.ggml.tokens", []))
    # "Lite" models (DeepSeek-V2-Lite and kin) are recognised by their layer count, and llama.cpp
    # then does not read q_lora_rank at all; every other file must have it (0: no q-LoRA).
    is_lite = n_layer in (26, 27) or (n_layer == 48 and n_vocab == 128256)
    n_lora_q = 0 if is_lite else int(key("attention.q_lora_rank", required=True))
    n_lora_kv = int(key("attention.kv_lora_rank", required=True))

    key_length = int(key("attention.key_length", n_embd // n_head))
    value_length = int(key("attention.value_length", n_embd // n_head))
    k_mla = int(key("attention.key_length_mla", 0))
    v_mla = int(key("attention.value_length_mla", 0))
    if (k_mla == 0) != (v_mla == 0):
        raise ValueError(f"{g.path}: key_length_mla and value_length_mla must be given together")
    split = k_mla != 0
    n_embd_head_k = k_mla if split else key_length
    n_embd_head_v = v_mla if split else value_length
    n_rot = int(key("rope.dimension_count", key_length))
    if n_rot % 2 != 0 or n_rot <= 0 or n_embd_head_k - n_rot < 1:
        raise ValueError(f"{g.path}: rope.dimension_count {n_rot} must be even and leave a non-rope "
                         f"part of the {n_embd_head_k}-dim K head")
    if split and (key_length != n_lora_kv + n_rot or value_length != n_lora_kv):
        raise ValueError(f"{g.path}: key_length {key_length} / value_length {value_length} do not "
                         f"describe the latent cache of kv_lora_rank {n_lora_kv} + rope {n_rot}")

    n_expert = int(key("expert_count", 0))
    n_expert_used = int(key("expert_used_count", 0))
    n_layer_dense_lead = int(key("leading_dense_block_count", 0))
    if n_layer > n_layer_dense_lead and (n_expert == 0 or n_expert_used == 0):
        raise ValueError(f"{g.path}: MoE layers need expert_count and expert_used_count > 0")
    n_ff_exp = key("expert_feed_forward_length", required=True)
    if isinstance(n_ff_exp, list):
        raise ValueError(f"{g.path}: a per-layer expert_feed_forward_length is not supported")
    n_groups = int(key("expert_group_count", 0))
    n_group_used = int(key("expert_group_used_count", 0))
    if n_groups > 1 and (n_expert % n_groups != 0 or not 0 < n_group_used < n_groups
                         or n_expert // n_groups < 2):
        raise ValueError(f"{g.path}: {n_expert} experts in {n_groups} groups, {n_group_used} used, "
                         f"is not a valid grouping")

    gating_id = int(key("expert_gating_func", 0))
    if gating_id == 0:
        # files written before the key existed (DeepSeek-V2, V2.5) mean softmax; GLM 4.7 Lite sigmoid
        gating_id = 2 if n_layer in (47, 48) and n_vocab == 154880 else 1
    if gating_id not in GATING_FUNCS:
        raise ValueError(f"{g.path}: expert_gating_func {gating_id} is not supported")

    log_mul = float(key("rope.scaling.yarn_log_multiplier", 0.0))
    # The converter stores 0.1 * mscale_all_dim; llama.cpp divides by 0.1 in float32.
    yarn_log_mul = float(np.float32(log_mul) / np.float32(0.1)) if log_mul != 0.0 else 0.0

    for unsupported in ("attention.temperature_scale", "nextn_predict_layers"):
        if key(unsupported, 0):
            raise ValueError(f"{g.path}: deepseek2 with {unsupported} is not supported")

    return MlaHparams(
        n_rot=n_rot,
        n_embd_head_k=n_embd_head_k,
        n_embd_head_v=n_embd_head_v,
        n_lora_q=n_lora_q,
        n_lora_kv=n_lora_kv,
        split=split,
        n_layer_dense_lead=n_layer_dense_lead,
        n_ff_exp=int(n_ff_exp),
        n_expert_shared=int(key("expert_shared_count", required=True)),
        expert_gating=GATING_FUNCS[gating_id],
        expert_weights_norm=bool(key("expert_weights_norm", False)),
        expert_weights_scale=float(key("expert_weights_scale", 0.0)),
        n_expert_groups=n_groups,
        n_group_used=n_group_used,
        yarn_log_mul=yarn_log_mul,
    )


def expected_tensors(hp) -> dict:
    """name -> (ggml shape, required) of every tensor a deepseek2 file may hold
    (llama_model_deepseek2::load_arch_tensors)."""
    m = hp.mla
    n_embd, n_head, n_rot = hp.n_embd, hp.n_head, m.n_rot
    nope, v, kv = m.n_nope, m.n_embd_head_v, m.n_lora_kv
    t = {
        "token_embd.weight": ((n_embd, hp.n_vocab), True),
        "output_norm.weight": ((n_embd,), True),
        "output.weight": ((n_embd, hp.n_vocab), False),
    }
    for il in range(hp.n_layer):
        layer = {
            "attn_norm.weight": (n_embd,),
            "attn_kv_a_mqa.weight": (n_embd, kv + n_rot),
            "attn_kv_a_norm.weight": (kv,),
            "attn_output.weight": (n_head * v, n_embd),
            "ffn_norm.weight": (n_embd,),
        }
        if m.n_lora_q > 0:
            layer["attn_q_a.weight"] = (n_embd, m.n_lora_q)
            layer["attn_q_a_norm.weight"] = (m.n_lora_q,)
            layer["attn_q_b.weight"] = (m.n_lora_q, n_head * m.n_embd_head_k)
        else:
            layer["attn_q.weight"] = (n_embd, n_head * m.n_embd_head_k)
        if m.split:
            layer["attn_k_b.weight"] = (nope, kv, n_head)
            layer["attn_v_b.weight"] = (kv, v, n_head)
        else:
            layer["attn_kv_b.weight"] = (kv, n_head * (nope + v))
        if il < m.n_layer_dense_lead:
            layer["ffn_gate.weight"] = (n_embd, hp.n_ff)
            layer["ffn_up.weight"] = (n_embd, hp.n_ff)
            layer["ffn_down.weight"] = (hp.n_ff, n_embd)
        else:
            n_ff_sh = m.n_ff_exp * m.n_expert_shared
            layer["ffn_gate_inp.weight"] = (n_embd, hp.n_expert)
            layer["ffn_gate_exps.weight"] = (n_embd, m.n_ff_exp, hp.n_expert)
            layer["ffn_up_exps.weight"] = (n_embd, m.n_ff_exp, hp.n_expert)
            layer["ffn_down_exps.weight"] = (m.n_ff_exp, n_embd, hp.n_expert)
            layer["ffn_gate_shexp.weight"] = (n_embd, n_ff_sh)
            layer["ffn_up_shexp.weight"] = (n_embd, n_ff_sh)
            layer["ffn_down_shexp.weight"] = (n_ff_sh, n_embd)
        for name, shape in layer.items():
            t[f"blk.{il}.{name}"] = (shape, True)
        if il >= m.n_layer_dense_lead:
            t[f"blk.{il}.exp_probs_b.bias"] = ((hp.n_expert,), False)
    return t


def kq_scale(hp) -> float:
    """The deepseek2 graph's attention scale. It undoes llama_context's division of attn_factor by
    1 + 0.1 ln(1/freq_scale) (attn_factor_org), then scales by YaRN's mscale with mscale_all_dim:
      mscale   = attn_factor_org * (1 + 0.1 * yarn_log_mul * ln(1/freq_scale))
      kq_scale = mscale^2 / sqrt(nope + n_rot)
    This is computed for every scaling type, YaRN or not (with no scaling, freq_scale = 1 and
    mscale = attn_factor)."""
    ln_factor = math.log(1.0 / hp.rope_freq_scale)
    attn_factor_org = hp.yarn_attn_factor * (1.0 + 0.1 * ln_factor)
    mscale = attn_factor_org * (1.0 + 0.1 * hp.mla.yarn_log_mul * ln_factor)
    return mscale * mscale / math.sqrt(hp.mla.n_embd_head_k)


def decompress_kv(model, il: int, c: torch.Tensor):
    """Per-head K_nope [T, n_head, nope] and V [T, n_head, v] from the normed latent c [T, kv_lora]."""
    hp, m, p = model.hp, model.hp.mla, f"blk.{il}."
    n_tokens = c.shape[0]
    if m.split:
        wk_b = model.w(p + "attn_k_b.weight")                  # [n_head, kv_lora, nope]
        wv_b = model.w(p + "attn_v_b.weight")                  # [n_head, v, kv_lora]
        k_nope = torch.einsum("tr,hrd->thd", c, wk_b)
        v = torch.einsum("tr,hdr->thd", c, wv_b)
    else:
        kv = c @ model.w(p + "attn_kv_b.weight").T             # [T, n_head * (nope + v)]
        kv = kv.reshape(n_tokens, hp.n_head, m.n_nope + m.n_embd_head_v)
        k_nope, v = kv[..., :m.n_nope], kv[..., m.n_nope:]
    return k_nope, v


def mla_attention(model, il: int, h: torch.Tensor, pos, cos, sin, tr) -> torch.Tensor:
    """The attention block of layer il: h [T, n_embd] (after attn_norm) -> [T, n_embd]."""
    hp, m, p = model.hp, model.hp.mla, f"blk.{il}."
    n_tokens = h.shape[0]
    if m.n_lora_q > 0:
        q = h @ model.w(p + "attn_q_a.weight").T
        q = rms_norm(q, model.w(p + "attn_q_a_norm.weight"), hp.rms_eps)
        q = q @ model.w(p + "attn_q_b.weight").T
    else:
        q = h @ model.w(p + "attn_q.weight").T
    q = q.reshape(n_tokens, hp.n_head, m.n_embd_head_k)
    tr("q", il, q)
    q_nope, q_pe = q[..., :m.n_nope], q[..., m.n_nope:]

    kv_cmpr_pe = h @ model.w(p + "attn_kv_a_mqa.weight").T     # [T, kv_lora + n_rot]
    tr("kv_cmpr_pe", il, kv_cmpr_pe)
    kv_cmpr = rms_norm(kv_cmpr_pe[:, :m.n_lora_kv], model.w(p + "attn_kv_a_norm.weight"), hp.rms_eps)
    tr("kv_cmpr", il, kv_cmpr)
    k_pe = apply_rope(kv_cmpr_pe[:, None, m.n_lora_kv:], cos, sin, ROPE_NORMAL, m.n_rot)  # [T, 1, n_rot]
    q_pe = apply_rope(q_pe, cos, sin, ROPE_NORMAL, m.n_rot)
    tr("k_pe", il, k_pe)
    tr("q_pe", il, q_pe)

    k_nope, v = decompress_kv(model, il, kv_cmpr)
    q = torch.cat([q_nope, q_pe], dim=-1)
    k = torch.cat([k_nope, k_pe.expand(n_tokens, hp.n_head, m.n_rot)], dim=-1)
    tr("Qcur", il, q)
    tr("Kcur", il, k)
    tr("Vcur", il, v)

    a = attention(q, k, v, pos, kq_scale(hp))                   # [T, n_head * v]
    tr("kqv_out", il, a)
    a = a @ model.w(p + "attn_output.weight").T
    tr("attn_out", il, a)
    return a


def ffn(model, il: int, h: torch.Tensor, trace, tr) -> torch.Tensor:
    """The FFN block of layer il: h [T, n_embd] (after ffn_norm) -> [T, n_embd]."""
    hp, m, p = model.hp, model.hp.mla, f"blk.{il}."
    if il < m.n_layer_dense_lead:
        f = swiglu_ffn(h, model.w(p + "ffn_gate.weight"), model.w(p + "ffn_up.weight"), model.w(p + "ffn_down.weight"))
        tr("ffn_out", il, f)
        return f
    moe = moe_ffn(h, model.w(p + "ffn_gate_inp.weight"), model.w(p + "ffn_gate_exps.weight"),
                  model.w(p + "ffn_up_exps.weight"), model.w(p + "ffn_down_exps.weight"),
                  hp.n_expert_used, trace, il,
                  gating=m.expert_gating, exp_probs_b=model.w_opt(p + "exp_probs_b.bias"),
                  n_groups=m.n_expert_groups, n_group_used=m.n_group_used,
                  norm_w=m.expert_weights_norm, w_scale=m.expert_weights_scale)
    tr("ffn_moe_out", il, moe)
    shexp = swiglu_ffn(h, model.w(p + "ffn_gate_shexp.weight"), model.w(p + "ffn_up_shexp.weight"),
                       model.w(p + "ffn_down_shexp.weight"))
    tr("ffn_shexp", il, shexp)
    f = moe + shexp
    tr("ffn_out", il, f)
    return f
