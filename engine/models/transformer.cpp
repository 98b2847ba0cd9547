#include "engine/models/transformer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/models/routing.h"
#include "engine/session/kv_cache.h"

namespace scout {
Transformer::Transformer(const Model& model, Ops& ops, TransformerOptions options)
    : model_(model), hp_(model.hparams()), ops_(ops), arch_(arch_definition(model.hparams().arch)), options_(options),
      rope_(model.rope_config()), attention_scale_(model.attention_scale()) {}

const ModelHparams& LayerPass::hparams() const { return t_.hp_; }

namespace {

// Floats (ints for expert ids) each token of a batch needs in the activation buffers.
struct PerToken {
  int64_t ff = 0;           // the widest FFN any layer runs
  int64_t shared = 0;       // attention q/k/v/out or FFN gate/up, never alive together
  int64_t router = 0, moe_weights = 0, moe_experts = 0, mla = 0;
};

PerToken per_token(const ModelHparams& hp) {
  PerToken p;
  const int64_t n_q = int64_t{hp.n_head} * hp.head_dim_k, n_k = int64_t{hp.n_head_kv} * hp.head_dim_k,
                n_v = int64_t{hp.n_head_kv} * hp.head_dim_v, n_attn = int64_t{hp.n_head} * hp.head_dim_v;
  const int64_t k = hp.is_moe() ? hp.n_expert_used : 1;
  // Dense layers, routed experts (k per token) or the shared experts.
  if (!hp.is_moe() || hp.n_layer_dense_lead > 0) p.ff = hp.n_ff;
  if (hp.is_moe()) p.ff = std::max({p.ff, int64_t{hp.n_ff_exp} * k, int64_t{hp.n_ff_exp} * hp.n_expert_shared});
  // q, k, v and the attention output live only in the attention block, gate and up only in the
  // FFN: they share one buffer, which for a 512-token batch of Qwen3-30B-A3B saves 18 MB.
  p.shared = std::max(hp.is_mla() ? 0 : n_q + n_k + n_v + n_attn, 2 * p.ff);
  if (hp.is_moe()) {
    p.router = hp.n_expert;
    p.moe_weights = p.moe_experts = k;
  }
  if (hp.is_mla()) {
    const int64_t h = hp.n_head, r = hp.kv_lora_rank, rope = hp.rope_dims_or_head();
    // q (h * key length), q-LoRA (q_lora_rank), latent + rope key (r + rope, twice: as
    // projected and as split for norm and rope), q_nope (h * nope), q_pe (h * rope), absorbed
    // query (h * (r + rope)), attended latent (h * r), per-head values (h * v).
    p.mla = h * hp.head_dim_k + hp.q_lora_rank + 2 * (r + rope) + h * hp.qk_nope_dims() + h * rope + h * (r + rope) +
            h * r + h * hp.head_dim_v;
  }
  return p;
}

}  // namespace

uint64_t Transformer::activation_bytes(const ModelHparams& hp, int64_t n_tokens) {
  const PerToken p = per_token(hp);
  const int64_t floats = 3 * int64_t{hp.n_embd} + p.shared + p.router + p.moe_weights + p.mla;
  return static_cast<uint64_t>(n_tokens) * static_cast<uint64_t>(floats * 4 + p.moe_experts * 4 + int64_t{hp.n_head} * 4);
}

const int32_t* Transformer::head_ids(int64_t n_rows) {
  const size_t h = hp_.n_head, need = static_cast<size_t>(n_rows) * h;
  if (head_ids_.size() < need) {
    head_ids_.resize(need);
    for (size_t i = 0; i < need; ++i) head_ids_[i] = static_cast<int32_t>(i % h);
  }
  return head_ids_.data();
}

void Transformer::reserve(int64_t n) {
  const auto size = [&](std::vector<float>& v, int64_t per_token) {
    const size_t need = static_cast<size_t>(n * per_token);
    if (v.size() < need) v.resize(need);
  };
  const PerToken p = per_token(hp_);
  const int64_t n_q = int64_t{hp_.n_head} * hp_.head_dim_k, n_k = int64_t{hp_.n_head_kv} * hp_.head_dim_k,
                n_v = int64_t{hp_.n_head_kv} * hp_.head_dim_v;
  size(x_, hp_.n_embd);
  size(xn_, hp_.n_embd);
  size(proj_, hp_.n_embd);
  size(shared_, p.shared);
  q_ = shared_.data();
  k_ = q_ + n * n_q;
  v_ = k_ + n * n_k;
  attn_ = v_ + n * n_v;
  gate_ = shared_.data();
  up_ = gate_ + n * p.ff;
  if (hp_.is_moe()) {
    size(router_, p.router);
    size(moe_weights_, p.moe_weights);
    if (moe_experts_.size() < static_cast<size_t>(n * p.moe_experts)) moe_experts_.resize(static_cast<size_t>(n * p.moe_experts));
  }
  if (hp_.is_mla()) {
    size(mla_, p.mla);
    head_ids(n);
  }
}

void Transformer::forward(std::span<const int32_t> tokens, std::span<const int32_t> positions, KvCache& cache,
                          std::span<const int32_t> logit_rows, float* logits) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  reserve(n);
  n_tokens_ = n;
  positions_ = positions.data();
  ops_.get_rows(model_.token_embd(), tokens.data(), n, x_.data());
  for (uint32_t il = 0; il < hp_.n_layer; ++il) {
    LayerPass pass(*this, model_.layer(il), cache.layer(il), il);
    arch_.layer(pass, il);
  }
  if (logit_rows.empty()) return;
  // Only the rows whose logits are wanted go through the final norm and the (large) output
  // projection: in a prefill that is usually just the last token.
  const int64_t n_out = static_cast<int64_t>(logit_rows.size());
  for (int64_t i = 0; i < n_out; ++i)
    std::copy_n(x_.data() + int64_t{logit_rows[i]} * hp_.n_embd, hp_.n_embd, xn_.data() + i * hp_.n_embd);
  ops_.rms_norm(xn_.data(), model_.output_norm(), n_out, hp_.n_embd, hp_.rms_eps, xn_.data());
  ops_.matmul(model_.output(), xn_.data(), n_out, logits);
}

