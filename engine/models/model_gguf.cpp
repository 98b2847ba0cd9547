#include "engine/models/model_gguf.h"

#include <set>
#include <sstream>

namespace scout {
namespace {

std::string key(const ModelHparams& hp, std::string_view suffix) {
  return std::string(arch_name(hp.arch)) + "." + std::string(suffix);
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

}  // namespace

void write_hparams(gguf::Writer& w, const ModelHparams& hp) {
  const ArchTraits& traits = hp.traits();
  const bool any_dense = !hp.is_moe() || hp.n_layer_dense_lead > 0;
  w.set_string("general.architecture", std::string(arch_name(hp.arch)));
  w.set_u32(key(hp, "context_length"), hp.n_ctx_train);
  w.set_u32(key(hp, "embedding_length"), hp.n_embd);
  w.set_u32(key(hp, "block_count"), hp.n_layer);
  if (any_dense) w.set_u32(key(hp, "feed_forward_length"), hp.n_ff);
  w.set_u32(key(hp, "attention.head_count"), hp.n_head);
  if (hp.is_mla() && hp.mla_split_kv_b) {
    // As current conversions write MLA: multi-query attention over the latent (one K "head" of
    // kv_lora_rank + rope dims, V its first kv_lora_rank), with the per-head sizes under _mla.
    w.set_u32(key(hp, "attention.head_count_kv"), 1);
    w.set_u32(key(hp, "attention.key_length"), hp.kv_lora_rank + hp.rope_dims_or_head());
    w.set_u32(key(hp, "attention.value_length"), hp.kv_lora_rank);
    w.set_u32(key(hp, "attention.key_length_mla"), hp.head_dim_k);
    w.set_u32(key(hp, "attention.value_length_mla"), hp.head_dim_v);
  } else {
    w.set_u32(key(hp, "attention.head_count_kv"), hp.is_mla() ? hp.n_head : hp.n_head_kv);
    w.set_u32(key(hp, "attention.key_length"), hp.head_dim_k);
    w.set_u32(key(hp, "attention.value_length"), hp.head_dim_v);
  }
  w.set_f32(key(hp, "attention.layer_norm_rms_epsilon"), hp.rms_eps);
  if (hp.is_mla()) {
    // Written even when 0: llama.cpp reads q_lora_rank unless the block count is V2-Lite's.
    w.set_u32(key(hp, "attention.q_lora_rank"), hp.q_lora_rank);
    w.set_u32(key(hp, "attention.kv_lora_rank"), hp.kv_lora_rank);
  }
  w.set_f32(key(hp, "rope.freq_base"), hp.rope_freq_base);
  if (traits.writes_rope_dims || hp.rope_dims) w.set_u32(key(hp, "rope.dimension_count"), hp.rope_dims_or_head());
  if (hp.rope_scaling != ModelHparams::RopeScaling::none) {
    w.set_string(key(hp, "rope.scaling.type"), hp.rope_scaling == ModelHparams::RopeScaling::linear ? "linear" : "yarn");
    w.set_f32(key(hp, "rope.scaling.factor"), hp.rope_scaling_factor);
    if (hp.rope_n_ctx_orig) w.set_u32(key(hp, "rope.scaling.original_context_length"), hp.rope_n_ctx_orig);
    // Stored as 0.1 * mscale_all_dim, as llama.cpp's converter writes it.
    if (hp.rope_yarn_mscale_all_dim != 0.0f)
      w.set_f32(key(hp, "rope.scaling.yarn_log_multiplier"), 0.1f * hp.rope_yarn_mscale_all_dim);
  }
  if (hp.is_moe()) {
    if (traits.leading_dense) w.set_u32(key(hp, "leading_dense_block_count"), hp.n_layer_dense_lead);
    w.set_u32(key(hp, "expert_count"), hp.n_expert);
    w.set_u32(key(hp, "expert_used_count"), hp.n_expert_used);
    w.set_u32(key(hp, "expert_feed_forward_length"), hp.n_ff_exp);
    if (traits.shared_experts) w.set_u32(key(hp, "expert_shared_count"), hp.n_expert_shared);
    if (traits.routing_keys) {
      w.set_f32(key(hp, "expert_weights_scale"), hp.expert_weights_scale);
      w.set_bool(key(hp, "expert_weights_norm"), hp.expert_weights_norm);
      w.set_u32(key(hp, "expert_gating_func"), hp.expert_gating == ExpertGating::sigmoid ? 2 : 1);
      if (hp.n_expert_groups > 1) {
        w.set_u32(key(hp, "expert_group_count"), hp.n_expert_groups);
        w.set_u32(key(hp, "expert_group_used_count"), hp.n_expert_groups_used);
      }
    }
  }
}

Result<ModelHparams> read_hparams(const gguf::File& file) {
  auto arch_text = file.get_string("general.architecture");
  if (!arch_text) return make_error(arch_text.error().describe());
  auto arch = arch_from_name(*arch_text);
  if (!arch)
    return make_error(file.path() + ": architecture '" + std::string(*arch_text) + "' is not supported (supported: " +
                      arch_names() + ")");
  ModelHparams hp;
  hp.arch = *arch;
  const ArchTraits& traits = hp.traits();
  std::string first_error;
  auto u32 = [&](std::string_view suffix, uint32_t& out, bool required = true) {
    auto v = file.get_u32(key(hp, suffix));
    if (v) {
      out = *v;
    } else if ((required || file.contains(key(hp, suffix))) && first_error.empty()) {
      first_error = v.error().describe();
    }
  };
  auto f32 = [&](std::string_view suffix, float& out, bool required = true) {
    auto v = file.get_f32(key(hp, suffix));
    if (v) {
      out = *v;
    } else if ((required || file.contains(key(hp, suffix))) && first_error.empty()) {
      first_error = v.error().describe();
    }
  };
  auto refuse = [&](std::string_view suffix, const std::string& why) {
    return make_error(file.path() + ": " + key(hp, suffix) + " " + why);
  };
  u32("context_length", hp.n_ctx_train);
  u32("embedding_length", hp.n_embd);
  u32("block_count", hp.n_layer);
  u32("attention.head_count", hp.n_head);
  u32("attention.head_count_kv", hp.n_head_kv);
  f32("attention.layer_norm_rms_epsilon", hp.rms_eps);
  f32("rope.freq_base", hp.rope_freq_base);
  if (!first_error.empty()) return make_error(first_error);
  // key_length is optional in llama.cpp: it defaults to n_embd / n_head, value_length to it.
  hp.head_dim_k = hp.n_head ? hp.n_embd / hp.n_head : 0;
  u32("attention.key_length", hp.head_dim_k, false);
  hp.head_dim_v = hp.head_dim_k;
  u32("attention.value_length", hp.head_dim_v, false);
  if (traits.leading_dense) u32("leading_dense_block_count", hp.n_layer_dense_lead, false);
  if (hp.is_moe()) {
    u32("expert_count", hp.n_expert);
    u32("expert_used_count", hp.n_expert_used);
    u32("expert_feed_forward_length", hp.n_ff_exp);
    if (traits.shared_experts) u32("expert_shared_count", hp.n_expert_shared);
  }
  if (!hp.is_moe() || hp.n_layer_dense_lead > 0) u32("feed_forward_length", hp.n_ff);
  if (!first_error.empty()) return make_error(first_error);
  hp.rope_dims = hp.head_dim_k;
  u32("rope.dimension_count", hp.rope_dims, false);
  uint32_t latent_k = 0, latent_v = 0;  // the split form's key_length / value_length
  if (hp.is_mla()) {
    u32("attention.kv_lora_rank", hp.kv_lora_rank);
    u32("attention.q_lora_rank", hp.q_lora_rank, false);
    if (!first_error.empty()) return make_error(first_error);
    // Current conversions describe MLA as multi-query attention over the latent and put the
    // per-head sizes under key_length_mla / value_length_mla; older files have per-head sizes
    // in key_length / value_length and a single attn_kv_b.
    hp.mla_split_kv_b = file.contains(key(hp, "attention.key_length_mla"));
    if (hp.mla_split_kv_b) {
      latent_k = hp.head_dim_k;
      latent_v = hp.head_dim_v;
      u32("attention.key_length_mla", hp.head_dim_k);
      u32("attention.value_length_mla", hp.head_dim_v);
      if (!first_error.empty()) return make_error(first_error);
    }
  }
  if (traits.routing_keys && hp.is_moe()) {
    hp.expert_weights_norm = false;  // llama.cpp's default where the key is absent
    if (auto v = file.get_bool(key(hp, "expert_weights_norm"))) {
      hp.expert_weights_norm = *v;
    } else if (file.contains(key(hp, "expert_weights_norm"))) {
      return make_error(v.error().describe());
    }
    f32("expert_weights_scale", hp.expert_weights_scale, false);
    if (hp.expert_weights_scale == 0.0f) hp.expert_weights_scale = 1.0f;  // 0: not scaled, as in llama.cpp
    uint32_t gating = 0;
    u32("expert_gating_func", gating, false);
    if (gating == 2) {
      hp.expert_gating = ExpertGating::sigmoid;
    } else if (gating > 2) {
      return refuse("expert_gating_func", "is " + std::to_string(gating) + "; Scout supports 1 (softmax) and 2 (sigmoid)");
    }
    u32("expert_group_count", hp.n_expert_groups, false);
    u32("expert_group_used_count", hp.n_expert_groups_used, false);
  }
  if (!first_error.empty()) return make_error(first_error);
  if (auto type = file.get_string(key(hp, "rope.scaling.type"))) {
    if (*type == "linear") {
      hp.rope_scaling = ModelHparams::RopeScaling::linear;
    } else if (*type == "yarn") {
      hp.rope_scaling = ModelHparams::RopeScaling::yarn;
    } else if (*type != "none") {
      return make_error(file.path() + ": " + key(hp, "rope.scaling.type") + " is '" + std::string(*type) +
                        "'; Scout supports none, linear and yarn");
    }
  }
  if (!file.contains(key(hp, "rope.scaling.type")) && file.contains(key(hp, "rope.scaling.factor")))
    hp.rope_scaling = ModelHparams::RopeScaling::linear;  // llama.cpp's default scaling type
  if (hp.rope_scaling != ModelHparams::RopeScaling::none) {
    f32("rope.scaling.factor", hp.rope_scaling_factor);
    u32("rope.scaling.original_context_length", hp.rope_n_ctx_orig, false);
  } else if (auto linear = file.get_f32(key(hp, "rope.scale_linear")); linear && *linear != 1.0f) {
    // The older key llama.cpp still reads: a linear factor.
    hp.rope_scaling = ModelHparams::RopeScaling::linear;
    hp.rope_scaling_factor = *linear;
  }
  if (traits.routing_keys) {
    // Stored as 0.1 * mscale_all_dim; llama.cpp divides it back the same way.
    float log_mul = 0.0f;
    f32("rope.scaling.yarn_log_multiplier", log_mul, false);
    hp.rope_yarn_mscale_all_dim = log_mul / 0.1f;
  }
  if (!first_error.empty()) return make_error(first_error);
  if (auto attn = file.get_f32(key(hp, "rope.scaling.attn_factor"))) hp.rope_attn_factor = *attn;
  // Only architectures whose graphs use per-pair frequency factors take the tensor; elsewhere
  // it is refused as unknown.
  hp.has_rope_freqs = traits.rope_freqs && file.find_tensor("rope_freqs.weight") != nullptr;
  // The V3 selection bias is optional per file, all MoE layers or none (checked with the tensors).
  hp.has_expert_bias = hp.is_moe() && hp.n_layer_dense_lead < hp.n_layer &&
                       file.find_tensor("blk." + std::to_string(hp.n_layer_dense_lead) + ".exp_probs_b.bias") != nullptr;
  const auto* embd = file.find_tensor("token_embd.weight");
  if (!embd || embd->shape.size() != 2)
    return make_error(file.path() + ": tensor 'token_embd.weight' is missing or not 2-D; the file is not a complete model");
  if (embd->shape[1] > UINT32_MAX) return make_error(file.path() + ": vocabulary larger than 2^32 tokens");
  hp.n_vocab = static_cast<uint32_t>(embd->shape[1]);
  hp.tied_output = file.find_tensor("output.weight") == nullptr;
  if (auto ok = validate_hparams(hp); !ok) return make_error(file.path() + ": " + ok.error().message);
  if (hp.is_mla() && hp.mla_split_kv_b) {
    if (latent_k != hp.kv_lora_rank + hp.rope_dims)
      return refuse("attention.key_length", "is " + std::to_string(latent_k) + " but a file with key_length_mla "
                    "must have kv_lora_rank + rope.dimension_count = " + std::to_string(hp.kv_lora_rank + hp.rope_dims));
    if (latent_v != hp.kv_lora_rank)
      return refuse("attention.value_length", "is " + std::to_string(latent_v) + " but a file with "
                    "value_length_mla must have kv_lora_rank = " + std::to_string(hp.kv_lora_rank));
  }
  return hp;
}

Result<void> check_model_tensors(const gguf::File& file, const ModelHparams& hp) {
  std::set<std::string_view> expected_names;
  const auto expected = expected_tensors(hp);
  for (const auto& spec : expected) {
    expected_names.insert(spec.name);
    const auto* t = file.find_tensor(spec.name);
    if (!t)
      return make_error(file.path() + ": tensor '" + spec.name + "' is missing (a " +
                        std::string(arch_name(hp.arch)) + " model of this shape needs " +
                        std::to_string(expected.size()) + " tensors)");
    if (t->shape != spec.shape)
      return make_error(file.path() + ": tensor '" + spec.name + "' has shape " + shape_text(t->shape) +
                        ", expected " + shape_text(spec.shape) + " from the metadata" +
                        (spec.shape_from.empty() ? "" : " (" + spec.shape_from + ")"));
    if (!ggml_type_traits(t->type).supported)
      return make_error(file.path() + ": tensor '" + spec.name + "' is stored as " +
                        std::string(ggml_type_name(t->type)) +
                        ", which Scout cannot compute with (supported: f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K)");
  }
  for (const auto& t : file.tensors())
    if (!expected_names.count(t.name))
      return make_error(file.path() + ": tensor '" + t.name + "' is not part of a " +
                        std::string(arch_name(hp.arch)) + " model with this metadata");
  return {};
}

}  // namespace scout
