#include "engine/models/model_spec.h"

#include <array>
#include <utility>

namespace scout {
namespace {

constexpr std::array<std::pair<Arch, std::string_view>, 4> kArchNames = {{
    {Arch::qwen3moe, "qwen3moe"}, {Arch::qwen3, "qwen3"}, {Arch::qwen2, "qwen2"}, {Arch::llama, "llama"},
}};

std::string blk(uint32_t layer, std::string_view suffix) {
  return "blk." + std::to_string(layer) + "." + std::string(suffix);
}

}  // namespace

std::string_view arch_name(Arch arch) {
  for (const auto& [a, name] : kArchNames)
    if (a == arch) return name;
  return "unknown";
}

std::optional<Arch> arch_from_name(std::string_view name) {
  for (const auto& [a, n] : kArchNames)
    if (n == name) return a;
  return std::nullopt;
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
  auto fail = [&](const std::string& what) {
    return make_error(std::string(arch_name(hp.arch)) + " hyperparameters: " + what);
  };
  if (hp.n_vocab == 0 || hp.n_embd == 0 || hp.n_layer == 0 || hp.n_head == 0 || hp.head_dim == 0)
    return fail("vocabulary, embedding width, block count, head count and head size must all be > 0");
  if (hp.n_head_kv == 0 || hp.n_head % hp.n_head_kv != 0)
    return fail("head_count (" + std::to_string(hp.n_head) + ") must be a multiple of head_count_kv (" +
                std::to_string(hp.n_head_kv) + ")");
  if (hp.head_dim % 2 != 0) return fail("key_length must be even for rotary embeddings");
  if (hp.is_moe()) {
    if (hp.n_expert == 0 || hp.n_ff_exp == 0) return fail("expert_count and expert_feed_forward_length must be > 0");
    if (hp.n_expert_used == 0 || hp.n_expert_used > hp.n_expert)
      return fail("expert_used_count (" + std::to_string(hp.n_expert_used) + ") must be in 1.." +
                  std::to_string(hp.n_expert));
  } else if (hp.n_ff == 0) {
    return fail("feed_forward_length must be > 0");
  }
  if (!(hp.rms_eps > 0.0f) || !(hp.rope_freq_base > 0.0f)) return fail("rms epsilon and rope base must be > 0");
  if (hp.rope_dims % 2 != 0 || hp.rope_dims > hp.head_dim)
    return fail("rope.dimension_count (" + std::to_string(hp.rope_dims) + ") must be even and at most key_length (" +
                std::to_string(hp.head_dim) + ")");
  if (!(hp.rope_scaling_factor > 0.0f)) return fail("rope.scaling.factor must be > 0");
  return {};
}

std::vector<TensorSpec> expected_tensors(const ModelHparams& hp) {
  const uint64_t n_embd = hp.n_embd, n_q = uint64_t{hp.n_head} * hp.head_dim,
                 n_kv = uint64_t{hp.n_head_kv} * hp.head_dim;
  std::vector<TensorSpec> out;
  out.push_back({"token_embd.weight", {n_embd, hp.n_vocab}, TensorRole::embedding, hp.n_embd});
  out.push_back({"output_norm.weight", {n_embd}, TensorRole::norm, 1});
  if (!hp.tied_output) out.push_back({"output.weight", {n_embd, hp.n_vocab}, TensorRole::output, hp.n_embd});
  if (hp.has_rope_freqs) out.push_back({"rope_freqs.weight", {uint64_t{hp.rope_dims ? hp.rope_dims : hp.head_dim} / 2}, TensorRole::norm, 1});
  for (uint32_t l = 0; l < hp.n_layer; ++l) {
    out.push_back({blk(l, "attn_norm.weight"), {n_embd}, TensorRole::norm, 1});
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
      out.push_back({blk(l, "attn_q_norm.weight"), {hp.head_dim}, TensorRole::norm, 1});
      out.push_back({blk(l, "attn_k_norm.weight"), {hp.head_dim}, TensorRole::norm, 1});
    }
    out.push_back({blk(l, "ffn_norm.weight"), {n_embd}, TensorRole::norm, 1});
    if (hp.is_moe()) {
      out.push_back({blk(l, "ffn_gate_inp.weight"), {n_embd, hp.n_expert}, TensorRole::router, hp.n_embd});
      out.push_back({blk(l, "ffn_gate_exps.weight"), {n_embd, hp.n_ff_exp, hp.n_expert}, TensorRole::weight, hp.n_embd});
      out.push_back({blk(l, "ffn_down_exps.weight"), {hp.n_ff_exp, n_embd, hp.n_expert}, TensorRole::weight, hp.n_ff_exp});
      out.push_back({blk(l, "ffn_up_exps.weight"), {n_embd, hp.n_ff_exp, hp.n_expert}, TensorRole::weight, hp.n_embd});
    } else {
      out.push_back({blk(l, "ffn_gate.weight"), {n_embd, hp.n_ff}, TensorRole::weight, hp.n_embd});
      out.push_back({blk(l, "ffn_down.weight"), {hp.n_ff, n_embd}, TensorRole::weight, hp.n_ff});
      out.push_back({blk(l, "ffn_up.weight"), {n_embd, hp.n_ff}, TensorRole::weight, hp.n_embd});
    }
  }
  return out;
}

Result<ModelHparams> preset_hparams(std::string_view preset, Arch arch) {
  ModelHparams hp;
  hp.arch = arch;
  const bool moe = arch == Arch::qwen3moe;
  if (preset == "tiny") {
    // Widths are multiples of 256 so every file type, K-quants included, applies to the
    // projection matrices; two layers keep an F32 file under 10 MB.
    hp.n_ctx_train = 4096;
    hp.n_embd = 256;
    hp.n_layer = 2;
    hp.n_head = 4;
    hp.n_head_kv = 2;
    hp.head_dim = 64;
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
    hp.head_dim = 64;
    hp.n_ff = moe ? 0 : 4864;
    hp.n_expert = moe ? 24 : 0;
    hp.n_expert_used = moe ? 4 : 0;
    hp.n_ff_exp = moe ? 512 : 0;
    hp.tied_output = true;
  } else if (preset == "qwen3-30b-a3b") {
    if (!moe) return make_error("preset qwen3-30b-a3b is a qwen3moe model; use --arch qwen3moe");
    // Qwen3-30B-A3B's config.json.
    hp.n_ctx_train = 40960;
    hp.n_embd = 2048;
    hp.n_layer = 48;
    hp.n_head = 32;
    hp.n_head_kv = 4;
    hp.head_dim = 128;
    hp.n_expert = 128;
    hp.n_expert_used = 8;
    hp.n_ff_exp = 768;
    hp.rope_freq_base = 1e6f;
    hp.tied_output = false;
    hp.n_vocab = 151936;  // config.json's vocab_size: the tokenizer's 151669 tokens, padded
  } else {
    return make_error("unknown preset '" + std::string(preset) + "' (known: tiny, small, qwen3-30b-a3b)");
  }
  if (arch == Arch::llama) hp.rope_freq_base = 500000.0f;
  return hp;
}

}  // namespace scout
