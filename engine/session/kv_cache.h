// The key/value cache of one Session: per layer, K and V for n_ctx positions, laid out as the
// model's KvLayout says (per-head K and V, or multi-head latent attention's one latent).
//
// The memory is reserved with an anonymous mapping, so the pages of positions never written
// cost nothing: a 32k-token cache for a 4k-token task is resident at 4k tokens' size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/models/model_spec.h"
#include "kernels/ops.h"

namespace scout {

class KvCache {
 public:
  KvCache(const ModelHparams& hp, int32_t n_ctx, KvType type);
  ~KvCache();
  KvCache(KvCache&& other) noexcept;
  KvCache& operator=(KvCache&& other) noexcept;
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  int32_t n_ctx() const { return n_ctx_; }
  KvType type() const { return type_; }
  KvLayerView layer(uint32_t i) const;
  // Bytes one position takes over all layers (K and V, or the latent).
  size_t bytes_per_position() const;
  size_t bytes_reserved() const { return bytes_; }

  // Copies positions [0, n) of every layer from `other` (same model, type; n <= both n_ctx).
  void copy_prefix_from(const KvCache& other, int32_t n);

 private:
  void release();

  int32_t n_ctx_ = 0;
  KvType type_ = KvType::f16;
  uint32_t n_layer_ = 0;
  KvLayout layout_;
  std::byte* base_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace scout
