// Matrix x matrix kernels for reading prompts: a tile of weight rows is repacked once into a
// small scratch buffer (never the model: the file stays mapped as it is) in the order the SIMD
// units want, then multiplied with every activation row of the batch.
//
// For Q8_0 weights with AVX-512 VNNI a tile is 16 rows, transposed so that one 512-bit register
// holds 4 consecutive levels of each of the 16 rows: one vpdpbusd then adds 64 products, 4 per
// row, against 4 levels of one token broadcast to all lanes. The activations are stored as
// level + 128 (vpdpbusd multiplies unsigned by signed bytes) and the 128 * sum(weights) that
// this adds is subtracted through the packed tile. Integer block sums are exact; per row the
// float work is, block by block, acc = fma(w_scale * act_scale, (float)block_sum, acc) -- one
// rounding order, the same for every thread count and batch split. It is not the order of
// vec_dot (lane-wise partial sums), so a prompt token's logits may differ from those of the
// same token decoded alone in the last bits; tests/kernels/test_gemm.cpp pins the order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_types.h"

namespace scout {

struct GemmKernel {
  int tile_rows;  // weight rows per packed tile
  // Bytes of one activation row of n elements, and its encoding from floats.
  size_t (*act_row_bytes)(int64_t n);
  void (*quantize_act)(const float* x, void* act_row, int64_t n);
  // Bytes of a packed tile of n-element rows (the buffer must be 64-byte aligned).
  size_t (*tile_bytes)(int64_t n);
  // Packs weight rows rows[0 .. n_rows) (n_rows <= tile_rows; consecutive rows of row_bytes).
  void (*pack_tile)(const void* rows, size_t row_bytes, int n_rows, int64_t n, void* tile);
  // For t < n_act and j < n_rows: y[t][j] = (row j of the tile) · act[t].
  void (*tile_dot)(int64_t n, const void* tile, int n_rows, const void* const* act, int n_act, float* const* y);
};

// The kernel for weight_type at the active ISA level; nullptr where there is none (callers then
// use vec_dot row by row).
const GemmKernel* gemm_kernel(GgmlType weight_type);

}  // namespace scout
