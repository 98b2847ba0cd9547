// Qwen2 / Qwen2.5 (and DeepSeek-R1-Distill-Qwen): biases on the q, k and v projections, NEOX rope.
#include "engine/models/arch.h"
#include "engine/models/transformer.h"

namespace scout {
namespace {

void layer(LayerPass& pass, uint32_t) {
  pass.attention({.qkv_bias = true, .qk_norm = false});
  pass.dense_ffn();
}

}  // namespace

extern const ArchDefinition kQwen2Arch{
    .arch = Arch::qwen2,
    .name = "qwen2",
    .traits = {.rope = RopeStyle::neox, .qkv_bias = true},
    .layer = layer,
};

}  // namespace scout
