// What a model of each supported architecture looks like in a GGUF file: its hyperparameters
// (as the `{arch}.*` metadata keys name them) and the exact list of tensors with their shapes.
//
// One table serves both directions: `scout synth` writes models from it, and the loader checks a
// file against it, so a tensor that is missing or of the wrong shape is refused at load with its
// name. Shapes are in ggml order: ne[0] (the contiguous dimension) first.
//
// What differs between architectures is data (ArchTraits: rope style, norms, biases, gating,
// which tensors exist), read here and by the loader, synth and inspect; how a layer is composed
// from the shared blocks is each architecture's definition file (engine/models/arch_*.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace scout {

enum class Arch { qwen3moe, qwen3, qwen2, llama, deepseek2 };

std::string_view arch_name(Arch arch);
std::optional<Arch> arch_from_name(std::string_view name);
// "qwen3moe, qwen3, qwen2, llama, deepseek2": for messages that list what is supported.
std::string arch_names();

enum class RopeStyle { neox, normal };  // ggml's NEOX (halves) or NORMAL (adjacent pairs)
enum class AttentionKind {
  gqa,  // per-head q, k, v projections (grouped-query attention)
  mla,  // DeepSeek's multi-head latent attention: K and V decompressed from one latent
};
enum class ExpertGating { softmax, sigmoid };

// What an architecture is beyond its shape. One row per architecture, in its definition file.
struct ArchTraits {
  RopeStyle rope = RopeStyle::neox;
  AttentionKind attention = AttentionKind::gqa;
  bool qk_norm = false;             // attn_{q,k}_norm: RMSNorm over each query and key head
  bool qkv_bias = false;            // attn_{q,k,v}.bias
  bool moe = false;                 // expert FFNs (every layer after the leading dense ones)
  bool leading_dense = false;       // {arch}.leading_dense_block_count dense layers come first
  bool shared_experts = false;      // ffn_*_shexp beside the routed experts
  bool rope_freqs = false;          // may carry rope_freqs.weight (per-pair frequency divisors)
  bool writes_rope_dims = false;    // its files always carry rope.dimension_count
  // Reads expert_gating_func, expert_weights_norm/scale and expert_group_count/used_count
  // (otherwise: softmax, renormalised, unscaled, no groups).
  bool routing_keys = false;
  float preset_rope_base = 1e6f;    // rope.freq_base of the generic presets
};

// Where K and V of one position of one layer live in the cache.
struct KvLayout {
  uint32_t n_head_kv = 0;  // K heads per position (1 for MLA: the latent is shared by all heads)
  uint32_t k_dim = 0;      // floats per K head
  uint32_t v_dim = 0;      // floats per V head
  bool v_in_k = false;     // V is the first v_dim floats of each K head, stored once (MLA)
  uint64_t elements_per_position() const {
    return uint64_t{n_head_kv} * (k_dim + (v_in_k ? 0 : v_dim));
  }
};

struct ModelHparams {
  Arch arch = Arch::qwen3moe;
  uint32_t n_vocab = 0;         // rows of token_embd; equals the tokenizer's token count
  uint32_t n_ctx_train = 0;     // {arch}.context_length
  uint32_t n_embd = 0;          // {arch}.embedding_length: width of the residual stream
  uint32_t n_layer = 0;         // {arch}.block_count
  uint32_t n_head = 0;          // {arch}.attention.head_count
  uint32_t n_head_kv = 0;       // {arch}.attention.head_count_kv (GQA groups)
  // Query/key and value head sizes as multi-head attention sees them: {arch}.attention.key_length
  // and value_length (for MLA files in the split form, key_length_mla and value_length_mla).
  uint32_t head_dim_k = 0;
  uint32_t head_dim_v = 0;
  uint32_t n_ff = 0;            // {arch}.feed_forward_length: dense FFN width (dense layers)
  uint32_t n_expert = 0;        // {arch}.expert_count
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
  // DeepSeek's mscale_all_dim ({arch}.rope.scaling.yarn_log_multiplier stores 0.1 times it):
  // with YaRN, attention scores are scaled by (1 + 0.1 * mscale_all_dim * ln factor)^2.
  float rope_yarn_mscale_all_dim = 0.0f;
  bool has_rope_freqs = false;

