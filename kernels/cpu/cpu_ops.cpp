#include "kernels/cpu/cpu_ops.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/quants.h"

namespace scout {
namespace {

// Elementwise ops below this many floats run on the calling thread: waking the pool costs more.
constexpr int64_t kParallelElementwise = 16384;
// Tokens per tile in matrix x matrix products: the weight rows of a chunk stay in L1 while the
// tile's activation rows (a few KB each) stream from L2.
constexpr int64_t kTokenTile = 32;

// Rows per chunk of a matrix x vector product: enough chunks for dynamic balancing (8 per
// thread), but at least 4 rows so the per-chunk overhead stays small.
int64_t row_grain(int64_t n_rows, int n_threads) {
  return std::max<int64_t>(4, n_rows / (static_cast<int64_t>(n_threads) * 8));
}

struct RowKernels {
  VecDotFn one;
  VecDotX4Fn four;  // may be nullptr
};

void dot_rows(RowKernels kernel, const WeightView& w, int64_t mat, int64_t row_begin, int64_t row_end,
              const std::byte* act, size_t act_row_bytes, const int32_t* act_rows, int64_t n_act,
              float* y, const int32_t* y_rows, int64_t y_stride, int64_t y_col0 = 0) {
  // Tiles over activations so each weight row is reused from L1 across a tile.
  for (int64_t t0 = 0; t0 < n_act; t0 += kTokenTile) {
    const int64_t t1 = std::min(n_act, t0 + kTokenTile);
    for (int64_t r = row_begin; r < row_end; ++r) {
      const void* wrow = w.row(mat, r);
      int64_t t = t0;
      if (kernel.four) {
        for (; t + 4 <= t1; t += 4) {
          const void* rows[4];
          float out[4];
          for (int j = 0; j < 4; ++j)
            rows[j] = act + static_cast<size_t>(act_rows ? act_rows[t + j] : t + j) * act_row_bytes;
          kernel.four(w.n_in, wrow, rows, out);
          for (int j = 0; j < 4; ++j) y[(y_rows ? y_rows[t + j] : t + j) * y_stride + r - y_col0] = out[j];
        }
      }
      for (; t < t1; ++t) {
        const int64_t a = act_rows ? act_rows[t] : t;
        const int64_t out = y_rows ? y_rows[t] : t;
        y[out * y_stride + r - y_col0] = kernel.one(w.n_in, wrow, act + static_cast<size_t>(a) * act_row_bytes);
      }
    }
  }
}

// The GEMM counterpart of dot_rows: weight rows [row_begin, row_end) of matrix `mat`, packed a
// tile at a time into `tile`, against the listed activation rows.
void gemm_rows(const GemmKernel& kernel, const WeightView& w, int64_t mat, int64_t row_begin, int64_t row_end,
               const std::byte* act, size_t act_row_bytes, const int32_t* act_rows, int64_t n_act, float* y,
               const int32_t* y_rows, int64_t y_stride, int64_t y_col0, void* tile) {
  constexpr int64_t kBatch = 64;
  const void* acts[kBatch];
  float* outs[kBatch];
  for (int64_t r0 = row_begin; r0 < row_end; r0 += kernel.tile_rows) {
    const int n_rows = static_cast<int>(std::min<int64_t>(kernel.tile_rows, row_end - r0));
    kernel.pack_tile(w.row(mat, r0), w.row_bytes, n_rows, w.n_in, tile);
    for (int64_t t0 = 0; t0 < n_act; t0 += kBatch) {
      const int64_t count = std::min(kBatch, n_act - t0);
      for (int64_t i = 0; i < count; ++i) {
        const int64_t t = t0 + i;
        acts[i] = act + static_cast<size_t>(act_rows ? act_rows[t] : t) * act_row_bytes;
        outs[i] = y + (y_rows ? y_rows[t] : t) * y_stride + r0 - y_col0;
      }
      kernel.tile_dot(w.n_in, tile, n_rows, acts, static_cast<int>(count), outs);
    }
  }
}

// y[t][0..width) = sum over j < k of weights[t*k + j] * slots[t*k + j][0..width), in slot order
// as ((w0*s0 + w1*s1) + w2*s2) + ...; slots rows are `width` floats, y rows y_stride apart.
void sum_slots(const float* slots, int64_t width, const float* weights, int64_t n_tokens, int32_t k, float* y,
               int64_t y_stride) {
  for (int64_t t = 0; t < n_tokens; ++t) {
    float* yt = y + t * y_stride;
    for (int32_t j = 0; j < k; ++j) {
      const float wj = weights[t * k + j];
      const float* p = slots + (t * k + j) * width;
      if (j == 0) {
        for (int64_t r = 0; r < width; ++r) yt[r] = p[r] * wj;
      } else {
        for (int64_t r = 0; r < width; ++r) yt[r] += p[r] * wj;
      }
    }
  }
}

float rope_yarn_ramp(float low, float high, int64_t i0) {
  const float y = (static_cast<float>(i0 / 2) - low) / std::max(0.001f, high - low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

// cos/sin pairs for one position, computed exactly as ggml's rope cache (same float operations
// in the same order) so positions agree with llama.cpp to the last bit where the libm does.
void rope_cache(const RopeConfig& c, int32_t pos, const float corr_dims[2], float* cache) {
  const float theta_scale = std::pow(c.freq_base, -2.0f / static_cast<float>(c.n_dims));
  float theta = static_cast<float>(pos);
  for (int64_t i0 = 0; i0 < c.n_dims; i0 += 2) {
    const float ff = c.freq_factors ? c.freq_factors[i0 / 2] : 1.0f;
    const float theta_extrap = theta / ff;
    const float theta_interp = c.freq_scale * theta_extrap;
    float t = theta_interp;
    float mscale = c.attn_factor;
    if (c.ext_factor != 0.0f) {
      const float ramp_mix = rope_yarn_ramp(corr_dims[0], corr_dims[1], i0) * c.ext_factor;
      t = theta_interp * (1 - ramp_mix) + theta_extrap * ramp_mix;
      mscale *= 1.0f + 0.1f * std::log(1.0f / c.freq_scale);
    }
    cache[i0] = std::cos(t) * mscale;
    cache[i0 + 1] = std::sin(t) * mscale;
    theta *= theta_scale;
  }
}

void rope_corr_dims(const RopeConfig& c, float dims[2]) {
  auto corr_dim = [&](float n_rot) {
    return static_cast<float>(c.n_dims) *
           std::log(static_cast<float>(c.n_ctx_orig) / (n_rot * 2 * static_cast<float>(M_PI))) /
           (2 * std::log(c.freq_base));
  };
  if (c.n_ctx_orig <= 0) {
    dims[0] = 0;
    dims[1] = 0;
    return;
  }
  dims[0] = std::max(0.0f, std::floor(corr_dim(c.beta_fast)));
  dims[1] = std::min(static_cast<float>(c.n_dims - 1), std::ceil(corr_dim(c.beta_slow)));
}

}  // namespace

CpuOps::CpuOps(int n_threads)
    : pool_(n_threads), thread_scratch_(static_cast<size_t>(pool_.size())), thread_tiles_(static_cast<size_t>(pool_.size())) {}

const void* CpuOps::prepare_activations(GgmlType weight_type, const float* x, int64_t n_rows, int64_t n,
                                        size_t& row_bytes, const GemmKernel* gemm) {
  const GgmlType act_type = vec_dot_act_type(weight_type);
  row_bytes = gemm ? gemm->act_row_bytes(n) : ggml_row_size(act_type, n);
  if (!gemm && act_type == GgmlType::f32) return x;
  const size_t need = row_bytes * static_cast<size_t>(n_rows);
  if (act_buffer_.size() < need) act_buffer_.resize(need);
  std::byte* out = act_buffer_.data();
  const size_t rb = row_bytes;
  pool_.parallel_for(n_rows, std::max<int64_t>(1, n_rows / (pool_.size() * 4)), [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; ++r) {
      if (gemm) {
        gemm->quantize_act(x + r * n, out + static_cast<size_t>(r) * rb, n);
      } else {
        quantize_row_act(weight_type, x + r * n, out + static_cast<size_t>(r) * rb, n);
      }
    }
  });
  return out;
}

void* CpuOps::tile_scratch(int thread, size_t bytes) {
  auto& buffer = thread_tiles_[static_cast<size_t>(thread)];
  if (buffer.size() < bytes + 64) buffer.resize(bytes + 64);
  const auto address = reinterpret_cast<uintptr_t>(buffer.data());
  return buffer.data() + (64 - address % 64) % 64;
}

CpuOps::RowProduct CpuOps::prepare_product(const WeightView& w, const float* x, int64_t n_act_rows,
                                           int64_t n_tokens) {
  RowProduct p;
  p.gemm = n_tokens >= kGemmMinTokens ? gemm_kernel(w.type) : nullptr;
  p.one = vec_dot_kernel(w.type);
  p.four = vec_dot_x4_kernel(w.type);
  p.act = static_cast<const std::byte*>(prepare_activations(w.type, x, n_act_rows, w.n_in, p.act_row_bytes, p.gemm));
  p.tile_bytes = p.gemm ? p.gemm->tile_bytes(w.n_in) : 0;
  return p;
}

void CpuOps::product_rows(const RowProduct& p, const WeightView& w, int64_t mat, int64_t row_begin, int64_t row_end,
                          const int32_t* act_rows, int64_t n_act, float* y, const int32_t* y_rows, int64_t y_stride,
                          int64_t y_col0, int thread) {
  if (p.gemm) {
    gemm_rows(*p.gemm, w, mat, row_begin, row_end, p.act, p.act_row_bytes, act_rows, n_act, y, y_rows, y_stride,
              y_col0, tile_scratch(thread, p.tile_bytes));
  } else {
    dot_rows({p.one, p.four}, w, mat, row_begin, row_end, p.act, p.act_row_bytes, act_rows, n_act, y, y_rows, y_stride,
             y_col0);
  }
}

void CpuOps::matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y) {
  assert(w.n_mat == 1);
  const RowProduct product = prepare_product(w, x, n_tokens, n_tokens);
  const int64_t grain = product.grain(row_grain(w.n_out, pool_.size()));
  pool_.parallel_for(w.n_out, grain, [&](int64_t b, int64_t e, int thread) {
    product_rows(product, w, 0, b, e, nullptr, n_tokens, y, nullptr, w.n_out, 0, thread);
  });
}

void CpuOps::expert_matmul(const WeightView& w, const float* x, bool x_per_slot, int64_t n_tokens, int32_t k,
                           const int32_t* experts, float* y) {
  const int64_t n_pairs = n_tokens * k;
  const RowProduct product = prepare_product(w, x, x_per_slot ? n_pairs : n_tokens, n_tokens);

  group_pairs_by_expert(experts, n_pairs, k, w.n_mat, x_per_slot);
  const std::vector<int64_t>& start = expert_start_;
  const int32_t* out_rows = pair_out();
  const int32_t* act_rows = pair_act();
  // One task per (used expert, chunk of rows).
  struct Task {
    int32_t expert;
    int32_t row_begin;
  };
  const int64_t grain = product.grain(row_grain(w.n_out, pool_.size()));
  std::vector<Task> tasks;
  for (int64_t e = 0; e < w.n_mat; ++e) {
    if (start[e] == start[e + 1]) continue;
    for (int64_t r = 0; r < w.n_out; r += grain) tasks.push_back({static_cast<int32_t>(e), static_cast<int32_t>(r)});
  }
  pool_.parallel_for(static_cast<int64_t>(tasks.size()), 1, [&](int64_t b, int64_t end, int thread) {
    for (int64_t i = b; i < end; ++i) {
      const Task& task = tasks[static_cast<size_t>(i)];
      const int64_t first = start[task.expert];
      const int64_t count = start[task.expert + 1] - first;
      const int64_t row_end = std::min<int64_t>(w.n_out, task.row_begin + grain);
      product_rows(product, w, task.expert, task.row_begin, row_end, act_rows + first, count, y, out_rows + first,
                   w.n_out, 0, thread);
    }
  });
}

void CpuOps::group_pairs_by_expert(const int32_t* experts, int64_t n_pairs, int32_t k, int64_t n_mat,
                                   bool x_per_slot) {
  // Counting sort of the pairs by expert.
  expert_start_.assign(static_cast<size_t>(n_mat) + 1, 0);
  for (int64_t p = 0; p < n_pairs; ++p) {
    assert(experts[p] >= 0 && experts[p] < n_mat);
    ++expert_start_[static_cast<size_t>(experts[p]) + 1];
  }
  for (int64_t e = 0; e < n_mat; ++e) expert_start_[e + 1] += expert_start_[e];
  pair_buffer_.resize(static_cast<size_t>(2 * n_pairs));
  int32_t* out_rows = pair_buffer_.data();
  int32_t* act_rows = pair_buffer_.data() + n_pairs;
  expert_fill_.assign(expert_start_.begin(), expert_start_.end() - 1);
  for (int64_t p = 0; p < n_pairs; ++p) {
    const int64_t slot = expert_fill_[static_cast<size_t>(experts[p])]++;
    out_rows[slot] = static_cast<int32_t>(p);
    act_rows[slot] = static_cast<int32_t>(x_per_slot ? p : p / k);
  }
}

void CpuOps::expert_matmul_weighted(const WeightView& w, const float* x, int64_t n_tokens, int32_t k,
                                    const int32_t* experts, const float* weights, float* y) {
  const int64_t n_pairs = n_tokens * k;
  constexpr int64_t kScratchFloats = kSlotBufferFloats;
  if (n_pairs * w.n_out <= kScratchFloats) {
    // Decoding: all per-slot rows fit a small buffer. expert_matmul's tasks stream each
    // expert's rows front to back, which the prefetchers follow better than row blocks that
    // hop between experts.
    if (slot_buffer_.size() < static_cast<size_t>(n_pairs * w.n_out)) slot_buffer_.resize(static_cast<size_t>(n_pairs * w.n_out));
    expert_matmul(w, x, true, n_tokens, k, experts, slot_buffer_.data());
    sum_slots(slot_buffer_.data(), w.n_out, weights, n_tokens, k, y, w.n_out);
    return;
  }
  const RowProduct product = prepare_product(w, x, n_pairs, n_tokens);
  group_pairs_by_expert(experts, n_pairs, k, w.n_mat, true);
  const std::vector<int64_t>& start = expert_start_;
  const int32_t* out_rows = pair_out();
  const int32_t* act_rows = pair_act();

  // One task per block of output rows, over every used expert: the block's projections of all
  // pairs go to a per-thread scratch of n_pairs x block floats (at most 2 MB) and are weighted
  // and summed from there, so memory grows with the block, not with n_out.
  const int64_t block = product.grain(
      std::max<int64_t>(1, std::min(row_grain(w.n_out, pool_.size()), kScratchFloats / std::max<int64_t>(1, n_pairs))));
  const int64_t n_blocks = (w.n_out + block - 1) / block;
  pool_.parallel_for(n_blocks, 1, [&](int64_t b, int64_t end, int thread) {
    auto& scratch = thread_scratch_[static_cast<size_t>(thread)];
    if (scratch.size() < static_cast<size_t>(n_pairs * block)) scratch.resize(static_cast<size_t>(n_pairs * block));
    for (int64_t i = b; i < end; ++i) {
      const int64_t r0 = i * block, r1 = std::min(w.n_out, r0 + block), width = r1 - r0;
      for (int64_t e = 0; e < w.n_mat; ++e) {
        const int64_t first = start[e], count = start[e + 1] - first;
        if (count == 0) continue;
        product_rows(product, w, e, r0, r1, act_rows + first, count, scratch.data(), out_rows + first, width, r0,
                     thread);
      }
      sum_slots(scratch.data(), width, weights, n_tokens, k, y + r0, w.n_out);
    }
  });
}

void CpuOps::get_rows(const WeightView& table, const int32_t* ids, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) dequantize_row(table.type, table.row(0, ids[i]), out + i * table.n_in, table.n_in);
}

