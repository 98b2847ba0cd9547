// DeepSeek-V2, V2-Lite, V3 and R1 (and Kimi K2, Moonlight: the same `deepseek2` graph).
//
// Attention is multi-head latent attention (transformer_mla.cpp): one compressed latent per
// token is cached, and rope runs on a decoupled part shared by all heads. The first
// leading_dense_block_count layers have a dense FFN; the others route each token to top-k
// experts (softmax for V2, sigmoid with a selection bias and expert groups for V3) and add
// always-on shared experts. Rope rotates adjacent pairs, as llama.cpp runs these files.
#include "engine/models/arch.h"
#include "engine/models/transformer.h"

namespace scout {
namespace {

void layer(LayerPass& pass, uint32_t il) {
  const ModelHparams& hp = pass.hparams();
  pass.mla_attention();
  if (!hp.layer_is_moe(il)) {
    pass.dense_ffn();
    return;
  }
  pass.moe_ffn({.gating = hp.expert_gating,
                .normalize_top_k = hp.expert_weights_norm,
                .weights_scale = hp.expert_weights_scale,
                .n_groups = hp.n_expert_groups,
                .n_groups_used = hp.n_expert_groups_used,
                .selection_bias = hp.has_expert_bias,
                .shared_experts = hp.n_expert_shared > 0});
}

// The parts every deepseek2 shape shares: MLA with a 64-dim rope part, YaRN.
ModelHparams base() {
  ModelHparams hp;
  hp.arch = Arch::deepseek2;
  hp.rope_freq_base = 10000.0f;
  hp.rms_eps = 1e-6f;
  hp.rope_scaling = ModelHparams::RopeScaling::yarn;
  hp.rope_scaling_factor = 40.0f;
  hp.rope_n_ctx_orig = 4096;
  hp.n_ctx_train = 163840;
  hp.mla_split_kv_b = true;
  return hp;
}

std::optional<ModelHparams> preset(std::string_view name) {
  ModelHparams hp = base();
  if (name == "tiny-deepseek" || name == "tiny-deepseek-lite") {
    // A few MB at F32 with a truncated DeepSeek-V3 vocabulary: one dense lead layer and two MoE
    // layers. Widths are multiples of 32 (Q8_0 applies everywhere; K-quants fall back to Q8_0
    // on the 64- and 96-wide rows).
    const bool lite = name == "tiny-deepseek-lite";
    hp.n_ctx_train = 4096;
    hp.n_embd = 256;
    hp.n_layer = 3;
    hp.n_layer_dense_lead = 1;
    hp.n_head = 4;
    hp.n_head_kv = hp.n_head;
    hp.head_dim_k = 64 + 32;
    hp.head_dim_v = 64;
    hp.rope_dims = 32;
    hp.kv_lora_rank = 128;
    hp.q_lora_rank = lite ? 0 : 96;
    hp.n_ff = 512;
    hp.n_expert = 8;
    hp.n_expert_used = 2;
    hp.n_ff_exp = 128;
    hp.n_expert_shared = lite ? 2 : 1;
    hp.tied_output = false;
    hp.rope_scaling_factor = 4.0f;
    hp.rope_n_ctx_orig = 1024;
    if (lite) {
      // V2-Lite: softmax router, weights neither renormalised nor scaled, mscale_all_dim 0.707.
      hp.expert_gating = ExpertGating::softmax;
      hp.expert_weights_norm = false;
      hp.rope_yarn_mscale_all_dim = 0.707f;
    } else {
      // V3/R1: sigmoid router with a selection bias, 4 groups of which 2 are kept, weights
      // renormalised and scaled by 2.5, mscale_all_dim 1.
      hp.expert_gating = ExpertGating::sigmoid;
      hp.has_expert_bias = true;
      hp.n_expert_groups = 4;
      hp.n_expert_groups_used = 2;
      hp.expert_weights_norm = true;
      hp.expert_weights_scale = 2.5f;
      hp.rope_yarn_mscale_all_dim = 1.0f;
    }
    return hp;
  }
  if (name == "deepseek-v2-lite") {
    // DeepSeek-V2-Lite's config.json (15.7 B parameters, 2.4 B active).
    hp.n_embd = 2048;
    hp.n_layer = 27;
    hp.n_layer_dense_lead = 1;
    hp.n_head = 16;
    hp.n_head_kv = 16;
    hp.head_dim_k = 128 + 64;
    hp.head_dim_v = 128;
    hp.rope_dims = 64;
    hp.kv_lora_rank = 512;
    hp.q_lora_rank = 0;
    hp.n_ff = 10944;
    hp.n_expert = 64;
    hp.n_expert_used = 6;
    hp.n_ff_exp = 1408;
    hp.n_expert_shared = 2;
    hp.expert_gating = ExpertGating::softmax;
    hp.expert_weights_norm = false;
    hp.rope_yarn_mscale_all_dim = 0.707f;
    hp.tied_output = false;
    return hp;
  }
  if (name == "deepseek-v3") {
    // DeepSeek-V3's (and R1's) config.json: 671 B parameters, 37 B active.
    hp.n_embd = 7168;
    hp.n_layer = 61;
    hp.n_layer_dense_lead = 3;
    hp.n_head = 128;
    hp.n_head_kv = 128;
    hp.head_dim_k = 128 + 64;
    hp.head_dim_v = 128;
    hp.rope_dims = 64;
    hp.kv_lora_rank = 512;
    hp.q_lora_rank = 1536;
    hp.n_ff = 18432;
    hp.n_expert = 256;
    hp.n_expert_used = 8;
    hp.n_ff_exp = 2048;
    hp.n_expert_shared = 1;
    hp.expert_gating = ExpertGating::sigmoid;
    hp.has_expert_bias = true;
    hp.n_expert_groups = 8;
    hp.n_expert_groups_used = 4;
    hp.expert_weights_norm = true;
    hp.expert_weights_scale = 2.5f;
    hp.rope_yarn_mscale_all_dim = 1.0f;
    hp.tied_output = false;
    hp.n_vocab = 129280;  // config.json's vocab_size: the tokenizer's 128815 tokens, padded
    return hp;
  }
  return std::nullopt;
}

}  // namespace

extern const ArchDefinition kDeepseek2Arch{
    .arch = Arch::deepseek2,
    .name = "deepseek2",
    .traits = {.rope = RopeStyle::normal,
               .attention = AttentionKind::mla,
               .moe = true,
               .leading_dense = true,
               .shared_experts = true,
               .writes_rope_dims = true,
               .routing_keys = true,
               .preset_rope_base = 10000.0f},
    .layer = layer,
    .preset = preset,
};

}  // namespace scout