void LayerPass::attention(const AttentionOptions& o) {
  Transformer& t = t_;
  Ops& ops = t.ops_;
  const auto& hp = t.hp_;
  const int64_t n = t.n_tokens_;
  const int32_t n_head = static_cast<int32_t>(hp.n_head), n_head_kv = static_cast<int32_t>(hp.n_head_kv),
                hd = static_cast<int32_t>(hp.head_dim_k);
  ops.rms_norm(t.x_.data(), w_.attn_norm, n, hp.n_embd, hp.rms_eps, t.xn_.data());
  ops.matmul(w_.wq, t.xn_.data(), n, t.q_);
  ops.matmul(w_.wk, t.xn_.data(), n, t.k_);
  ops.matmul(w_.wv, t.xn_.data(), n, t.v_);
  if (o.qkv_bias) {
    ops.add_bias(t.q_, w_.bq, n, int64_t{n_head} * hd);
    ops.add_bias(t.k_, w_.bk, n, int64_t{n_head_kv} * hd);
    ops.add_bias(t.v_, w_.bv, n, int64_t{n_head_kv} * hd);
  }
  if (o.qk_norm) {
    ops.rms_norm(t.q_, w_.q_norm, n * n_head, hd, hp.rms_eps, t.q_);
    ops.rms_norm(t.k_, w_.k_norm, n * n_head_kv, hd, hp.rms_eps, t.k_);
  }
  ops.rope(t.q_, n, n_head, hd, t.positions_, t.rope_);
  ops.rope(t.k_, n, n_head_kv, hd, t.positions_, t.rope_);
  ops.kv_store(cache_, t.k_, t.v_, n, t.positions_);
  ops.attention(t.q_, n, n_head, t.positions_, cache_, t.attention_scale_, t.attn_);
  ops.matmul(w_.wo, t.attn_, n, t.proj_.data());
  ops.add(t.x_.data(), t.proj_.data(), n * hp.n_embd);
}

