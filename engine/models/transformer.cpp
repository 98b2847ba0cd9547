#include "engine/models/transformer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/session/kv_cache.h"

namespace scout {

Transformer::Transformer(const Model& model, Ops& ops)
    : model_(model), hp_(model.hparams()), ops_(ops), arch_(arch_definition(model.hparams().arch)),
      rope_(model.rope_config()) {}

void Transformer::reserve(int64_t n) {
  const auto size = [&](std::vector<float>& v, int64_t per_token) {
    const size_t need = static_cast<size_t>(n * per_token);
    if (v.size() < need) v.resize(need);
  };
  const int64_t n_q = int64_t{hp_.n_head} * hp_.head_dim, n_kv = int64_t{hp_.n_head_kv} * hp_.head_dim;
  const int64_t k = hp_.is_moe() ? hp_.n_expert_used : 1;
  const int64_t ff = hp_.is_moe() ? int64_t{hp_.n_ff_exp} * k : hp_.n_ff;
  size(x_, hp_.n_embd);
  size(xn_, hp_.n_embd);
  size(proj_, hp_.n_embd);
  // q, k, v and the attention output live only in the attention block, gate and up only in the
  // FFN: they share one buffer, which for a 512-token batch of Qwen3-30B-A3B saves 18 MB.
  const int64_t attention_floats = 2 * n_q + 2 * n_kv, ffn_floats = 2 * ff;
  size(shared_, std::max(attention_floats, ffn_floats));
  q_ = shared_.data();
  k_ = q_ + n * n_q;
  v_ = k_ + n * n_kv;
  attn_ = v_ + n * n_kv;
  gate_ = shared_.data();
  up_ = gate_ + n * ff;
  if (hp_.is_moe()) {
    size(router_, hp_.n_expert);
    size(moe_weights_, k);
    if (moe_experts_.size() < static_cast<size_t>(n * k)) moe_experts_.resize(static_cast<size_t>(n * k));
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
    LayerPass pass(*this, model_.layer(il), cache.layer(il));
    arch_.layer(pass);
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
                hd = static_cast<int32_t>(hp.head_dim);
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
  ops.attention(t.q_, n, n_head, t.positions_, cache_, 1.0f / std::sqrt(static_cast<float>(hd)),
                t.attn_);
  ops.matmul(w_.wo, t.attn_, n, t.proj_.data());
  ops.add(t.x_.data(), t.proj_.data(), n * hp.n_embd);
}

void LayerPass::dense_ffn() {
  Transformer& t = t_;
  Ops& ops = t.ops_;
  const auto& hp = t.hp_;
  const int64_t n = t.n_tokens_;
  ops.rms_norm(t.x_.data(), w_.ffn_norm, n, hp.n_embd, hp.rms_eps, t.xn_.data());
  ops.matmul(w_.gate, t.xn_.data(), n, t.gate_);
  ops.matmul(w_.up, t.xn_.data(), n, t.up_);
  ops.silu_mul(t.gate_, t.up_, n * hp.n_ff);
  ops.matmul(w_.down, t.gate_, n, t.proj_.data());
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
  // Routing is a few dozen floats per token: done here, on the host, as ggml does it (softmax
  // with a double sum, top-k by probability, optional renormalisation in float).
  std::vector<int32_t>& order = t.expert_order_;
  order.resize(static_cast<size_t>(n_expert));
  for (int64_t tok = 0; tok < n; ++tok) {
    float* p = t.router_.data() + tok * n_expert;
    const float max_logit = *std::max_element(p, p + n_expert);
    double sum = 0.0;
    for (int32_t e = 0; e < n_expert; ++e) {
      p[e] = std::exp(p[e] - max_logit);
      sum += p[e];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int32_t e = 0; e < n_expert; ++e) p[e] *= inv;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return p[a] > p[b] || (p[a] == p[b] && a < b);
    });
    float* w = t.moe_weights_.data() + tok * k;
    float w_sum = 0.0f;
    for (int32_t j = 0; j < k; ++j) {
      t.moe_experts_[static_cast<size_t>(tok * k + j)] = order[static_cast<size_t>(j)];
      w[j] = p[order[static_cast<size_t>(j)]];
      w_sum += w[j];
    }
    if (o.normalize_top_k) {
      w_sum = std::max(w_sum, 6.103515625e-5f);  // as llama.cpp: never divide by (nearly) zero
      for (int32_t j = 0; j < k; ++j) w[j] /= w_sum;
    }
  }
  ops.expert_matmul(w_.gate_exps, t.xn_.data(), false, n, k, t.moe_experts_.data(), t.gate_);
  ops.expert_matmul(w_.up_exps, t.xn_.data(), false, n, k, t.moe_experts_.data(), t.up_);
  ops.silu_mul(t.gate_, t.up_, n * k * hp.n_ff_exp);
  ops.expert_matmul_weighted(w_.down_exps, t.gate_, n, k, t.moe_experts_.data(), t.moe_weights_.data(),
                             t.xn_.data());
  ops.add(t.x_.data(), t.xn_.data(), n * hp.n_embd);
}

}  // namespace scout
