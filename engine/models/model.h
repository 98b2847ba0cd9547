// A loaded model: the mapped GGUF file, its hyperparameters, tokenizer and views of every
// weight. Loading validates the file against the architecture's tensor table (model_spec.h) and
// maps it; weights are used in place, never copied (1-D tensors stored in another type than F32
// are the exception: they are converted once, a few KB each).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/expected.h"
#include "engine/gguf/gguf.h"
#include "engine/models/model_spec.h"
#include "engine/tokenizer/tokenizer.h"
#include "kernels/ops.h"

namespace scout {

struct LayerWeights {
  const float* attn_norm = nullptr;
  WeightView wq, wk, wv, wo;
  const float* bq = nullptr;      // qwen2
  const float* bk = nullptr;
  const float* bv = nullptr;
  const float* q_norm = nullptr;  // qwen3, qwen3moe: RMSNorm over each head
  const float* k_norm = nullptr;
  const float* ffn_norm = nullptr;
  WeightView gate, up, down;      // dense FFN
  WeightView router;              // MoE: [n_embd, n_expert]
  WeightView gate_exps, up_exps, down_exps;
  const float* expert_bias = nullptr;      // deepseek2 V3: exp_probs_b, for selection only
  WeightView gate_shexp, up_shexp, down_shexp;  // deepseek2: shared experts, one dense FFN

  // Multi-head latent attention (deepseek2). wq is used when there is no q-LoRA.
  WeightView wq_a, wq_b;          // q-LoRA: [n_embd, q_lora_rank], [q_lora_rank, n_head*key_len]
  const float* q_a_norm = nullptr;
  WeightView wkv_a;               // [n_embd, kv_lora_rank + rope]: the latent and the rope key
  const float* kv_a_norm = nullptr;
  // Per head (n_mat = n_head): k_b maps a query's non-rotated part into the latent space
  // (kv_lora_rank rows of nope), v_b the attended latent to the head's value (v rows of
  // kv_lora_rank). Views of attn_k_b / attn_v_b, or made from an older file's attn_kv_b.
  WeightView k_b, v_b;
};

struct ModelLoadOptions {
  // Read the whole file into the page cache and map every page before the first token, as
  // llama.cpp does by default: otherwise each expert's pages fault in the first time a token
  // routes to it, slowing the first hundreds of tokens of a MoE model.
  bool prefault = true;
};

class Model {
 public:
  // Opens, validates and maps a model. Errors name the file and the key or tensor at fault.
  static Result<std::shared_ptr<const Model>> load(const std::string& path, ModelLoadOptions options = {});

  const std::string& path() const { return file_.path(); }
  const gguf::File& file() const { return file_; }
  const ModelHparams& hparams() const { return hp_; }
  const Tokenizer& tokenizer() const { return tokenizer_; }

  const WeightView& token_embd() const { return token_embd_; }
  const WeightView& output() const { return output_; }  // token_embd when tied
  const float* output_norm() const { return output_norm_; }
  const LayerWeights& layer(uint32_t i) const { return layers_[i]; }
  RopeConfig rope_config() const;
  // The attention score scale: 1/sqrt(key length), with DeepSeek's YaRN mscale correction.
  float attention_scale() const;
  // MLA's key decompression for layer `il` (n_mat = n_head, nope rows of kv_lora_rank each):
  // what the naive path multiplies the cached latent by. A view of attn_kv_b in older files;
  // made (F32, once, on first use) from attn_k_b in split files, which store it transposed.
  const WeightView& mla_k_decompress(uint32_t il) const;

  // The weight type that most of the parameters have (what "Q4_K model" means).
  GgmlType dominant_type() const { return dominant_type_; }
  uint64_t weight_bytes() const { return weight_bytes_; }
  // Bytes of weights one decoded token reads: every dense matrix, the experts a token uses,
  // and one embedding row (the figure memory-bandwidth percentages are computed from).
  uint64_t decode_bytes_per_token() const;

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

 private:
  Model(gguf::File file, ModelHparams hp, Tokenizer tokenizer);
  Result<void> bind();

  gguf::File file_;
  ModelHparams hp_;
  Tokenizer tokenizer_;
  WeightView token_embd_, output_;
  const float* output_norm_ = nullptr;
  const float* rope_freqs_ = nullptr;
  std::vector<LayerWeights> layers_;
  std::vector<std::vector<float>> converted_;  // 1-D tensors not stored as F32, transposed MLA matrices
  // Made at load from attn_kv_b in older files; made on first use from attn_k_b otherwise.
  mutable std::vector<WeightView> mla_k_decompress_;
  mutable std::vector<std::vector<float>> mla_k_decompress_storage_;
  mutable std::once_flag mla_k_decompress_once_;
  GgmlType dominant_type_ = GgmlType::f32;
  uint64_t weight_bytes_ = 0;
};

}  // namespace scout