// out = down · (silu(gate · xn) * (up · xn)), a SwiGLU FFN of `width` over the normed input.
void LayerPass::swiglu(const WeightView& gate, const WeightView& up, const WeightView& down, int64_t width, float* out) {
  Transformer& t = t_;
  const int64_t n = t.n_tokens_;
  t.ops_.matmul(gate, t.xn_.data(), n, t.gate_);
  t.ops_.matmul(up, t.xn_.data(), n, t.up_);
  t.ops_.silu_mul(t.gate_, t.up_, n * width);
  t.ops_.matmul(down, t.gate_, n, out);
}

void LayerPass::dense_ffn() {
  Transformer& t = t_;
  Ops& ops = t.ops_;
  const auto& hp = t.hp_;
  const int64_t n = t.n_tokens_;
  ops.rms_norm(t.x_.data(), w_.ffn_norm, n, hp.n_embd, hp.rms_eps, t.xn_.data());
  swiglu(w_.gate, w_.up, w_.down, hp.n_ff, t.proj_.data());
  ops.add(t.x_.data(), t.proj_.data(), n * hp.n_embd);
}

void LayerPass::moe_ffn(const MoeOptions& o) {
  Transformer& t = t_;
  Ops& ops = t.ops_;
  const auto& hp = t.hp_;
  const int64_t n = t.n_tokens_;
  const int32_t n_expert = static_cast<int32_t>(hp.n_expert), k = static_cast<int32_t>(hp.n_expert_used);
  ops.rms_norm(t.x_.data(), w_.ffn_norm, n, hp.n_embd, hp.rms_eps, t.xn_.data());
  ops.matmul(w_.router, t.xn_.data(), n, t.router_.data());
  // Routing is a few dozen floats per token: done here, on the host, as ggml does it.
  const RoutingOptions routing{.gating = o.gating,
                               .normalize_top_k = o.normalize_top_k,
                               .weights_scale = o.weights_scale,
                               .n_groups = o.n_groups,
                               .n_groups_used = o.n_groups_used};
  const float* bias = o.selection_bias ? w_.expert_bias : nullptr;
  for (int64_t tok = 0; tok < n; ++tok)
    t.router_state_.route(t.router_.data() + tok * n_expert, n_expert, k, routing, bias,
                          t.moe_experts_.data() + tok * k, t.moe_weights_.data() + tok * k);
  // The shared experts first, into proj_, while xn_ still holds the normed input.
  const bool shared = o.shared_experts && w_.gate_shexp.data;
  if (shared) swiglu(w_.gate_shexp, w_.up_shexp, w_.down_shexp, int64_t{hp.n_ff_exp} * hp.n_expert_shared, t.proj_.data());
  ops.expert_matmul(w_.gate_exps, t.xn_.data(), false, n, k, t.moe_experts_.data(), t.gate_);
  ops.expert_matmul(w_.up_exps, t.xn_.data(), false, n, k, t.moe_experts_.data(), t.up_);
  ops.silu_mul(t.gate_, t.up_, n * k * hp.n_ff_exp);
  ops.expert_matmul_weighted(w_.down_exps, t.gate_, n, k, t.moe_experts_.data(), t.moe_weights_.data(),
                             t.xn_.data());
  // (routed + shared) + residual, the order llama.cpp adds them in.
  if (shared) ops.add(t.xn_.data(), t.proj_.data(), n * hp.n_embd);
  ops.add(t.x_.data(), t.xn_.data(), n * hp.n_embd);
}

}  // namespace scout
