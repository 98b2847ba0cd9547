// The op interface that model definitions are written against. The CPU implements it now
// (kernels/cpu/cpu_ops.h); a CUDA implementation joins later behind the same calls, so an
// architecture is written once.
//
// Conventions:
//   - Activations are row-major float matrices: `n_rows` rows of `n` floats, rows contiguous.
//     Pointers refer to the backend's memory (host memory for the CPU backend).
//   - Weights are views of tensors as the GGUF file stores them (never copied): rows of `n_in`
//     elements of `type`, `n_out` rows per matrix, `n_mat` matrices (experts) back to back.
//   - Ops may run on several threads internally; each call returns when its results are ready.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/ggml_types.h"

namespace scout {

struct WeightView {
  GgmlType type = GgmlType::f32;
  int64_t n_in = 0;     // ne[0]: elements per row
  int64_t n_out = 0;    // ne[1]: rows per matrix
  int64_t n_mat = 1;    // ne[2]: matrices (experts)
  const void* data = nullptr;
  size_t row_bytes = 0;
  size_t mat_bytes = 0;

  const void* row(int64_t mat, int64_t r) const {
    return static_cast<const char*>(data) + static_cast<size_t>(mat) * mat_bytes + static_cast<size_t>(r) * row_bytes;
  }
};

// Rotary position embedding, as ggml's rope (with YaRN) defines it.
struct RopeConfig {
  int32_t n_dims = 0;         // rotated dimensions per head (the head size for these models)
  bool neox = true;           // true: pairs (i, i + n_dims/2); false: adjacent pairs (2i, 2i+1)
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;    // 1 / linear or YaRN scaling factor
  float ext_factor = 0.0f;    // YaRN extrapolation mix (1 with YaRN scaling, else 0)
  float attn_factor = 1.0f;
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  int32_t n_ctx_orig = 0;     // YaRN: the training context before scaling
  const float* freq_factors = nullptr;  // optional per-pair divisors of theta (rope_freqs.weight)
};

enum class KvType : uint8_t { f32, f16 };

// One layer's key/value cache: `n_ctx` positions, each `n_head_kv` K heads of `k_dim` values
// and V heads of `v_dim` values, in `type`. Owned by the engine's KvCache, in backend memory.
// With `v_in_k` (multi-head latent attention) V is not stored apart: the V of a head is the
// first v_dim values of its K.
struct KvLayerView {
  KvType type = KvType::f16;
  int32_t n_ctx = 0;
  int32_t n_head_kv = 0;
  int32_t k_dim = 0;
  int32_t v_dim = 0;
  bool v_in_k = false;
  void* k = nullptr;  // n_ctx rows of k_row() values
  void* v = nullptr;  // n_ctx rows of v_row() values; unused with v_in_k
  int64_t k_row() const { return int64_t{n_head_kv} * k_dim; }
  int64_t v_row() const { return int64_t{n_head_kv} * v_dim; }
};

class Ops {
 public:
  virtual ~Ops() = default;

  // y[t] = W · x[t] for t < n_tokens; x rows have w.n_in floats, y rows w.n_out. n_mat must be 1.
  virtual void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y) = 0;

  // Mixture-of-experts projection. For each token t and slot j < k, with e = experts[t*k + j]:
  //   y[t*k + j] = W[e] · x[x_per_slot ? t*k + j : t]
  // Implementations group the (token, slot) pairs by expert so each expert's weights are read
  // once per call.
  virtual void expert_matmul(const WeightView& w, const float* x, bool x_per_slot, int64_t n_tokens, int32_t k,
                             const int32_t* experts, float* y) = 0;

  // Mixture-of-experts output projection, weighted and summed over the slots:
  //   y[t] = sum over j < k of weights[t*k + j] * (W[experts[t*k + j]] · x[t*k + j])
  // summed in slot order as ((w0*p0 + w1*p1) + w2*p2) + ..., which is how llama.cpp adds the
  // weighted expert outputs. Unlike expert_matmul followed by a sum, it never holds the k
  // projected rows of every token at once (33 MB for a 512-token batch of Qwen3-30B-A3B).
  virtual void expert_matmul_weighted(const WeightView& w, const float* x, int64_t n_tokens, int32_t k,
                                      const int32_t* experts, const float* weights, float* y) = 0;

  // out[i] = the embedding row of ids[i], as floats (out rows have table.n_in floats).
  virtual void get_rows(const WeightView& table, const int32_t* ids, int64_t n, float* out) = 0;

  // y[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight, for n_rows rows of n. y may equal x.
  virtual void rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* y) = 0;

  // x[r] += bias, for n_rows rows of n.
  virtual void add_bias(float* x, const float* bias, int64_t n_rows, int64_t n) = 0;

  // x += y over n floats.
  virtual void add(float* x, const float* y, int64_t n) = 0;

  // gate = silu(gate) * up over n floats.
  virtual void silu_mul(float* gate, const float* up, int64_t n) = 0;


  // Rotates n_heads heads of head_dim floats per token in place; row t of x is token t, at
  // position positions[t].
  virtual void rope(float* x, int64_t n_tokens, int32_t n_heads, int32_t head_dim, const int32_t* positions,
                    const RopeConfig& config) = 0;

  // Writes K (rows of cache.k_row() floats) and V (rows of cache.v_row(); ignored with
  // cache.v_in_k, may be null) of n_tokens tokens at cache positions positions[t].
  virtual void kv_store(const KvLayerView& cache, const float* k, const float* v, int64_t n_tokens,
                        const int32_t* positions) = 0;

  // Reads back K of cache positions [first, first + n) as floats: n rows of cache.k_row().
  virtual void kv_read(const KvLayerView& cache, int32_t first, int32_t n, float* k) = 0;

  // Causal attention with the cache: query row t (n_head heads of cache.k_dim) attends to cache
  // positions [0, positions[t]] and writes n_head heads of cache.v_dim floats to out[t]. GQA:
  // query head h uses cache head h / (n_head / n_head_kv). Scores are scaled by `scale`.
  virtual void attention(const float* q, int64_t n_tokens, int32_t n_head, const int32_t* positions,
                         const KvLayerView& cache, float scale, float* out) = 0;

  // dst[r][0, n) = src[r][0, n) for r < n_rows, rows `src_stride` and `dst_stride` floats apart:
  // the gathers and scatters that split heads into parts and join them.
  virtual void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t n_rows,
                         int64_t n) = 0;
};

}  // namespace scout
