// The forward pass of the decoder-only transformers Scout runs, written against the op
// interface (kernels/ops.h) so CPU and CUDA share it.
//
// The parts every supported architecture shares (embedding, attention with the KV cache, dense
// and mixture-of-experts SwiGLU FFNs, final norm and logits) are building blocks of LayerPass;
// each architecture's definition (arch_*.cpp) composes a layer from them and states what is
// particular to it (biases, QK-norm, expert gating; the rope style is one of its traits).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/models/arch.h"
#include "engine/models/model.h"
#include "engine/models/routing.h"
#include "kernels/ops.h"

namespace scout {

class KvCache;

struct AttentionOptions {
  bool qkv_bias = false;  // add attn_{q,k,v}.bias after the projections (qwen2)
  bool qk_norm = false;   // RMSNorm each query and key head before RoPE (qwen3)
};

struct MoeOptions {
  ExpertGating gating = ExpertGating::softmax;  // router probabilities: softmax or sigmoid
  bool normalize_top_k = true;  // rescale the chosen experts' probabilities to sum to 1
  float weights_scale = 1.0f;   // then multiply them by this (DeepSeek's routed_scaling_factor)
  // DeepSeek-V3's group-limited routing: experts form n_groups groups of consecutive ids; a
  // group scores the sum of its two best selection scores, and only the n_groups_used best
  // groups are candidates for the top-k. 0 or 1: no groups.
  uint32_t n_groups = 0;
  uint32_t n_groups_used = 0;
  bool selection_bias = false;  // add exp_probs_b to the scores that choose experts (not to weights)
  bool shared_experts = false;  // add the always-on shared experts' FFN to the routed output
};

// How MLA attention is computed. Both give the same result up to float rounding: `absorbed`
// multiplies queries into the latent space and attends over the cached latent directly
// (what decoding uses: no per-head K or V is ever built); `naive` decompresses per-head K and
// V for every position and runs ordinary multi-head attention. `automatic` takes the naive
// path for forward passes of 256 tokens or more (faster there) while its per-position buffers
// stay under 256 MiB, the absorbed one otherwise (transformer_mla.cpp).
enum class MlaAttention { automatic, absorbed, naive };

struct TransformerOptions {
  MlaAttention mla = MlaAttention::automatic;
};

// One layer's work over a batch of tokens; the residual stream `x` is updated in place.
class LayerPass {
 public:
  void attention(const AttentionOptions& options);
  void mla_attention();  // transformer_mla.cpp
  void dense_ffn();
  void moe_ffn(const MoeOptions& options);
  const ModelHparams& hparams() const;

 private:
  friend class Transformer;
  LayerPass(class Transformer& t, const LayerWeights& w, KvLayerView cache, uint32_t il)
      : t_(t), w_(w), cache_(cache), il_(il) {}
  void swiglu(const WeightView& gate, const WeightView& up, const WeightView& down, int64_t width, float* out);
  void mla_absorbed(const float* q_nope, const float* q_pe, float* scratch);
  void mla_naive(const float* q_nope, const float* q_pe);
  Transformer& t_;
  const LayerWeights& w_;
  KvLayerView cache_;
  uint32_t il_;
};

class Transformer {
 public:
  Transformer(const Model& model, Ops& ops, TransformerOptions options = {});

  // Runs tokens[i] at positions[i] through the model, writing their K/V into the cache, and
  // writes the logits of the batch rows listed in `logit_rows` (ascending) to `logits`
  // (logit_rows.size() rows of n_vocab floats). Positions must be < cache.n_ctx(), and every
  // position a token attends to must already hold this sequence's K/V or be in the batch.
  void forward(std::span<const int32_t> tokens, std::span<const int32_t> positions, KvCache& cache,
               std::span<const int32_t> logit_rows, float* logits);

  // Bytes of activation buffers a forward pass of n_tokens tokens holds (the memory plan's
  // figure; the naive MLA path's per-position buffers are not included).
  static uint64_t activation_bytes(const ModelHparams& hp, int64_t n_tokens);

 private:
  friend class LayerPass;
  void reserve(int64_t n_tokens);

  const Model& model_;
  const ModelHparams& hp_;
  Ops& ops_;
  const ArchDefinition& arch_;
  TransformerOptions options_;
  RopeConfig rope_;
  float attention_scale_;
  int64_t n_tokens_ = 0;
  const int32_t* positions_ = nullptr;
  // Activations of the current batch (row-major, one row per token or per token x expert).
  std::vector<float> x_, xn_, proj_, router_, moe_weights_;
  std::vector<float> shared_;  // q, k, v, attn during attention; gate, up during the FFN
  float *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *attn_ = nullptr, *gate_ = nullptr, *up_ = nullptr;
  std::vector<int32_t> moe_experts_;
  ExpertRouter router_state_;
  // MLA: per-token parts (q-LoRA, latent and rope key, the query split, absorbed query, attended
  // latent, per-head values) carved from one buffer; the naive path's per-position K and V.
  std::vector<float> mla_, mla_naive_;
  std::vector<int32_t> head_ids_;  // 0..n_head-1 per row: per-head matrices as "experts"
  // head_ids_ for at least n_rows rows (grown, never shrunk).
  const int32_t* head_ids(int64_t n_rows);
};

}  // namespace scout
