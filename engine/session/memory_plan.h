// What running a model takes in memory, before loading it: the weights as the file stores them,
// the KV cache at a context size (from the architecture's cache layout, as KvCache sizes itself)
// and one batch's activations. `scout inspect --plan` prints it; it needs only the metadata and
// the tensor table, so it works on metadata-only files of models too large to write.
#pragma once

#include <cstdint>

#include "engine/models/model_spec.h"
#include "kernels/ops.h"

namespace scout {

struct MemoryPlan {
  int32_t n_ctx = 0;
  int32_t n_batch = 0;
  KvType kv_type = KvType::f16;
  uint64_t weight_bytes = 0;            // every tensor as stored (mapped, not copied)
  uint64_t kv_bytes_per_token = 0;      // over all layers, as the cache holds it
  uint64_t kv_bytes_per_token_mha = 0;  // with per-head K and V (differs for MLA)
  uint64_t kv_bytes = 0;                // at n_ctx tokens
  uint64_t activation_bytes = 0;        // one forward pass of n_batch tokens, with one logits row
  uint64_t total() const { return weight_bytes + kv_bytes + activation_bytes; }
};

MemoryPlan plan_memory(const ModelHparams& hp, uint64_t weight_bytes, int32_t n_ctx, int32_t n_batch, KvType kv_type);

}  // namespace scout