  // Mixture of experts beyond Qwen3-MoE's (DeepSeek-V2/V3).
  uint32_t n_layer_dense_lead = 0;   // {arch}.leading_dense_block_count
  uint32_t n_expert_shared = 0;      // {arch}.expert_shared_count: width n_ff_exp each
  ExpertGating expert_gating = ExpertGating::softmax;  // {arch}.expert_gating_func (1 / 2)
  bool expert_weights_norm = true;   // {arch}.expert_weights_norm (qwen3moe: always)
  float expert_weights_scale = 1.0f; // {arch}.expert_weights_scale
  uint32_t n_expert_groups = 0;      // {arch}.expert_group_count (0 or 1: no groups)
  uint32_t n_expert_groups_used = 0; // {arch}.expert_group_used_count
  bool has_expert_bias = false;      // blk.N.exp_probs_b.bias: selection-only bias (V3)

  // Multi-head latent attention (deepseek2).
  uint32_t q_lora_rank = 0;   // {arch}.attention.q_lora_rank; 0: a plain attn_q projection
  uint32_t kv_lora_rank = 0;  // {arch}.attention.kv_lora_rank: width of the cached latent
  // true: attn_k_b / attn_v_b as current conversions write them (key_length_mla present);
  // false: the older single attn_kv_b.
  bool mla_split_kv_b = true;

  const ArchTraits& traits() const;
  bool is_moe() const { return traits().moe; }
  bool has_qk_norm() const { return traits().qk_norm; }
  bool has_qkv_bias() const { return traits().qkv_bias; }
  bool is_mla() const { return traits().attention == AttentionKind::mla; }
  // Layer `il` has routed experts (MoE architectures, after the leading dense layers).
  bool layer_is_moe(uint32_t il) const { return is_moe() && il >= n_layer_dense_lead; }
  uint32_t rope_dims_or_head() const { return rope_dims ? rope_dims : head_dim_k; }
  uint32_t qk_nope_dims() const { return head_dim_k - rope_dims_or_head(); }  // MLA: q/k part without rope

  // What the KV cache holds per layer and position: per-head K and V, or MLA's latent.
  KvLayout kv_layout() const;
  // Cache bytes per position over all layers at `bytes_per_element`; `as_mha` gives the figure
  // for per-head K and V (what MLA's latent cache saves).
  uint64_t kv_bytes_per_position(uint32_t bytes_per_element, bool as_mha = false) const;

  // Total parameter count implied by the shapes.
  uint64_t n_params() const;
};

const ArchTraits& arch_traits(Arch arch);

// Checks relations the forward pass relies on (heads divide evenly, top-k <= experts, ...).
// Errors name the metadata key at fault.
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
  // The metadata that sets the shape where it is more than the obvious widths, as
  // "attention.kv_lora_rank = 512, rope.dimension_count = 64": named when a file's tensor
  // does not match, so a wrong rank points at its key.
  std::string shape_from = {};
};

// Every tensor a model with these hyperparameters has, in the order llama.cpp writes them.
std::vector<TensorSpec> expected_tensors(const ModelHparams& hp);

// Named shapes for `scout synth`. `tiny` (tests, < 10 MB at F32), `small` (~0.5 B parameters),
// `qwen3-30b-a3b` (the real shape of Qwen3-30B-A3B; qwen3moe only), and deepseek2's
// `tiny-deepseek` (V3-like), `tiny-deepseek-lite` (V2-Lite-like), `deepseek-v2-lite` and
// `deepseek-v3` (the real shapes). n_vocab is 0 (filled in from the vocabulary that goes into
// the file) except where the real model pads its embedding.
Result<ModelHparams> preset_hparams(std::string_view preset, Arch arch);
// The architecture a preset names when it names one (qwen3-30b-a3b, the deepseek presets).
std::optional<Arch> preset_arch(std::string_view preset);

}  // namespace scout
