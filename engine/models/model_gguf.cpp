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
  w.set_string("general.architecture", std::string(arch_name(hp.arch)));
  w.set_u32(key(hp, "context_length"), hp.n_ctx_train);
  w.set_u32(key(hp, "embedding_length"), hp.n_embd);
  w.set_u32(key(hp, "block_count"), hp.n_layer);
  if (!hp.is_moe()) w.set_u32(key(hp, "feed_forward_length"), hp.n_ff);
  w.set_u32(key(hp, "attention.head_count"), hp.n_head);
  w.set_u32(key(hp, "attention.head_count_kv"), hp.n_head_kv);
  w.set_u32(key(hp, "attention.key_length"), hp.head_dim);
  w.set_u32(key(hp, "attention.value_length"), hp.head_dim);
  w.set_f32(key(hp, "attention.layer_norm_rms_epsilon"), hp.rms_eps);
  w.set_f32(key(hp, "rope.freq_base"), hp.rope_freq_base);
  if (hp.arch == Arch::llama || hp.rope_dims) w.set_u32(key(hp, "rope.dimension_count"), hp.rope_dims ? hp.rope_dims : hp.head_dim);
  if (hp.rope_scaling != ModelHparams::RopeScaling::none) {
    w.set_string(key(hp, "rope.scaling.type"), hp.rope_scaling == ModelHparams::RopeScaling::linear ? "linear" : "yarn");
    w.set_f32(key(hp, "rope.scaling.factor"), hp.rope_scaling_factor);
    if (hp.rope_n_ctx_orig) w.set_u32(key(hp, "rope.scaling.original_context_length"), hp.rope_n_ctx_orig);
  }
  if (hp.is_moe()) {
    w.set_u32(key(hp, "expert_count"), hp.n_expert);
    w.set_u32(key(hp, "expert_used_count"), hp.n_expert_used);
    w.set_u32(key(hp, "expert_feed_forward_length"), hp.n_ff_exp);
  }
}

Result<ModelHparams> read_hparams(const gguf::File& file) {
  auto arch_text = file.get_string("general.architecture");
  if (!arch_text) return make_error(arch_text.error().describe());
  auto arch = arch_from_name(*arch_text);
  if (!arch)
    return make_error(file.path() + ": architecture '" + std::string(*arch_text) +
                      "' is not supported (supported: qwen3moe, qwen3, qwen2, llama)");
  ModelHparams hp;
  hp.arch = *arch;
  std::string first_error;
  auto u32 = [&](std::string_view suffix, uint32_t& out, bool required = true) {
    auto v = file.get_u32(key(hp, suffix));
    if (v) {
      out = *v;
    } else if (required && first_error.empty()) {
      first_error = v.error().describe();
    }
  };
  auto f32 = [&](std::string_view suffix, float& out) {
    auto v = file.get_f32(key(hp, suffix));
    if (v) {
      out = *v;
    } else if (first_error.empty()) {
      first_error = v.error().describe();
    }
  };
  u32("context_length", hp.n_ctx_train);
  u32("embedding_length", hp.n_embd);
  u32("block_count", hp.n_layer);
  u32("attention.head_count", hp.n_head);
  u32("attention.head_count_kv", hp.n_head_kv);
  f32("attention.layer_norm_rms_epsilon", hp.rms_eps);
  f32("rope.freq_base", hp.rope_freq_base);
  if (!first_error.empty()) return make_error(first_error);
  // key_length is optional in llama.cpp: it defaults to n_embd / n_head.
  hp.head_dim = hp.n_head ? hp.n_embd / hp.n_head : 0;
  u32("attention.key_length", hp.head_dim, false);
  if (hp.is_moe()) {
    u32("expert_count", hp.n_expert);
    u32("expert_used_count", hp.n_expert_used);
    u32("expert_feed_forward_length", hp.n_ff_exp);
  } else {
    u32("feed_forward_length", hp.n_ff);
  }
  if (!first_error.empty()) return make_error(first_error);
  hp.rope_dims = hp.head_dim;
  u32("rope.dimension_count", hp.rope_dims, false);
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
  if (!first_error.empty()) return make_error(first_error);
  if (auto attn = file.get_f32(key(hp, "rope.scaling.attn_factor"))) hp.rope_attn_factor = *attn;
  // Only Llama graphs use per-pair frequency factors; elsewhere the tensor is refused as unknown.
  hp.has_rope_freqs = hp.arch == Arch::llama && file.find_tensor("rope_freqs.weight") != nullptr;
  const auto* embd = file.find_tensor("token_embd.weight");
  if (!embd || embd->shape.size() != 2)
    return make_error(file.path() + ": tensor 'token_embd.weight' is missing or not 2-D; the file is not a complete model");
  if (embd->shape[1] > UINT32_MAX) return make_error(file.path() + ": vocabulary larger than 2^32 tokens");
  hp.n_vocab = static_cast<uint32_t>(embd->shape[1]);
  hp.tied_output = file.find_tensor("output.weight") == nullptr;
  if (auto ok = validate_hparams(hp); !ok) return make_error(file.path() + ": " + ok.error().message);
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
                        ", expected " + shape_text(spec.shape) + " from the metadata");
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
