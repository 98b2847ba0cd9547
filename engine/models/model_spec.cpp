#include "engine/models/model_spec.h"

#include <cmath>

#include "engine/models/arch.h"

namespace scout {
namespace {

std::string blk(uint32_t layer, std::string_view suffix) {
  return "blk." + std::to_string(layer) + "." + std::string(suffix);
}

std::string str(uint64_t v) { return std::to_string(v); }

}  // namespace

std::string_view arch_name(Arch arch) { return arch_definition(arch).name; }

std::optional<Arch> arch_from_name(std::string_view name) {
  for (const ArchDefinition* a : all_architectures())
    if (a->name == name) return a->arch;
  return std::nullopt;
}

std::string arch_names() {
  std::string out;
  for (const ArchDefinition* a : all_architectures()) out += (out.empty() ? "" : ", ") + std::string(a->name);
  return out;
}

const ArchTraits& arch_traits(Arch arch) { return arch_definition(arch).traits; }
const ArchTraits& ModelHparams::traits() const { return arch_traits(arch); }

KvLayout ModelHparams::kv_layout() const {
  if (is_mla()) return {1, kv_lora_rank + rope_dims_or_head(), kv_lora_rank, true};
  return {n_head_kv, head_dim_k, head_dim_v, false};
}

uint64_t ModelHparams::kv_bytes_per_position(uint32_t bytes_per_element, bool as_mha) const {
  const uint64_t per_layer = as_mha ? uint64_t{is_mla() ? n_head : n_head_kv} * (head_dim_k + head_dim_v)
                                    : kv_layout().elements_per_position();
  return per_layer * n_layer * bytes_per_element;
}

uint64_t ModelHparams::n_params() const {
  uint64_t total = 0;
  for (const auto& t : expected_tensors(*this)) {
    uint64_t n = 1;
    for (auto d : t.shape) n *= d;
    total += n;
  }
  return total;
}

Result<void> validate_hparams(const ModelHparams& hp) {
  const std::string arch(arch_name(hp.arch));
  auto fail = [&](const std::string& what) { return make_error(arch + " hyperparameters: " + what); };
  if (hp.n_vocab == 0 || hp.n_embd == 0 || hp.n_layer == 0 || hp.n_head == 0 || hp.head_dim_k == 0 ||
      hp.head_dim_v == 0)
    return fail("vocabulary, embedding width, block count, head count and head sizes must all be > 0");
  if (hp.n_head_kv == 0 || hp.n_head % hp.n_head_kv != 0)
    return fail("head_count (" + str(hp.n_head) + ") must be a multiple of head_count_kv (" + str(hp.n_head_kv) + ")");
  if (!hp.is_mla() && hp.head_dim_k != hp.head_dim_v)
    return fail("key_length (" + str(hp.head_dim_k) + ") and value_length (" + str(hp.head_dim_v) +
                ") must be equal for " + arch);
  if (hp.head_dim_k % 2 != 0) return fail("key_length must be even for rotary embeddings");
  if (hp.n_layer_dense_lead > hp.n_layer)
    return fail(arch + ".leading_dense_block_count (" + str(hp.n_layer_dense_lead) + ") exceeds block_count (" +
                str(hp.n_layer) + ")");
  const bool any_moe = hp.is_moe() && hp.n_layer_dense_lead < hp.n_layer;
  const bool any_dense = !hp.is_moe() || hp.n_layer_dense_lead > 0;
  if (any_moe) {
    if (hp.n_expert == 0 || hp.n_ff_exp == 0) return fail("expert_count and expert_feed_forward_length must be > 0");
    if (hp.n_expert_used == 0 || hp.n_expert_used > hp.n_expert)
      return fail("expert_used_count (" + str(hp.n_expert_used) + ") must be in 1.." + str(hp.n_expert));
    if (hp.n_expert_groups > 1) {
      if (hp.n_expert % hp.n_expert_groups != 0 || hp.n_expert / hp.n_expert_groups < 2)
        return fail(arch + ".expert_group_count (" + str(hp.n_expert_groups) + ") must divide expert_count (" +
                    str(hp.n_expert) + ") into groups of at least 2 experts");
      if (hp.n_expert_groups_used == 0 || hp.n_expert_groups_used > hp.n_expert_groups)
        return fail(arch + ".expert_group_used_count (" + str(hp.n_expert_groups_used) + ") must be in 1.." +
                    str(hp.n_expert_groups));
      if (hp.n_expert_used > hp.n_expert_groups_used * (hp.n_expert / hp.n_expert_groups))
        return fail(arch + ".expert_used_count (" + str(hp.n_expert_used) + ") exceeds the experts of the " +
                    str(hp.n_expert_groups_used) + " groups kept");
    }
    if (!(hp.expert_weights_scale > 0.0f) || !std::isfinite(hp.expert_weights_scale))
      return fail(arch + ".expert_weights_scale must be a positive number");
  }
  if (any_dense && hp.n_ff == 0) return fail("feed_forward_length must be > 0");
  if (!(hp.rms_eps > 0.0f) || !(hp.rope_freq_base > 0.0f)) return fail("rms epsilon and rope base must be > 0");
  if (hp.is_mla()) {
    if (hp.kv_lora_rank == 0) return fail(arch + ".attention.kv_lora_rank must be > 0");
    if (hp.rope_dims == 0 || hp.rope_dims % 2 != 0 || hp.rope_dims >= hp.head_dim_k)
      return fail(arch + ".rope.dimension_count (" + str(hp.rope_dims) +
                  ") must be even, > 0 and smaller than the key length (" + str(hp.head_dim_k) +
                  "): the rest of each key is its non-rotated part");
  } else if (hp.rope_dims % 2 != 0 || hp.rope_dims > hp.head_dim_k) {
    return fail("rope.dimension_count (" + str(hp.rope_dims) + ") must be even and at most key_length (" +
                str(hp.head_dim_k) + ")");
  }
  if (!(hp.rope_scaling_factor > 0.0f)) return fail("rope.scaling.factor must be > 0");
  return {};
}

namespace {

void attention_gqa_tensors(const ModelHparams& hp, uint32_t l, std::vector<TensorSpec>& out) {
  const uint64_t n_embd = hp.n_embd, n_q = uint64_t{hp.n_head} * hp.head_dim_k,
                 n_kv = uint64_t{hp.n_head_kv} * hp.head_dim_k;
  out.push_back({blk(l, "attn_q.weight"), {n_embd, n_q}, TensorRole::weight, hp.n_embd});
  out.push_back({blk(l, "attn_k.weight"), {n_embd, n_kv}, TensorRole::weight, hp.n_embd});
  out.push_back({blk(l, "attn_v.weight"), {n_embd, n_kv}, TensorRole::weight, hp.n_embd});
  if (hp.has_qkv_bias()) {
    out.push_back({blk(l, "attn_q.bias"), {n_q}, TensorRole::bias, 1});
    out.push_back({blk(l, "attn_k.bias"), {n_kv}, TensorRole::bias, 1});
    out.push_back({blk(l, "attn_v.bias"), {n_kv}, TensorRole::bias, 1});
  }
  out.push_back({blk(l, "attn_output.weight"), {n_q, n_embd}, TensorRole::weight, static_cast<uint32_t>(n_q)});
  if (hp.has_qk_norm()) {
    out.push_back({blk(l, "attn_q_norm.weight"), {hp.head_dim_k}, TensorRole::norm, 1});
    out.push_back({blk(l, "attn_k_norm.weight"), {hp.head_dim_k}, TensorRole::norm, 1});
  }
}

// DeepSeek's multi-head latent attention, in llama.cpp's tensor order.
void attention_mla_tensors(const ModelHparams& hp, uint32_t l, std::vector<TensorSpec>& out) {
  const uint64_t n_embd = hp.n_embd, n_head = hp.n_head, rope = hp.rope_dims_or_head(), nope = hp.qk_nope_dims(),
                 r = hp.kv_lora_rank, q_rank = hp.q_lora_rank, v = hp.head_dim_v;
  const uint64_t n_q = n_head * hp.head_dim_k;
  const std::string arch(arch_name(hp.arch));
  const std::string ranks = arch + ".attention.q_lora_rank = " + str(q_rank) + ", kv_lora_rank = " + str(r) +
                            ", rope.dimension_count = " + str(rope) + ", key length " + str(hp.head_dim_k) +
                            ", value length " + str(v);
  if (q_rank) out.push_back({blk(l, "attn_q_a_norm.weight"), {q_rank}, TensorRole::norm, 1, ranks});
  out.push_back({blk(l, "attn_kv_a_norm.weight"), {r}, TensorRole::norm, 1, ranks});
  if (q_rank) {
    out.push_back({blk(l, "attn_q_a.weight"), {n_embd, q_rank}, TensorRole::weight, hp.n_embd, ranks});
    out.push_back({blk(l, "attn_q_b.weight"), {q_rank, n_q}, TensorRole::weight, hp.q_lora_rank, ranks});
  } else {
    out.push_back({blk(l, "attn_q.weight"), {n_embd, n_q}, TensorRole::weight, hp.n_embd, ranks});
  }
  out.push_back({blk(l, "attn_kv_a_mqa.weight"), {n_embd, r + rope}, TensorRole::weight, hp.n_embd, ranks});
  if (hp.mla_split_kv_b) {
    out.push_back({blk(l, "attn_k_b.weight"), {nope, r, n_head}, TensorRole::weight, static_cast<uint32_t>(nope), ranks});
    out.push_back({blk(l, "attn_v_b.weight"), {r, v, n_head}, TensorRole::weight, hp.kv_lora_rank, ranks});
  } else {
    out.push_back({blk(l, "attn_kv_b.weight"), {r, n_head * (nope + v)}, TensorRole::weight, hp.kv_lora_rank, ranks});
  }
  out.push_back({blk(l, "attn_output.weight"), {n_head * v, n_embd}, TensorRole::weight,
                 static_cast<uint32_t>(n_head * v)});
}

void ffn_tensors(const ModelHparams& hp, uint32_t l, std::vector<TensorSpec>& out) {
  const uint64_t n_embd = hp.n_embd;
  if (hp.layer_is_moe(l)) {
    out.push_back({blk(l, "ffn_gate_inp.weight"), {n_embd, hp.n_expert}, TensorRole::router, hp.n_embd});
    if (hp.has_expert_bias) out.push_back({blk(l, "exp_probs_b.bias"), {hp.n_expert}, TensorRole::bias, 1});
    out.push_back({blk(l, "ffn_gate_exps.weight"), {n_embd, hp.n_ff_exp, hp.n_expert}, TensorRole::weight, hp.n_embd});
    out.push_back({blk(l, "ffn_down_exps.weight"), {hp.n_ff_exp, n_embd, hp.n_expert}, TensorRole::weight, hp.n_ff_exp});
    out.push_back({blk(l, "ffn_up_exps.weight"), {n_embd, hp.n_ff_exp, hp.n_expert}, TensorRole::weight, hp.n_embd});
    if (hp.traits().shared_experts && hp.n_expert_shared) {
      const uint64_t ff = uint64_t{hp.n_ff_exp} * hp.n_expert_shared;
      out.push_back({blk(l, "ffn_gate_shexp.weight"), {n_embd, ff}, TensorRole::weight, hp.n_embd});
      out.push_back({blk(l, "ffn_down_shexp.weight"), {ff, n_embd}, TensorRole::weight, static_cast<uint32_t>(ff)});
      out.push_back({blk(l, "ffn_up_shexp.weight"), {n_embd, ff}, TensorRole::weight, hp.n_embd});
    }
  } else {
    out.push_back({blk(l, "ffn_gate.weight"), {n_embd, hp.n_ff}, TensorRole::weight, hp.n_embd});
    out.push_back({blk(l, "ffn_down.weight"), {hp.n_ff, n_embd}, TensorRole::weight, hp.n_ff});
    out.push_back({blk(l, "ffn_up.weight"), {n_embd, hp.n_ff}, TensorRole::weight, hp.n_embd});
  }
}

}  // namespace

std::vector<TensorSpec> expected_tensors(const ModelHparams& hp) {
  const uint64_t n_embd = hp.n_embd;
  std::vector<TensorSpec> out;
  out.push_back({"token_embd.weight", {n_embd, hp.n_vocab}, TensorRole::embedding, hp.n_embd});
  out.push_back({"output_norm.weight", {n_embd}, TensorRole::norm, 1});
  if (!hp.tied_output) out.push_back({"output.weight", {n_embd, hp.n_vocab}, TensorRole::output, hp.n_embd});
  if (hp.has_rope_freqs) out.push_back({"rope_freqs.weight", {uint64_t{hp.rope_dims_or_head()} / 2}, TensorRole::norm, 1});
  for (uint32_t l = 0; l < hp.n_layer; ++l) {
    out.push_back({blk(l, "attn_norm.weight"), {n_embd}, TensorRole::norm, 1});
    if (hp.is_mla()) {
      attention_mla_tensors(hp, l, out);
    } else {
      attention_gqa_tensors(hp, l, out);
    }
    out.push_back({blk(l, "ffn_norm.weight"), {n_embd}, TensorRole::norm, 1});
    ffn_tensors(hp, l, out);
  }
  return out;
}

std::optional<Arch> preset_arch(std::string_view preset) {
  for (const ArchDefinition* a : all_architectures())
    if (a->preset && a->preset(preset)) return a->arch;
  return std::nullopt;
}

Result<ModelHparams> preset_hparams(std::string_view preset, Arch arch) {
  const ArchDefinition& def = arch_definition(arch);
  if (def.preset) {
    if (auto hp = def.preset(preset)) return *hp;
  }
  if (auto owner = preset_arch(preset))
    return make_error("preset " + std::string(preset) + " is a " + std::string(arch_name(*owner)) +
                      " model; use --arch " + std::string(arch_name(*owner)));
  if (def.traits.attention != AttentionKind::gqa)
    return make_error("preset " + std::string(preset) + " is not a " + std::string(def.name) +
                      " preset (known: tiny-deepseek, tiny-deepseek-lite, deepseek-v2-lite, deepseek-v3)");
  ModelHparams hp;
  hp.arch = arch;
  const bool moe = def.traits.moe;
  if (preset == "tiny") {
    // Widths are multiples of 256 so every file type, K-quants included, applies to the
    // projection matrices; two layers keep an F32 file under 10 MB.
    hp.n_ctx_train = 4096;
    hp.n_embd = 256;
    hp.n_layer = 2;
    hp.n_head = 4;
    hp.n_head_kv = 2;
    hp.head_dim_k = hp.head_dim_v = 64;
    hp.n_ff = 512;
    hp.n_expert = moe ? 4 : 0;
    hp.n_expert_used = moe ? 2 : 0;
    hp.n_ff_exp = moe ? 256 : 0;
    hp.tied_output = true;
  } else if (preset == "small") {
    // Dense: the shape of Qwen2.5-0.5B (0.49 B parameters). MoE: 24 experts of width 512 over
    // 8 layers, 0.48 B parameters with the full Qwen vocabulary.
    hp.n_ctx_train = 32768;
    hp.n_embd = moe ? 1024 : 896;
    hp.n_layer = moe ? 8 : 24;
    hp.n_head = moe ? 16 : 14;
    hp.n_head_kv = moe ? 4 : 2;
    hp.head_dim_k = hp.head_dim_v = 64;
    hp.n_ff = moe ? 0 : 4864;
    hp.n_expert = moe ? 24 : 0;
    hp.n_expert_used = moe ? 4 : 0;
    hp.n_ff_exp = moe ? 512 : 0;
    hp.tied_output = true;
  } else {
    return make_error("unknown preset '" + std::string(preset) +
                      "' (known: tiny, small, qwen3-30b-a3b, tiny-deepseek, tiny-deepseek-lite, deepseek-v2-lite, "
                      "deepseek-v3)");
  }
  hp.rope_freq_base = def.traits.preset_rope_base;
  return hp;
}

}  // namespace scout
