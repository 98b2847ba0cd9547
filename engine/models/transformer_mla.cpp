// Multi-head latent attention (DeepSeek-V2/V3), as llama.cpp runs `deepseek2` files.
//
// Per token, the layer projects a query per head (through a low-rank q-LoRA when the model has
// one) and one compressed latent c (kv_lora_rank floats, RMS-normed) plus one rope key k_pe
// (rope dims, shared by every head). Only [c | k_pe] is cached: 576 floats a layer for V3
// where per-head K and V would take 128 * (192 + 128).
//
//   q_h = [q_nope_h | rope(q_pe_h)]          K_h = [W_kb,h · c | rope(k_pe)]   V_h = W_vb,h · c
//   score_h(p) = q_h · K_h(p) = (W_kb,h^T q_nope_h) · c(p) + q_pe_h · k_pe(p)
//
// Absorbed form (decoding): the query's non-rotated part is multiplied into the latent space
// once, q' = [W_kb,h^T q_nope_h | q_pe_h], and attention runs over the cached rows directly, as
// multi-query attention with keys [c | k_pe] and values c; each head's attended latent then
// goes through W_vb,h. Naive form: decompress K_h and V_h for every cached position and run
// ordinary multi-head attention. Both are exact rewrites of each other.
#include <algorithm>

#include "engine/models/transformer.h"

