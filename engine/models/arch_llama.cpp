// Llama 2/3 (and DeepSeek-R1-Distill-Llama): the plain pre-norm block; rope over adjacent pairs,
// with Llama 3's per-pair frequency factors when the file has rope_freqs.weight.
#include "engine/models/arch.h"
#include "engine/models/transformer.h"

namespace scout {
namespace {

void layer(LayerPass& pass, uint32_t) {
  pass.attention({.qkv_bias = false, .qk_norm = false});
  pass.dense_ffn();
}

}  // namespace

extern const ArchDefinition kLlamaArch{
    .arch = Arch::llama,
    .name = "llama",
    .traits = {.rope = RopeStyle::normal, .rope_freqs = true, .writes_rope_dims = true, .preset_rope_base = 500000.0f},
    .layer = layer,
};

}  // namespace scout
