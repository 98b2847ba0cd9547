"""Reference forward pass in torch float64 for the qwen3moe, qwen3, qwen2, llama and deepseek2
architectures.

Written from the model definitions, not from any engine, to give the C++ engine an independent
ground truth. The semantics are those of llama.cpp (src/models/{qwen3moe,qwen3,qwen2,llama}.cpp,
src/llama-graph.cpp build_moe_ffn, ggml-cpu rope), which the engine must match:

  x      = token_embd[ids]
  per layer:
    h    = rms_norm(x) * attn_norm
    q,k,v = h Wq (+bq), h Wk (+bk), h Wv (+bv)           split into heads of head_dim
    q,k  = rms_norm over head_dim * attn_{q,k}_norm      (qwen3, qwen3moe; before RoPE)
    q,k  = rope(q), rope(k)                              NEOX for qwen*, NORMAL for llama
    a    = softmax(q k^T / sqrt(head_dim) + causal mask) v     GQA: head h reads kv head h / (n_head / n_head_kv)
    x    = x + a Wo (+bo)
    h    = rms_norm(x) * ffn_norm
    x    = x + down(silu(gate h) * up h)                 dense
         | x + sum_k w_k down_e(silu(gate_e h) * up_e h)  MoE: p = softmax(router h), top-k of p,
                                                         w = p_topk / max(sum p_topk, 2^-14)
  logits = (rms_norm(x) * output_norm) W_out             W_out = output.weight, or token_embd if absent

deepseek2 (multi-head latent attention, shared experts, grouped and biased routing) replaces the
attention and FFN blocks of this loop; its layer lives in deepseek2.py.

rms_norm(x) = x / sqrt(mean(x^2) + eps). RoPE: theta_i = pos * base^(-2i/n_rot) / freq_factor_i,
with llama.cpp's "linear" (theta * 1/factor) and "yarn" scaling (ggml rope_yarn: ramp between
interpolated and extrapolated theta over ggml_rope_yarn_corr_dims, cos/sin scaled by
1 + 0.1 ln(factor)).

Everything is computed in float64 from the dequantized weights. Usage as a library:

    model = ReferenceModel("model.gguf")
    logits = model.forward([1, 2, 3])          # torch.float64 [n_tokens, n_vocab]

or from the command line: `forward.py MODEL.gguf ID [ID ...]` prints the greedy token after each
position.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf_read import GGUFFile  # noqa: E402

SUPPORTED_ARCHS = ("qwen3moe", "qwen3", "qwen2", "llama", "deepseek2")
ROPE_NORMAL, ROPE_NEOX = "normal", "neox"

# llama.cpp's defaults for YaRN (llama-hparams.h): these are not read from the file for these
# architectures.
YARN_BETA_FAST = 32.0
YARN_BETA_SLOW = 1.0


@dataclass
class Hparams:
    arch: str
    n_vocab: int
    n_ctx_train: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int          # attention.key_length (== value_length); deepseek2: the decompressed K head
    n_rot: int             # rope.dimension_count, default head_dim
    n_ff: int              # dense FFN width (0 when MoE)
    n_expert: int
    n_expert_used: int
    n_ff_exp: int
    rms_eps: float
    rope_type: str
    rope_freq_base: float
    rope_scaling_type: str  # "none", "linear" or "yarn"
    rope_freq_scale: float  # 1 / rope.scaling.factor (1 for "none")
    n_ctx_orig_yarn: int
    yarn_ext_factor: float  # 1 for "yarn", else 0
    yarn_attn_factor: float  # the attn_factor llama.cpp passes to ggml_rope_ext
    yarn_beta_fast: float = YARN_BETA_FAST
    yarn_beta_slow: float = YARN_BETA_SLOW
    mla: object = None     # deepseek2.MlaHparams for deepseek2, else None
    extra: dict = field(default_factory=dict)

    @property
    def is_moe(self) -> bool:
        return self.n_expert > 0


def read_hparams(g: GGUFFile) -> Hparams:
    arch = g.get("general.architecture")
    if arch not in SUPPORTED_ARCHS:
        raise ValueError(f"{g.path}: architecture {arch!r} is not one of {SUPPORTED_ARCHS}")

    def key(name, default=None, required=False):
        full = f"{arch}.{name}"
        if full in g.metadata:
            return g.metadata[full]
        if required:
            raise ValueError(f"{g.path}: missing metadata key {full}")
        return default

    n_embd = int(key("embedding_length", required=True))
    n_head = int(key("attention.head_count", required=True))
    n_head_kv = int(key("attention.head_count_kv", n_head))
    mla = None
    if arch == "deepseek2":
        from deepseek2 import read_mla_hparams
        mla = read_mla_hparams(g, key, n_embd, n_head)
        head_dim, n_rot = mla.n_embd_head_k, mla.n_rot
    else:
        head_dim = int(key("attention.key_length", n_embd // n_head))
        head_dim_v = int(key("attention.value_length", n_embd // n_head))
        if head_dim_v != head_dim:
            raise ValueError(f"{g.path}: key_length {head_dim} != value_length {head_dim_v} is not supported")
        n_rot = int(key("rope.dimension_count", head_dim))
        if n_rot % 2 != 0 or n_rot > head_dim or n_rot <= 0:
            raise ValueError(f"{g.path}: rope.dimension_count {n_rot} must be even and in 2..{head_dim}")
        # n_rot < head_dim (partial rotary) follows ggml's rope op: the first n_rot dims of each
        # head turn, the rest pass through. llama.cpp itself refuses such files for these
        # architectures (their graphs assert n_rot == head size), so that case has no llama.cpp
        # ground truth.
    n_ctx_train = int(key("context_length", required=True))
    n_expert = int(key("expert_count", 0))
    n_expert_used = int(key("expert_used_count", 0))
    n_ff = int(key("feed_forward_length", 0))
    n_ff_exp = int(key("expert_feed_forward_length", 0))
    if n_expert and not n_ff_exp and n_expert_used:
        n_ff_exp = n_ff // n_expert_used  # llama.cpp's fallback for qwen3moe
    if arch == "qwen3moe" and (n_expert == 0 or n_expert_used == 0):
        raise ValueError(f"{g.path}: qwen3moe needs expert_count and expert_used_count > 0")
    if arch in ("qwen3", "qwen2") and n_expert:
        raise ValueError(f"{g.path}: {arch} with experts is not a supported model")
    if mla is not None:
        n_ff_exp = mla.n_ff_exp

    # RoPE scaling, as llama_model::load_hparams + llama_context do it.
    # The scaling type defaults to "linear" when absent; the factor defaults to none (1).
    scaling_type = str(key("rope.scaling.type", "linear"))
    if scaling_type not in ("none", "linear", "yarn"):
        raise ValueError(f"{g.path}: rope scaling type {scaling_type!r} is not supported")
    factor = float(key("rope.scaling.factor", key("rope.scale_linear", 0.0)))
    freq_scale = 1.0 if factor == 0.0 else 1.0 / factor
    if scaling_type == "none":
        freq_scale = 1.0  # "never scale if scaling type is none"
    n_ctx_orig_yarn = int(key("rope.scaling.original_context_length", 0)) or n_ctx_train
    ext_factor = 1.0 if scaling_type == "yarn" else 0.0
    attn_factor = 1.0
    if ext_factor != 0.0:
        # llama_context: attn_factor = get_mscale(factor, 1) / (1 + 0.1 ln factor), which cancels the
        # 1 + 0.1 ln(1/freq_scale) that ggml's rope_yarn multiplies in again.
        f = 1.0 / freq_scale
        get_mscale = (lambda s, m: 1.0 if s <= 1.0 else 0.1 * m * math.log(s) + 1.0)
        if mla is not None and mla.yarn_log_mul != 0.0:
            # With rope.scaling.yarn_log_multiplier (mscale_all_dim) llama_context computes
            # get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim), with mscale =
            # mscale_all_dim for deepseek2: 1. Once rope_yarn multiplies 1 + 0.1 ln(factor) back
            # in, cos/sin have magnitude 1; the deepseek2 graph puts YaRN's mscale into its
            # kq_scale instead (deepseek2.kq_scale).
            attn_factor = 1.0 / (1.0 + 0.1 * math.log(f))
        else:
            attn_factor = get_mscale(f, 1.0) / (1.0 + 0.1 * math.log(f))
    attn_factor *= float(key("rope.scaling.attn_factor", 1.0))

    tok = g.tensors.get("token_embd.weight")
    if tok is None:
        raise ValueError(f"{g.path}: no token_embd.weight")
    return Hparams(
        arch=arch,
        n_vocab=int(tok.shape[1]),
        n_ctx_train=n_ctx_train,
        n_embd=n_embd,
        n_layer=int(key("block_count", required=True)),
        n_head=n_head,
        n_head_kv=n_head_kv,
        head_dim=head_dim,
        n_rot=n_rot,
        n_ff=n_ff,
        n_expert=n_expert,
        n_expert_used=n_expert_used,
        n_ff_exp=n_ff_exp,
        rms_eps=float(key("attention.layer_norm_rms_epsilon", required=True)),
        rope_type=ROPE_NORMAL if arch in ("llama", "deepseek2") else ROPE_NEOX,
        rope_freq_base=float(key("rope.freq_base", 10000.0)),
        rope_scaling_type=scaling_type,
        rope_freq_scale=freq_scale,
        n_ctx_orig_yarn=n_ctx_orig_yarn,
        yarn_ext_factor=ext_factor,
        yarn_attn_factor=attn_factor,
        mla=mla,
    )


# ---------------------------------------------------------------------------------------------
# building blocks


def rms_norm(x: torch.Tensor, weight: torch.Tensor | None, eps: float) -> torch.Tensor:
    """RMSNorm over the last dimension: x / sqrt(mean(x^2) + eps) * weight."""
    y = x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps)
    return y if weight is None else y * weight


def yarn_corr_dims(n_dims: int, n_ctx_orig: int, freq_base: float, beta_fast: float, beta_slow: float):
    """ggml_rope_yarn_corr_dims, evaluated in float32 as ggml does (the floor/ceil make the result
    sensitive to rounding only at exact integers)."""
    f32 = np.float32

    def corr_dim(n_rot):
        return f32(n_dims) * np.log(f32(n_ctx_orig) / (f32(n_rot) * f32(2) * f32(math.pi))) / (f32(2) * np.log(f32(freq_base)))

    start = float(np.floor(corr_dim(beta_fast)))
    end = float(np.ceil(corr_dim(beta_slow)))
    return max(0.0, start), min(float(n_dims - 1), end)


def rope_cos_sin(hp: Hparams, positions: torch.Tensor, freq_factors: torch.Tensor | None):
    """cos and sin, each [n_tokens, n_rot/2], of ggml_rope_ext (ggml_rope_cache_init + rope_yarn).
    Pair i (i = i0/2) turns by theta = pos * base^(-2i/n_rot) / freq_factors[i], then:
      theta_interp = freq_scale * theta
      ext_factor == 0: theta = theta_interp, mscale = attn_factor
      ext_factor != 0: ramp = 1 - clamp((i - low) / max(0.001, high - low), 0, 1) * ext_factor
                       theta = theta_interp * (1 - ramp) + theta * ramp
                       mscale = attn_factor * (1 + 0.1 ln(1 / freq_scale))
    and cos/sin are multiplied by mscale."""
    n_dims = hp.n_rot
    i = torch.arange(n_dims // 2, dtype=torch.float64)
    inv_freq = hp.rope_freq_base ** (-2.0 * i / n_dims)
    if freq_factors is not None:
        inv_freq = inv_freq / freq_factors[: n_dims // 2]
    theta_extrap = positions.to(torch.float64)[:, None] * inv_freq[None, :]
    theta_interp = hp.rope_freq_scale * theta_extrap
    mscale = hp.yarn_attn_factor
    if hp.yarn_ext_factor != 0.0:
        low, high = yarn_corr_dims(n_dims, hp.n_ctx_orig_yarn, hp.rope_freq_base, hp.yarn_beta_fast, hp.yarn_beta_slow)
        y = (i - low) / max(0.001, high - low)
        ramp_mix = (1.0 - y.clamp(0.0, 1.0)) * hp.yarn_ext_factor
        theta = theta_interp * (1.0 - ramp_mix) + theta_extrap * ramp_mix
        mscale = mscale * (1.0 + 0.1 * math.log(1.0 / hp.rope_freq_scale))
    else:
        theta = theta_interp
    return torch.cos(theta) * mscale, torch.sin(theta) * mscale


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, rope_type: str, n_rot: int) -> torch.Tensor:
    """x: [n_tokens, n_heads, head_dim]; cos/sin: [n_tokens, n_rot/2]. The first n_rot dims turn,
    the rest pass through. NEOX pairs (i, i + n_rot/2); NORMAL pairs (2i, 2i+1)."""
    c = cos[:, None, :]
    s = sin[:, None, :]
    out = x.clone()
    if rope_type == ROPE_NEOX:
        half = n_rot // 2
        x0, x1 = x[..., :half], x[..., half:n_rot]
        out[..., :half] = x0 * c - x1 * s
        out[..., half:n_rot] = x0 * s + x1 * c
    else:
        x0, x1 = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
        out[..., 0:n_rot:2] = x0 * c - x1 * s
        out[..., 1:n_rot:2] = x0 * s + x1 * c
    return out


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, positions: torch.Tensor, scale: float) -> torch.Tensor:
    """Causal multi-head attention with GQA. q: [T, H, D], k/v: [T, Hkv, D] -> [T, H*D].
    Token t attends to tokens s with positions[s] <= positions[t]."""
    n_tokens, n_head, _ = q.shape
    n_head_kv = k.shape[1]
    group = n_head // n_head_kv
    kv_index = torch.arange(n_head) // group                      # query head h -> kv head h / group
    kh = k[:, kv_index, :].permute(1, 0, 2)                        # [H, T, D]
    vh = v[:, kv_index, :].permute(1, 0, 2)
    qh = q.permute(1, 0, 2)
    scores = torch.matmul(qh, kh.transpose(1, 2)) * scale          # [H, Tq, Tk]
    allowed = positions[None, :] <= positions[:, None]             # [Tq, Tk]
    scores = scores.masked_fill(~allowed[None, :, :], float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    out = torch.matmul(probs, vh)                                  # [H, Tq, D]
    return out.permute(1, 0, 2).reshape(n_tokens, -1)


def swiglu_ffn(x, w_gate, w_up, w_down, b_gate=None, b_up=None, b_down=None):
    g = x @ w_gate.T
    u = x @ w_up.T
    if b_gate is not None:
        g = g + b_gate
    if b_up is not None:
        u = u + b_up
    y = (torch.nn.functional.silu(g) * u) @ w_down.T
    return y if b_down is None else y + b_down


def moe_ffn(x, w_router, gate_exps, up_exps, down_exps, n_expert_used, trace=None, il=0, *,
            gating="softmax", exp_probs_b=None, n_groups=0, n_group_used=0, norm_w=True, w_scale=0.0):
    """llama.cpp build_moe_ffn. The defaults are qwen3moe's (softmax gating, weights renormalised).
    x: [T, n_embd]; w_router: [n_expert, n_embd]; gate/up_exps: [n_expert, n_ff_exp, n_embd];
    down_exps: [n_expert, n_embd, n_ff_exp].
      probs     = softmax or sigmoid of the router logits
      selection = probs + exp_probs_b (the bias only chooses experts; it is not part of the weights)
      groups    (n_groups > 1): a group of n_expert / n_groups consecutive experts scores the sum of
                its two best selection values; all but the n_group_used best groups drop out (-inf)
      top-k     of selection, in descending order; weights = probs of the chosen experts,
                / max(sum, 2^-14) if norm_w, * w_scale unless it is 0 or 1."""
    logits = x @ w_router.T                                          # [T, n_expert]
    if gating == "softmax":
        probs = torch.softmax(logits, dim=-1)
    elif gating == "sigmoid":
        probs = torch.sigmoid(logits)
    else:
        raise ValueError(f"expert gating {gating!r} is not supported")
    trace = {} if trace is None else trace
    trace[f"ffn_moe_logits-{il}"] = logits
    trace[f"ffn_moe_probs-{il}"] = probs
    selection = probs
    if exp_probs_b is not None:
        selection = trace[f"ffn_moe_probs_biased-{il}"] = probs + exp_probs_b
    n_tokens, n_expert = selection.shape
    if n_groups > 1:
        grouped = selection.reshape(n_tokens, n_groups, n_expert // n_groups)
        group_scores = grouped.topk(2, dim=-1).values.sum(dim=-1)   # [T, n_groups]
        kept = group_scores.topk(n_group_used, dim=-1).indices       # ggml_argsort_top_k
        dropped = torch.ones(n_tokens, n_groups, dtype=torch.bool).scatter(1, kept, False)
        selection = grouped.masked_fill(dropped[:, :, None], float("-inf")).reshape(n_tokens, n_expert)
        trace[f"ffn_moe_group_topk-{il}"] = kept
        trace[f"ffn_moe_probs_masked-{il}"] = selection
    # ggml_argsort_top_k: descending order of the selection score
    _, selected = torch.topk(selection, n_expert_used, dim=-1, largest=True, sorted=True)
    weights = probs.gather(1, selected)
    trace[f"ffn_moe_topk-{il}"] = selected
    trace[f"ffn_moe_weights-{il}"] = weights
    if norm_w:
        weights_sum = weights.sum(dim=-1, keepdim=True).clamp(min=6.103515625e-5)  # smallest normal f16
        weights = trace[f"ffn_moe_weights_norm-{il}"] = weights / weights_sum
    if w_scale != 0.0 and w_scale != 1.0:
        weights = trace[f"ffn_moe_weights_scaled-{il}"] = weights * w_scale
    out = torch.zeros_like(x)
    for t in range(x.shape[0]):
        for j in range(n_expert_used):
            e = int(selected[t, j])
            h = torch.nn.functional.silu(gate_exps[e] @ x[t]) * (up_exps[e] @ x[t])
            out[t] += weights[t, j] * (down_exps[e] @ h)
    return out


# ---------------------------------------------------------------------------------------------
# the model


class ReferenceModel:
    def __init__(self, path: str):
        self.path = str(path)
        self.gguf = GGUFFile(self.path)
        self.hp = read_hparams(self.gguf)
        self._check_tensors()

    def has(self, name: str) -> bool:
        return name in self.gguf.tensors

    def w(self, name: str) -> torch.Tensor:
        """A tensor dequantized to float64, shape row-major (ggml shape reversed)."""
        return torch.from_numpy(self.gguf.tensor(name).astype(np.float64))

    def w_opt(self, name: str):
        return self.w(name) if self.has(name) else None

    def _check_tensors(self) -> None:
        """Every tensor of the file must be one this forward pass uses (as llama.cpp refuses a file
        with tensors it does not load), and the required ones must be there."""
        hp = self.hp
        if hp.mla is not None:
            self._check_deepseek2_tensors()
            return
        known = {"token_embd.weight", "output_norm.weight", "output.weight", "output.bias"}
        required = {"token_embd.weight", "output_norm.weight"}
        if hp.arch == "llama":
            known.add("rope_freqs.weight")
        for il in range(hp.n_layer):
            p = f"blk.{il}."
            req = ["attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                   "attn_output.weight", "ffn_norm.weight"]
            opt = ["attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias"]
            if hp.arch in ("qwen3", "qwen3moe"):
                req += ["attn_q_norm.weight", "attn_k_norm.weight"]
            if hp.is_moe:
                req += ["ffn_gate_inp.weight", "ffn_gate_exps.weight", "ffn_up_exps.weight", "ffn_down_exps.weight"]
            else:
                req += ["ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"]
                opt += ["ffn_gate.bias", "ffn_up.bias", "ffn_down.bias"]
            required |= {p + n for n in req}
            known |= {p + n for n in req + opt}
        missing = sorted(required - set(self.gguf.tensors))
        if missing:
            raise ValueError(f"{self.path}: missing tensors {missing[:8]}")
        unknown = sorted(set(self.gguf.tensors) - known)
        if unknown:
            raise ValueError(f"{self.path}: tensors this reference does not implement: {unknown[:8]}")

    def _check_deepseek2_tensors(self) -> None:
        """As _check_tensors, and each tensor must have the shape llama.cpp expects (the two
        attention forms are told apart by their shapes)."""
        from deepseek2 import expected_tensors
        expected = expected_tensors(self.hp)
        missing = sorted(n for n, (_, req) in expected.items() if req and not self.has(n))
        if missing:
            raise ValueError(f"{self.path}: missing tensors {missing[:8]}")
        unknown = sorted(set(self.gguf.tensors) - set(expected))
        if unknown:
            raise ValueError(f"{self.path}: tensors this reference does not implement: {unknown[:8]}")
        for name, info in self.gguf.tensors.items():
            if tuple(info.shape) != expected[name][0]:
                raise ValueError(f"{self.path}: tensor {name} has shape {list(info.shape)}, "
                                 f"expected {list(expected[name][0])}")

    def _attention(self, il, h, pos, cos, sin, kq_scale, tr) -> torch.Tensor:
        """The attention block of layer il (GQA with q/k norms and biases where the file has them):
        h [T, n_embd] (after attn_norm) -> [T, n_embd]."""
        hp, p, n_tokens = self.hp, f"blk.{il}.", h.shape[0]
        q = h @ self.w(p + "attn_q.weight").T
        k = h @ self.w(p + "attn_k.weight").T
        v = h @ self.w(p + "attn_v.weight").T
        for name, t in (("attn_q.bias", "q"), ("attn_k.bias", "k"), ("attn_v.bias", "v")):
            b = self.w_opt(p + name)
            if b is not None:
                if t == "q":
                    q = q + b
                elif t == "k":
                    k = k + b
                else:
                    v = v + b
        q = q.reshape(n_tokens, hp.n_head, hp.head_dim)
        k = k.reshape(n_tokens, hp.n_head_kv, hp.head_dim)
        v = v.reshape(n_tokens, hp.n_head_kv, hp.head_dim)

        if hp.arch in ("qwen3", "qwen3moe"):
            q = rms_norm(q, self.w(p + "attn_q_norm.weight"), hp.rms_eps)
            k = rms_norm(k, self.w(p + "attn_k_norm.weight"), hp.rms_eps)
            tr("Qcur_normed", il, q)
            tr("Kcur_normed", il, k)

        q = apply_rope(q, cos, sin, hp.rope_type, hp.n_rot)
        k = apply_rope(k, cos, sin, hp.rope_type, hp.n_rot)
        tr("Qcur", il, q)
        tr("Kcur", il, k)
        tr("Vcur", il, v)

        a = attention(q, k, v, pos, kq_scale)
        tr("kqv_out", il, a)
        a = a @ self.w(p + "attn_output.weight").T
        bo = self.w_opt(p + "attn_output.bias")
        if bo is not None:
            a = a + bo
        tr("attn_out", il, a)
        return a

    @torch.no_grad()
    def forward(self, tokens, positions=None, trace: dict | None = None) -> torch.Tensor:
        """Logits [n_tokens, n_vocab] (float64) for every position of `tokens` evaluated as one
        sequence. positions default to 0..n_tokens-1. `trace`, if a dict, receives intermediate
        tensors under llama.cpp's callback names ("attn_norm-0", "Qcur-0", "l_out-1", ...)."""
        hp = self.hp
        ids = torch.as_tensor(list(tokens), dtype=torch.long)
        if ids.numel() == 0:
            raise ValueError("no tokens")
        if int(ids.min()) < 0 or int(ids.max()) >= hp.n_vocab:
            raise ValueError(f"token id out of range 0..{hp.n_vocab - 1}")
        pos = torch.arange(len(ids)) if positions is None else torch.as_tensor(list(positions), dtype=torch.long)
        n_tokens = len(ids)

        def tr(name, il, value):
            if trace is not None:
                trace[f"{name}-{il}" if il >= 0 else name] = value

        import deepseek2  # here, not at the top: deepseek2.py imports this module's building blocks
        tok_embd = self.w("token_embd.weight")                      # [n_vocab, n_embd]
        x = tok_embd[ids]
        tr("inp_embd", -1, x)

        freq_factors = self.w_opt("rope_freqs.weight") if hp.arch == "llama" else None
        cos, sin = rope_cos_sin(hp, pos, freq_factors)
        kq_scale = 1.0 / math.sqrt(hp.head_dim)

        for il in range(hp.n_layer):
            p = f"blk.{il}."
            h = rms_norm(x, self.w(p + "attn_norm.weight"), hp.rms_eps)
            tr("attn_norm", il, h)

            if hp.mla is not None:
                a = deepseek2.mla_attention(self, il, h, pos, cos, sin, tr)
            else:
                a = self._attention(il, h, pos, cos, sin, kq_scale, tr)
            x = x + a
            tr("ffn_inp", il, x)

            h = rms_norm(x, self.w(p + "ffn_norm.weight"), hp.rms_eps)
            tr("ffn_norm", il, h)
            if hp.mla is not None:
                f = deepseek2.ffn(self, il, h, trace, tr)
            elif hp.is_moe:
                f = moe_ffn(h, self.w(p + "ffn_gate_inp.weight"), self.w(p + "ffn_gate_exps.weight"),
                            self.w(p + "ffn_up_exps.weight"), self.w(p + "ffn_down_exps.weight"),
                            hp.n_expert_used, trace, il)
                tr("ffn_moe_out", il, f)
            else:
                f = swiglu_ffn(h, self.w(p + "ffn_gate.weight"), self.w(p + "ffn_up.weight"),
                               self.w(p + "ffn_down.weight"), self.w_opt(p + "ffn_gate.bias"),
                               self.w_opt(p + "ffn_up.bias"), self.w_opt(p + "ffn_down.bias"))
                tr("ffn_out", il, f)
            x = x + f
            tr("l_out", il, x)

        x = rms_norm(x, self.w("output_norm.weight"), hp.rms_eps)
        tr("result_norm", -1, x)
        w_out = self.w("output.weight") if self.has("output.weight") else tok_embd
        logits = x @ w_out.T
        b_out = self.w_opt("output.bias")
        if b_out is not None:
            logits = logits + b_out
        tr("result_output", -1, logits)
        return logits


def main(argv) -> int:
    if len(argv) < 3:
        print(f"usage: {argv[0]} MODEL.gguf ID [ID ...]", file=sys.stderr)
        return 2
    model = ReferenceModel(argv[1])
    ids = [int(t) for t in argv[2:]]
    logits = model.forward(ids)
    for i, row in enumerate(logits):
        top = int(torch.argmax(row))
        print(f"pos {i:3d} id {ids[i]:6d} -> top1 {top:6d} logit {float(row[top]):.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
