// One definition per architecture: how a layer is composed from the shared blocks of
// transformer.h, with what is particular to each. The rope style (NEOX halves for the Qwen
// family, adjacent pairs for Llama) is chosen in Model::rope_config().
#include "engine/models/transformer.h"

namespace scout {
namespace {

// Qwen3-MoE (Qwen3-30B-A3B, Qwen3-235B-A22B): QK-norm, no biases, softmax router over all
// experts, top-k renormalised (Qwen3-MoE always renormalises; Qwen2-MoE would not).
void qwen3moe_layer(LayerPass& pass) {
  pass.attention({.qkv_bias = false, .qk_norm = true});
  pass.moe_ffn({.normalize_top_k = true});
}

// Qwen3 dense: QK-norm, no biases.
void qwen3_layer(LayerPass& pass) {
  pass.attention({.qkv_bias = false, .qk_norm = true});
  pass.dense_ffn();
}

// Qwen2 / Qwen2.5 (and DeepSeek-R1-Distill-Qwen): biases on the q, k and v projections.
void qwen2_layer(LayerPass& pass) {
  pass.attention({.qkv_bias = true, .qk_norm = false});
  pass.dense_ffn();
}

// Llama 2/3 (and DeepSeek-R1-Distill-Llama): the plain pre-norm block.
void llama_layer(LayerPass& pass) {
  pass.attention({.qkv_bias = false, .qk_norm = false});
  pass.dense_ffn();
}

constexpr ArchDefinition kArchitectures[] = {
    {Arch::qwen3moe, qwen3moe_layer},
    {Arch::qwen3, qwen3_layer},
    {Arch::qwen2, qwen2_layer},
    {Arch::llama, llama_layer},
};

}  // namespace

const ArchDefinition& arch_definition(Arch arch) {
  for (const auto& a : kArchitectures)
    if (a.arch == arch) return a;
  return kArchitectures[0];  // unreachable: Arch has no other values
}

}  // namespace scout
