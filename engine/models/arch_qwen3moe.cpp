// Qwen3-MoE (Qwen3-30B-A3B, Qwen3-235B-A22B): QK-norm, no biases, NEOX rope, a softmax router
// over all experts with the top-k renormalised (Qwen3-MoE always renormalises; Qwen2-MoE would
// not).
#include "engine/models/arch.h"
#include "engine/models/transformer.h"

namespace scout {
namespace {

void layer(LayerPass& pass, uint32_t) {
  pass.attention({.qkv_bias = false, .qk_norm = true});
  pass.moe_ffn({.normalize_top_k = true});
}

std::optional<ModelHparams> preset(std::string_view name) {
  if (name != "qwen3-30b-a3b") return std::nullopt;
  // Qwen3-30B-A3B's config.json.
  ModelHparams hp;
  hp.arch = Arch::qwen3moe;
  hp.n_ctx_train = 40960;
  hp.n_embd = 2048;
  hp.n_layer = 48;
  hp.n_head = 32;
  hp.n_head_kv = 4;
  hp.head_dim_k = hp.head_dim_v = 128;
  hp.n_expert = 128;
  hp.n_expert_used = 8;
  hp.n_ff_exp = 768;
  hp.rope_freq_base = 1e6f;
  hp.tied_output = false;
  hp.n_vocab = 151936;  // config.json's vocab_size: the tokenizer's 151669 tokens, padded
  return hp;
}

}  // namespace

extern const ArchDefinition kQwen3MoeArch{
    .arch = Arch::qwen3moe,
    .name = "qwen3moe",
    .traits = {.rope = RopeStyle::neox, .qk_norm = true, .moe = true},
    .layer = layer,
    .preset = preset,
};

}  // namespace scout
