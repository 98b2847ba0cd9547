// Qwen3 dense: QK-norm, no biases, NEOX rope.
#include "engine/models/arch.h"
#include "engine/models/transformer.h"

namespace scout {
namespace {

void layer(LayerPass& pass, uint32_t) {
  pass.attention({.qkv_bias = false, .qk_norm = true});
  pass.dense_ffn();
}

}  // namespace

extern const ArchDefinition kQwen3Arch{
    .arch = Arch::qwen3,
    .name = "qwen3",
    .traits = {.rope = RopeStyle::neox, .qk_norm = true},
    .layer = layer,
};

}  // namespace scout
