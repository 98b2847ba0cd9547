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
    : n_ctx_(n_ctx), type_(type), n_layer_(hp.n_layer), n_head_kv_(static_cast<int32_t>(hp.n_head_kv)),
      head_dim_(static_cast<int32_t>(hp.head_dim)) {
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
    n_head_kv_ = o.n_head_kv_;
    head_dim_ = o.head_dim_;
    base_ = std::exchange(o.base_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

size_t KvCache::bytes_per_position() const {
  return 2 * static_cast<size_t>(n_layer_) * static_cast<size_t>(n_head_kv_) * static_cast<size_t>(head_dim_) *
         elem_size(type_);
}

KvLayerView KvCache::layer(uint32_t i) const {
  // Layout: for each layer, K for all positions, then V for all positions.
  const size_t plane = static_cast<size_t>(n_ctx_) * static_cast<size_t>(n_head_kv_) *
                       static_cast<size_t>(head_dim_) * elem_size(type_);
  KvLayerView v;
  v.type = type_;
  v.n_ctx = n_ctx_;
  v.n_head_kv = n_head_kv_;
  v.head_dim = head_dim_;
  v.k = base_ + 2 * plane * i;
  v.v = base_ + 2 * plane * i + plane;
  return v;
}

void KvCache::copy_prefix_from(const KvCache& other, int32_t n) {
  assert(other.type_ == type_ && other.n_layer_ == n_layer_ && n <= n_ctx_ && n <= other.n_ctx_);
  const size_t row = static_cast<size_t>(n_head_kv_) * static_cast<size_t>(head_dim_) * elem_size(type_);
  for (uint32_t l = 0; l < n_layer_; ++l) {
    const KvLayerView src = other.layer(l), dst = layer(l);
    std::memcpy(dst.k, src.k, row * static_cast<size_t>(n));
    std::memcpy(dst.v, src.v, row * static_cast<size_t>(n));
  }
}

}  // namespace scout