namespace scout {
namespace {

// Automatic choice of the path, measured on DeepSeek-V2-Lite's shapes (BENCHMARKS.md): reading
// 2048 tokens in batches of 64 or 128 the absorbed path is faster (60 against 48, 83 against 78
// tokens/s), at 256 they tie, at 512 the naive one is 10% faster (decompressing every position
// once costs less than attending over 576-wide latent rows instead of 192-wide keys). The naive
// path holds per-head K and V of every position: above this size it is not used.
constexpr int64_t kNaiveMinTokens = 256;
constexpr size_t kNaiveMaxBytes = size_t{256} << 20;

}  // namespace

void LayerPass::mla_attention() {
  Transformer& t = t_;
  Ops& ops = t.ops_;
  const auto& hp = t.hp_;
  const int64_t n = t.n_tokens_, h = hp.n_head, hk = hp.head_dim_k, nope = hp.qk_nope_dims(),
                rope = hp.rope_dims_or_head(), r = hp.kv_lora_rank, latent_row = r + rope;
  float* q = t.mla_.data();                 // n x h x hk
  float* q_lora = q + n * h * hk;           // n x q_lora_rank
  float* kv_a = q_lora + n * hp.q_lora_rank;  // n x (r + rope), as projected
  float* latent = kv_a + n * latent_row;    // n x r, then n x rope: contiguous for norm and rope
  float* k_pe = latent + n * r;
  float* q_nope = k_pe + n * rope;          // n*h x nope
  float* q_pe = q_nope + n * h * nope;      // n*h x rope
  float* cached = kv_a;                     // [c | k_pe] rows, assembled over kv_a once split

  ops.rms_norm(t.x_.data(), w_.attn_norm, n, hp.n_embd, hp.rms_eps, t.xn_.data());
  if (hp.q_lora_rank) {
    ops.matmul(w_.wq_a, t.xn_.data(), n, q_lora);
    ops.rms_norm(q_lora, w_.q_a_norm, n, hp.q_lora_rank, hp.rms_eps, q_lora);
    ops.matmul(w_.wq_b, q_lora, n, q);
  } else {
    ops.matmul(w_.wq, t.xn_.data(), n, q);
  }
  ops.matmul(w_.wkv_a, t.xn_.data(), n, kv_a);
  ops.copy_rows(kv_a, latent_row, latent, r, n, r);
  ops.copy_rows(kv_a + r, latent_row, k_pe, rope, n, rope);
  ops.rms_norm(latent, w_.kv_a_norm, n, r, hp.rms_eps, latent);
  ops.rope(k_pe, n, 1, static_cast<int32_t>(rope), t.positions_, t.rope_);
  ops.copy_rows(latent, r, cached, latent_row, n, r);
  ops.copy_rows(k_pe, rope, cached + r, latent_row, n, rope);
  ops.kv_store(cache_, cached, nullptr, n, t.positions_);

  ops.copy_rows(q, hk, q_nope, nope, n * h, nope);
  ops.copy_rows(q + nope, hk, q_pe, rope, n * h, rope);
  ops.rope(q_pe, n, static_cast<int32_t>(h), static_cast<int32_t>(rope), t.positions_, t.rope_);

  float* scratch = q_pe + n * h * rope;
  const int64_t n_kv = 1 + *std::max_element(t.positions_, t.positions_ + n);
  const size_t naive_bytes = sizeof(float) * static_cast<size_t>(n_kv * h * (nope + hp.head_dim_v + hk));
  const bool naive = t.options_.mla == MlaAttention::naive ||
                     (t.options_.mla == MlaAttention::automatic && n >= kNaiveMinTokens && naive_bytes <= kNaiveMaxBytes);
  if (naive) {
    mla_naive(q_nope, q_pe);
  } else {
    mla_absorbed(q_nope, q_pe, scratch);
  }
  ops.add(t.x_.data(), t.proj_.data(), n * hp.n_embd);
}

// Attends over the cached latent rows as multi-query attention; writes the output projection
// to proj_.
void LayerPass::mla_absorbed(const float* q_nope, const float* q_pe, float* scratch) {
  Transformer& t = t_;
  Ops& ops = t.ops_;
  const auto& hp = t.hp_;
  const int64_t n = t.n_tokens_, h = hp.n_head, rope = hp.rope_dims_or_head(), r = hp.kv_lora_rank,
                latent_row = r + rope;
  float* q_absorbed = scratch;                                  // n*h x (r + rope)
  float* attended = q_absorbed + n * h * latent_row;            // n*h x r
  float* values = attended + n * h * r;                         // n*h x v
  // The per-head matrices are "experts" 0..h-1 of every token: one product reads each once.
  float* q_latent = attended;  // n*h x r, free until attention writes there
  ops.expert_matmul(w_.k_b, q_nope, true, n, static_cast<int32_t>(h), t.head_ids(n), q_latent);
  ops.copy_rows(q_latent, r, q_absorbed, latent_row, n * h, r);
  ops.copy_rows(q_pe, rope, q_absorbed + r, latent_row, n * h, rope);
  ops.attention(q_absorbed, n, static_cast<int32_t>(h), t.positions_, cache_, t.attention_scale_, attended);
  ops.expert_matmul(w_.v_b, attended, true, n, static_cast<int32_t>(h), t.head_ids(n), values);
  ops.matmul(w_.wo, values, n, t.proj_.data());
}

// Decompresses per-head K and V for every position this batch attends to, then runs ordinary
// multi-head attention; writes the output projection to proj_.
void LayerPass::mla_naive(const float* q_nope, const float* q_pe) {
  Transformer& t = t_;
  Ops& ops = t.ops_;
  const auto& hp = t.hp_;
  const int64_t n = t.n_tokens_, h = hp.n_head, hk = hp.head_dim_k, hv = hp.head_dim_v, nope = hp.qk_nope_dims(),
                rope = hp.rope_dims_or_head(), r = hp.kv_lora_rank, latent_row = r + rope;
  const int32_t n_kv = 1 + *std::max_element(t.positions_, t.positions_ + n);
  auto& buf = t.mla_naive_;
  const size_t need = static_cast<size_t>(n_kv) * static_cast<size_t>(latent_row + r + h * nope + h * hv + h * hk) +
                      static_cast<size_t>(n * h * (hk + hv));
  if (buf.size() < need) buf.resize(need);
  float* rows = buf.data();                 // n_kv x (r + rope), read back from the cache
  float* latent = rows + n_kv * latent_row; // n_kv x r
  float* k_nope = latent + n_kv * r;        // n_kv*h x nope
  float* v = k_nope + n_kv * h * nope;      // n_kv*h x hv
  float* k = v + n_kv * h * hv;             // n_kv x h x hk
  float* q = k + n_kv * h * hk;             // n x h x hk
  float* out = q + n * h * hk;              // n x h x hv
  const int32_t* heads = t.head_ids(n_kv);
  ops.kv_read(cache_, 0, n_kv, rows);
  ops.copy_rows(rows, latent_row, latent, r, n_kv, r);
  ops.expert_matmul(t.model_.mla_k_decompress(il_), latent, false, n_kv, static_cast<int32_t>(h), heads, k_nope);
  ops.expert_matmul(w_.v_b, latent, false, n_kv, static_cast<int32_t>(h), heads, v);
  ops.copy_rows(k_nope, nope, k, hk, n_kv * h, nope);
  for (int64_t head = 0; head < h; ++head) ops.copy_rows(rows + r, latent_row, k + head * hk + nope, h * hk, n_kv, rope);
  ops.copy_rows(q_nope, nope, q, hk, n * h, nope);
  ops.copy_rows(q_pe, rope, q + nope, hk, n * h, rope);
  KvLayerView view;
  view.type = KvType::f32;
  view.n_ctx = n_kv;
  view.n_head_kv = static_cast<int32_t>(h);
  view.k_dim = static_cast<int32_t>(hk);
  view.v_dim = static_cast<int32_t>(hv);
  view.k = k;
  view.v = v;
  ops.attention(q, n, static_cast<int32_t>(h), t.positions_, view, t.attention_scale_, out);
  ops.matmul(w_.wo, out, n, t.proj_.data());
}

}  // namespace scout
