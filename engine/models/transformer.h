// The forward pass of the decoder-only transformers Scout runs, written against the op
// interface (kernels/ops.h) so CPU and CUDA share it.
//
// The parts every supported architecture shares (embedding, attention with the KV cache, dense
// and mixture-of-experts SwiGLU FFNs, final norm and logits) are building blocks of LayerPass;
// each architecture's definition (architectures.cpp) composes a layer from them and states what
// is particular to it (biases, QK-norm, rope style, expert weighting).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/models/model.h"
#include "kernels/ops.h"

namespace scout {

class KvCache;

struct AttentionOptions {
  bool qkv_bias = false;  // add attn_{q,k,v}.bias after the projections (qwen2)
  bool qk_norm = false;   // RMSNorm each query and key head before RoPE (qwen3)
};

struct MoeOptions {
  bool normalize_top_k = true;  // rescale the chosen experts' probabilities to sum to 1
};

// One layer's work over a batch of tokens; the residual stream `x` is updated in place.
class LayerPass {
 public:
  void attention(const AttentionOptions& options);
  void dense_ffn();
  void moe_ffn(const MoeOptions& options);

 private:
  friend class Transformer;
  LayerPass(class Transformer& t, const LayerWeights& w, KvLayerView cache) : t_(t), w_(w), cache_(cache) {}
  Transformer& t_;
  const LayerWeights& w_;
  KvLayerView cache_;
};

// How one architecture builds a layer.
struct ArchDefinition {
  Arch arch;
  void (*layer)(LayerPass& pass);
};
const ArchDefinition& arch_definition(Arch arch);

class Transformer {
 public:
  Transformer(const Model& model, Ops& ops);

  // Runs tokens[i] at positions[i] through the model, writing their K/V into the cache, and
  // writes the logits of the batch rows listed in `logit_rows` (ascending) to `logits`
  // (logit_rows.size() rows of n_vocab floats). Positions must be < cache.n_ctx(), and every
  // position a token attends to must already hold this sequence's K/V or be in the batch.
  void forward(std::span<const int32_t> tokens, std::span<const int32_t> positions, KvCache& cache,
               std::span<const int32_t> logit_rows, float* logits);

 private:
  friend class LayerPass;
  void reserve(int64_t n_tokens);

  const Model& model_;
  const ModelHparams& hp_;
  Ops& ops_;
  const ArchDefinition& arch_;
  RopeConfig rope_;
  int64_t n_tokens_ = 0;
  const int32_t* positions_ = nullptr;
  // Activations of the current batch (row-major, one row per token or per token x expert).
  std::vector<float> x_, xn_, proj_, router_, moe_weights_;
  std::vector<float> shared_;  // q, k, v, attn during attention; gate, up during the FFN
  float *q_ = nullptr, *k_ = nullptr, *v_ = nullptr, *attn_ = nullptr, *gate_ = nullptr, *up_ = nullptr;
  std::vector<int32_t> moe_experts_, expert_order_;
};

}  // namespace scout
