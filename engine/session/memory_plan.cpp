#include "engine/session/memory_plan.h"

#include "engine/models/transformer.h"

namespace scout {

MemoryPlan plan_memory(const ModelHparams& hp, uint64_t weight_bytes, int32_t n_ctx, int32_t n_batch, KvType kv_type) {
  MemoryPlan p;
  p.n_ctx = n_ctx;
  p.n_batch = n_batch;
  p.kv_type = kv_type;
  p.weight_bytes = weight_bytes;
  const uint32_t element = kv_type == KvType::f16 ? 2 : 4;
  p.kv_bytes_per_token = hp.kv_bytes_per_position(element);
  p.kv_bytes_per_token_mha = hp.kv_bytes_per_position(element, true);
  p.kv_bytes = p.kv_bytes_per_token * static_cast<uint64_t>(n_ctx);
  p.activation_bytes = Transformer::activation_bytes(hp, n_batch) + uint64_t{hp.n_vocab} * sizeof(float);
  return p;
}

}  // namespace scout
