// The CPU implementation of the op interface (kernels/ops.h): multithreaded over a ThreadPool,
// SIMD through the run-time-dispatched row kernels of quants.h.
#pragma once

#include <memory>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/quants.h"
#include "kernels/cpu/thread_pool.h"
#include "kernels/ops.h"

namespace scout {

class CpuOps final : public Ops {
 public:
  explicit CpuOps(int n_threads);

  // Products over at least this many tokens use the GEMM kernels (kernels/cpu/gemm.h) where the
  // weight type has one: packing a weight tile costs about as much as a few tokens' products.
  static constexpr int64_t kGemmMinTokens = 4;
  // expert_matmul_weighted keeps all per-slot rows when they fit this many floats (decoding);
  // larger batches go a block of output rows at a time.
  static constexpr int64_t kSlotBufferFloats = int64_t{1} << 19;

  int n_threads() const { return pool_.size(); }
  ThreadPool& pool() { return pool_; }

  void matmul(const WeightView& w, const float* x, int64_t n_tokens, float* y) override;
  void expert_matmul(const WeightView& w, const float* x, bool x_per_slot, int64_t n_tokens, int32_t k,
                     const int32_t* experts, float* y) override;
  void expert_matmul_weighted(const WeightView& w, const float* x, int64_t n_tokens, int32_t k,
                              const int32_t* experts, const float* weights, float* y) override;
  void get_rows(const WeightView& table, const int32_t* ids, int64_t n, float* out) override;
  void rms_norm(const float* x, const float* weight, int64_t n_rows, int64_t n, float eps, float* y) override;
  void add_bias(float* x, const float* bias, int64_t n_rows, int64_t n) override;
  void add(float* x, const float* y, int64_t n) override;
  void silu_mul(float* gate, const float* up, int64_t n) override;
  void rope(float* x, int64_t n_tokens, int32_t n_heads, int32_t head_dim, const int32_t* positions,
            const RopeConfig& config) override;
  void kv_store(const KvLayerView& cache, const float* k, const float* v, int64_t n_tokens,
                const int32_t* positions) override;
  void kv_read(const KvLayerView& cache, int32_t first, int32_t n, float* k) override;
  void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t dst_stride, int64_t n_rows,
                 int64_t n) override;
  void attention(const float* q, int64_t n_tokens, int32_t n_head, const int32_t* positions,
                 const KvLayerView& cache, float scale, float* out) override;

 private:
  // Activation rows of `x` in the type vec_dot needs for `weight_type`; returns the rows (x
  // itself when no conversion is needed) and their size in bytes.
  // With a GEMM kernel, the rows are in its activation layout instead.
  const void* prepare_activations(GgmlType weight_type, const float* x, int64_t n_rows, int64_t n,
                                  size_t& row_bytes, const GemmKernel* gemm = nullptr);
  // One product's activations, prepared once, and the row kernels that read them: the GEMM
  // tile kernel for batches of kGemmMinTokens or more where the weight type has one, else
  // vec_dot (four rows at a time where it can).
  struct RowProduct {
    const GemmKernel* gemm = nullptr;
    VecDotFn one = nullptr;
    VecDotX4Fn four = nullptr;
    const std::byte* act = nullptr;
    size_t act_row_bytes = 0;
    size_t tile_bytes = 0;
    // Rows per task: whole GEMM tiles when tiles are used.
    int64_t grain(int64_t rows) const {
      return gemm ? (rows + gemm->tile_rows - 1) / gemm->tile_rows * gemm->tile_rows : rows;
    }
  };
  RowProduct prepare_product(const WeightView& w, const float* x, int64_t n_act_rows, int64_t n_tokens);
  // Weight rows [row_begin, row_end) of matrix `mat` times the listed activation rows (all
  // n_act rows when act_rows is null); results to y[y_rows[t] * y_stride + r - y_col0].
  void product_rows(const RowProduct& p, const WeightView& w, int64_t mat, int64_t row_begin, int64_t row_end,
                    const int32_t* act_rows, int64_t n_act, float* y, const int32_t* y_rows, int64_t y_stride,
                    int64_t y_col0, int thread);

  // A 64-byte-aligned buffer of at least `bytes` for packed weight tiles, one per thread.
  void* tile_scratch(int thread, size_t bytes);

  // The (token, slot) pairs grouped by expert: pairs [start[e], start[e+1]) use expert e; for
  // each, pair_out() is the pair index t*k + j and pair_act() its activation row.
  void group_pairs_by_expert(const int32_t* experts, int64_t n_pairs, int32_t k, int64_t n_mat, bool x_per_slot);
  const int32_t* pair_out() const { return pair_buffer_.data(); }
  const int32_t* pair_act() const { return pair_buffer_.data() + pair_buffer_.size() / 2; }

  ThreadPool pool_;
  std::vector<std::byte> act_buffer_;
  std::vector<std::vector<float>> thread_scratch_;
  std::vector<std::vector<std::byte>> thread_tiles_;
  std::vector<float> slot_buffer_;
  std::vector<int32_t> pair_buffer_;
  std::vector<int64_t> expert_start_, expert_fill_;
};

}  // namespace scout