void CpuOps::rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* y) {
  auto rows = [&](int64_t b, int64_t e, int) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * n;
      float* yr = y + r * n;
      double sum = 0.0;  // as ggml: squares summed in double
      for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i] * xr[i]);
      const float mean = static_cast<float>(sum / static_cast<double>(n));
      const float scale = 1.0f / std::sqrt(mean + eps);
      for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] * scale) * weight[i];
    }
  };
  if (n_rows * n < kParallelElementwise) {
    rows(0, n_rows, 0);
  } else {
    pool_.parallel_for(n_rows, std::max<int64_t>(1, n_rows / (pool_.size() * 4)), rows);
  }
}

void CpuOps::add_bias(float* x, const float* bias, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t i = 0; i < n; ++i) x[r * n + i] += bias[i];
}

void CpuOps::add(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void CpuOps::silu_mul(float* gate, const float* up, int64_t n) {
  auto range = [&](int64_t b, int64_t e, int) {
    for (int64_t i = b; i < e; ++i) {
      const float g = gate[i];
      gate[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
  };
  if (n < kParallelElementwise) {
    range(0, n, 0);
  } else {
    pool_.parallel_for(n, std::max<int64_t>(1024, n / (pool_.size() * 4)), range);
  }
}

void CpuOps::rope(float* x, int64_t n_tokens, int32_t n_heads, int32_t head_dim, const int32_t* positions,
                  const RopeConfig& config) {
  float corr_dims[2];
  rope_corr_dims(config, corr_dims);
  const int32_t n_dims = config.n_dims;
  auto tokens = [&](int64_t b, int64_t e, int thread) {
    auto& cache = thread_scratch_[static_cast<size_t>(thread)];
    if (cache.size() < static_cast<size_t>(n_dims)) cache.resize(static_cast<size_t>(n_dims));
    for (int64_t t = b; t < e; ++t) {
      rope_cache(config, positions[t], corr_dims, cache.data());
      for (int32_t h = 0; h < n_heads; ++h) {
        float* v = x + (t * n_heads + h) * head_dim;
        if (config.neox) {
          const int32_t half = n_dims / 2;
          for (int32_t i = 0; i < half; ++i) {
            const float c = cache[2 * i], s = cache[2 * i + 1];
            const float x0 = v[i], x1 = v[i + half];
            v[i] = x0 * c - x1 * s;
            v[i + half] = x0 * s + x1 * c;
          }
        } else {
          for (int32_t i = 0; i < n_dims; i += 2) {
            const float c = cache[i], s = cache[i + 1];
            const float x0 = v[i], x1 = v[i + 1];
            v[i] = x0 * c - x1 * s;
            v[i + 1] = x0 * s + x1 * c;
          }
        }
      }
    }
  };
  if (n_tokens < 4) {
    tokens(0, n_tokens, 0);
  } else {
    pool_.parallel_for(n_tokens, std::max<int64_t>(1, n_tokens / (pool_.size() * 4)), tokens);
  }
}

void CpuOps::kv_store(const KvLayerView& cache, const float* k, const float* v, int64_t n_tokens,
                      const int32_t* positions) {
  const int64_t k_row = cache.k_row(), v_row = cache.v_row();
  const bool f16 = cache.type == KvType::f16;
  auto store = [&](void* plane, const float* src, int64_t row, int64_t pos) {
    if (f16) {
      fp32_to_fp16_row(src, static_cast<uint16_t*>(plane) + pos * row, row);
    } else {
      std::memcpy(static_cast<float*>(plane) + pos * row, src, sizeof(float) * static_cast<size_t>(row));
    }
  };
  for (int64_t t = 0; t < n_tokens; ++t) {
    const int64_t pos = positions[t];
    assert(pos >= 0 && pos < cache.n_ctx);
    store(cache.k, k + t * k_row, k_row, pos);
    if (!cache.v_in_k) store(cache.v, v + t * v_row, v_row, pos);
  }
}

void CpuOps::kv_read(const KvLayerView& cache, int32_t first, int32_t n, float* k) {
  assert(first >= 0 && n >= 0 && first + n <= cache.n_ctx);
  const int64_t row = cache.k_row();
  if (cache.type == KvType::f32) {
    std::memcpy(k, static_cast<const float*>(cache.k) + first * row, sizeof(float) * static_cast<size_t>(row * n));
    return;
  }
  for (int64_t p = 0; p < n; ++p)
    fp16_to_fp32_row(static_cast<const uint16_t*>(cache.k) + (first + p) * row, k + p * row, row);
}

void CpuOps::copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t n_rows,
                       int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r)
    std::memcpy(dst + r * dst_stride, src + r * src_stride, sizeof(float) * static_cast<size_t>(n));
}

void CpuOps::attention(const float* q, int64_t n_tokens, int32_t n_head, const int32_t* positions,
                       const KvLayerView& cache, float scale, float* out) {
  const int32_t k_dim = cache.k_dim, v_dim = cache.v_dim;
  const int32_t group = n_head / cache.n_head_kv;
  const int64_t k_row = cache.k_row(), v_row = cache.v_in_k ? k_row : cache.v_row();
  const bool f16 = cache.type == KvType::f16;
  const VecDotFn dot = vec_dot_kernel(GgmlType::f32);
  const auto axpy = axpy_kernel();
  // Tasks are (query block, KV head, slice of its query heads): the block's K and V rows are
  // converted to F32 once per task and shared by its queries and by the query heads of the
  // slice (GQA). The group is sliced only when there would be too few tasks to occupy the
  // threads: decoding one token with MLA's single latent head is otherwise one task.
  constexpr int64_t kQueryBlock = 16;
  const int64_t n_blocks = (n_tokens + kQueryBlock - 1) / kQueryBlock;
  const int64_t coarse_tasks = n_blocks * cache.n_head_kv;
  const int64_t want_tasks = 2 * static_cast<int64_t>(pool_.size());
  const int32_t n_slices = coarse_tasks >= want_tasks
                               ? 1
                               : static_cast<int32_t>(std::min<int64_t>(group, (want_tasks + coarse_tasks - 1) / coarse_tasks));
  const int32_t slice_heads = (group + n_slices - 1) / n_slices;
  auto tasks = [&](int64_t b, int64_t e, int thread) {
    auto& scratch = thread_scratch_[static_cast<size_t>(thread)];
    for (int64_t task = b; task < e; ++task) {
      const int32_t slice = static_cast<int32_t>(task % n_slices);
      const int32_t kvh = static_cast<int32_t>((task / n_slices) % cache.n_head_kv);
      const int64_t t0 = (task / n_slices / cache.n_head_kv) * kQueryBlock, t1 = std::min(n_tokens, t0 + kQueryBlock);
      const int32_t h0 = kvh * group + slice * slice_heads, h1 = std::min((kvh + 1) * group, h0 + slice_heads);
      if (h0 >= h1) continue;
      int64_t n_kv = 0;
      for (int64_t t = t0; t < t1; ++t) n_kv = std::max<int64_t>(n_kv, int64_t{positions[t]} + 1);
      const int64_t converted = f16 ? n_kv * (k_dim + (cache.v_in_k ? 0 : v_dim)) : 0;
      const size_t need = static_cast<size_t>(n_kv + v_dim + converted);
      if (scratch.size() < need) scratch.resize(need);
      float* scores = scratch.data();
      float* acc = scores + n_kv;
      const float* keys = static_cast<const float*>(cache.k) + kvh * k_dim;
      const float* values = cache.v_in_k ? keys : static_cast<const float*>(cache.v) + kvh * v_dim;
      int64_t k_stride = k_row, v_stride = v_row;
      if (f16) {
        float* k32 = acc + v_dim;
        float* v32 = k32 + n_kv * k_dim;
        for (int64_t p = 0; p < n_kv; ++p)
          fp16_to_fp32_row(static_cast<const uint16_t*>(cache.k) + p * k_row + kvh * k_dim, k32 + p * k_dim, k_dim);
        if (!cache.v_in_k)
          for (int64_t p = 0; p < n_kv; ++p)
            fp16_to_fp32_row(static_cast<const uint16_t*>(cache.v) + p * v_row + kvh * v_dim, v32 + p * v_dim, v_dim);
        keys = k32;
        k_stride = k_dim;
        values = cache.v_in_k ? k32 : v32;
        v_stride = cache.v_in_k ? k_dim : v_dim;
      }
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n_seen = int64_t{positions[t]} + 1;
        for (int32_t h = h0; h < h1; ++h) {
          const float* qh = q + (t * n_head + h) * k_dim;
          float max_score = -INFINITY;
          for (int64_t p = 0; p < n_seen; ++p) {
            scores[p] = dot(k_dim, keys + p * k_stride, qh) * scale;
            max_score = std::max(max_score, scores[p]);
          }
          double sum = 0.0;
          for (int64_t p = 0; p < n_seen; ++p) {
            scores[p] = std::exp(scores[p] - max_score);
            sum += scores[p];
          }
          const float inv = static_cast<float>(1.0 / sum);
          std::fill(acc, acc + v_dim, 0.0f);
          for (int64_t p = 0; p < n_seen; ++p) axpy(v_dim, scores[p], values + p * v_stride, acc);
          float* o = out + (t * n_head + h) * v_dim;
          for (int32_t d = 0; d < v_dim; ++d) o[d] = acc[d] * inv;
        }
      }
    }
  };
  pool_.parallel_for(n_blocks * cache.n_head_kv * n_slices, 1, tasks);
}

}  // namespace scout
