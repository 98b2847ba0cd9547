// What a model of each supported architecture looks like in a GGUF file: its hyperparameters
// (as the `{arch}.*` metadata keys name them) and the exact list of tensors with their shapes.
//
// One table serves both directions: `scout synth` writes models from it, and the loader checks a
// file against it, so a tensor that is missing or of the wrong shape is refused at load with its
// name. Shapes are in ggml order: ne[0] (the contiguous dimension) first.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace scout {

enum class Arch { qwen3moe, qwen3, qwen2, llama };

std::string_view arch_name(Arch arch);
std::optional<Arch> arch_from_name(std::string_view name);

struct ModelHparams {
  Arch arch = Arch::qwen3moe;
  uint32_t n_vocab = 0;         // rows of token_embd; equals the tokenizer's token count
  uint32_t n_ctx_train = 0;     // {arch}.context_length
  uint32_t n_embd = 0;          // {arch}.embedding_length: width of the residual stream
  uint32_t n_layer = 0;         // {arch}.block_count
  uint32_t n_head = 0;          // {arch}.attention.head_count
  uint32_t n_head_kv = 0;       // {arch}.attention.head_count_kv (GQA groups)
  uint32_t head_dim = 0;        // {arch}.attention.key_length == value_length
  uint32_t n_ff = 0;            // {arch}.feed_forward_length: dense FFN width (dense archs)
  uint32_t n_expert = 0;        // {arch}.expert_count (qwen3moe)
  uint32_t n_expert_used = 0;   // {arch}.expert_used_count: experts per token (top-k)
  uint32_t n_ff_exp = 0;        // {arch}.expert_feed_forward_length: width of one expert
  float rms_eps = 1e-6f;        // {arch}.attention.layer_norm_rms_epsilon
  float rope_freq_base = 1e6f;  // {arch}.rope.freq_base
  bool tied_output = false;     // true: no output.weight, logits use token_embd
  // Rotary embedding: {arch}.rope.dimension_count (0: the whole head), the scaling keys
  // {arch}.rope.scaling.type|factor|original_context_length, and llama3-style per-pair
  // frequency divisors in an optional rope_freqs.weight tensor.
  uint32_t rope_dims = 0;
  enum class RopeScaling { none, linear, yarn } rope_scaling = RopeScaling::none;
  float rope_scaling_factor = 1.0f;
  uint32_t rope_n_ctx_orig = 0;  // 0: n_ctx_train
  float rope_attn_factor = 1.0f; // {arch}.rope.scaling.attn_factor: scales cos and sin
  bool has_rope_freqs = false;

  bool is_moe() const { return arch == Arch::qwen3moe; }
  bool has_qk_norm() const { return arch == Arch::qwen3moe || arch == Arch::qwen3; }
  bool has_qkv_bias() const { return arch == Arch::qwen2; }
  // Total parameter count implied by the shapes.
  uint64_t n_params() const;
};

// Checks relations the forward pass relies on (heads divide evenly, top-k <= experts, ...).
Result<void> validate_hparams(const ModelHparams& hp);

enum class TensorRole {
  embedding,   // token_embd
  output,      // output.weight (lm head)
  norm,        // 1-D RMSNorm weights: kept in F32 whatever the file type
  router,      // ffn_gate_inp: kept in F32, as llama.cpp's quantizer does
  bias,        // 1-D biases: F32
  weight,      // 2-D or 3-D projection matrices: stored in the file type
};

struct TensorSpec {
  std::string name;
  std::vector<uint64_t> shape;  // ggml order
  TensorRole role;
  uint32_t fan_in;              // inputs per output (ne[0] for matrices); scales synthetic weights
};

// Every tensor a model with these hyperparameters has, in the order llama.cpp writes them.
std::vector<TensorSpec> expected_tensors(const ModelHparams& hp);

// Named shapes for `scout synth`. `tiny` (tests, < 10 MB at F32), `small` (~0.5 B parameters),
// `qwen3-30b-a3b` (the real shape of Qwen3-30B-A3B; qwen3moe only). n_vocab is 0 (filled in
// from the vocabulary that goes into the file) except where the real model pads its embedding
// (qwen3-30b-a3b: 151936 rows).
Result<ModelHparams> preset_hparams(std::string_view preset, Arch arch);

}  // namespace scout
