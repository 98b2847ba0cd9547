#include "engine/session/kv_cache.h"

#include <sys/mman.h>

#include <cassert>
#include <cstring>
#include <new>
#include <utility>

namespace scout {
namespace {
size_t elem_size(KvType t) { return t == KvType::f16 ? 2 : 4; }
}  // namespace

KvCache::KvCache(const ModelHparams& hp, int32_t n_ctx, KvType type)
    : n_ctx_(n_ctx), type_(type), n_layer_(hp.n_layer), layout_(hp.kv_layout()) {
  bytes_ = bytes_per_position() * static_cast<size_t>(n_ctx_);
  if (bytes_ == 0) return;
  void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<std::byte*>(p);
}

KvCache::~KvCache() { release(); }

void KvCache::release() {
  if (base_) munmap(base_, bytes_);
  base_ = nullptr;
  bytes_ = 0;
}

KvCache::KvCache(KvCache&& o) noexcept { *this = std::move(o); }

KvCache& KvCache::operator=(KvCache&& o) noexcept {
  if (this != &o) {
    release();
    n_ctx_ = o.n_ctx_;
    type_ = o.type_;
    n_layer_ = o.n_layer_;
    layout_ = o.layout_;
    base_ = std::exchange(o.base_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

size_t KvCache::bytes_per_position() const {
  return static_cast<size_t>(n_layer_) * static_cast<size_t>(layout_.elements_per_position()) * elem_size(type_);
}

KvLayerView KvCache::layer(uint32_t i) const {
  // Layout: for each layer, K for all positions, then V for all positions (none with v_in_k).
  KvLayerView v;
  v.type = type_;
  v.n_ctx = n_ctx_;
  v.n_head_kv = static_cast<int32_t>(layout_.n_head_kv);
  v.k_dim = static_cast<int32_t>(layout_.k_dim);
  v.v_dim = static_cast<int32_t>(layout_.v_dim);
  v.v_in_k = layout_.v_in_k;
  const size_t k_plane = static_cast<size_t>(n_ctx_) * static_cast<size_t>(v.k_row()) * elem_size(type_);
  const size_t v_plane = v.v_in_k ? 0 : static_cast<size_t>(n_ctx_) * static_cast<size_t>(v.v_row()) * elem_size(type_);
  std::byte* base = base_ + (k_plane + v_plane) * i;
  v.k = base;
  v.v = v.v_in_k ? nullptr : base + k_plane;
  return v;
}

void KvCache::copy_prefix_from(const KvCache& other, int32_t n) {
  assert(other.type_ == type_ && other.n_layer_ == n_layer_ && n <= n_ctx_ && n <= other.n_ctx_);
  for (uint32_t l = 0; l < n_layer_; ++l) {
    const KvLayerView src = other.layer(l), dst = layer(l);
    std::memcpy(dst.k, src.k, static_cast<size_t>(src.k_row()) * elem_size(type_) * static_cast<size_t>(n));
    if (!src.v_in_k)
      std::memcpy(dst.v, src.v, static_cast<size_t>(src.v_row()) * elem_size(type_) * static_cast<size_t>(n));
  }
}

}  // namespace scout
