// Q8_0 x Q8_0 tile products with AVX-512 VNNI (see gemm.h for the layout and the arithmetic).
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; called only when cpuid has them.
#include <cstring>

#include "kernels/cpu/gemm_tables.h"
#include "kernels/cpu/gemm_token_groups.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/simd_x86.h"

namespace scout::cpu {
namespace {

using namespace x86;

constexpr int kRows = 16;
constexpr int kGroups = kQK8_0 / 4;  // 4-byte groups per block

// One block of a packed tile: for group g, lane j holds levels 4g..4g+3 of row j.
struct alignas(64) PackedBlock {
  int32_t levels[kGroups][kRows];
  int32_t minus_offset[kRows];  // -128 * (sum of the block's levels), per row
  float scale[kRows];
};

size_t act_row_bytes(int64_t n) { return static_cast<size_t>(n) + static_cast<size_t>(n / kQK8_0) * sizeof(float); }

// Row layout: n bytes of level + 128, then the n/32 block scales as floats. The levels and
// scales are exactly those of quantize_row_q8_0_act.
void quantize_act(const float* x, void* act_row, int64_t n) {
  auto* levels = static_cast<uint8_t*>(act_row);
  auto* scales = reinterpret_cast<float*>(levels + n);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    BlockQ8_0 block;
    quantize_row_q8_0_act(x + b * kQK8_0, &block, kQK8_0);
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block.qs));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(levels + b * kQK8_0), _mm256_xor_si256(q, _mm256_set1_epi8(-128)));
    const float d = fp16_scalar(block.d);
    std::memcpy(scales + b, &d, sizeof d);
  }
}

size_t tile_bytes(int64_t n) { return static_cast<size_t>(n / kQK8_0) * sizeof(PackedBlock); }

void pack_tile(const void* rows, size_t row_bytes, int n_rows, int64_t n, void* tile) {
  auto* out = static_cast<PackedBlock*>(tile);
  // Rows past n_rows repeat row 0; their results are never stored.
  alignas(64) int32_t offsets[kRows];
  for (int j = 0; j < kRows; ++j) offsets[j] = static_cast<int32_t>((j < n_rows ? j : 0) * row_bytes);
  const __m512i index = _mm512_load_si512(offsets);
  const __m512i bias = _mm512_set1_epi8(-128);  // 0x80 as the unsigned operand: 128 * level
  const auto* base = static_cast<const char*>(rows);
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const char* block = base + b * sizeof(BlockQ8_0);
    __m512i offset = _mm512_setzero_si512();
    for (int g = 0; g < kGroups; ++g) {
      const __m512i levels = _mm512_i32gather_epi32(index, block + offsetof(BlockQ8_0, qs) + 4 * g, 1);
      _mm512_store_si512(out[b].levels[g], levels);
      offset = _mm512_dpbusd_epi32(offset, bias, levels);
    }
    _mm512_store_si512(out[b].minus_offset, _mm512_sub_epi32(_mm512_setzero_si512(), offset));
    // The fp16 scale is the block's first two bytes: gather 4, keep the low 16 bits.
    const __m512i d32 = _mm512_i32gather_epi32(index, block, 1);
    _mm512_store_ps(out[b].scale, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d32)));
  }
}

template <int T>
void tile_dot_group(int64_t n, const PackedBlock* tile, int n_rows, const void* const* act, float* const* y) {
  const uint8_t* levels[T];
  const float* scales[T];
  for (int t = 0; t < T; ++t) {
    levels[t] = static_cast<const uint8_t*>(act[t]);
    scales[t] = reinterpret_cast<const float*>(levels[t] + n);
  }
  __m512 acc[T];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / kQK8_0; ++b) {
    const PackedBlock& p = tile[b];
    const __m512i start = _mm512_load_si512(p.minus_offset);
    __m512i sum[T];
    for (auto& s : sum) s = start;
    for (int g = 0; g < kGroups; ++g) {
      const __m512i w = _mm512_load_si512(p.levels[g]);
      for (int t = 0; t < T; ++t) {
        int32_t a;
        std::memcpy(&a, levels[t] + b * kQK8_0 + 4 * g, sizeof a);
        sum[t] = _mm512_dpbusd_epi32(sum[t], _mm512_set1_epi32(a), w);
      }
    }
    const __m512 wd = _mm512_load_ps(p.scale);
    for (int t = 0; t < T; ++t)
      acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(wd, _mm512_set1_ps(scales[t][b])), _mm512_cvtepi32_ps(sum[t]), acc[t]);
  }
  const __mmask16 keep = static_cast<__mmask16>((1u << n_rows) - 1);
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y[t], keep, acc[t]);
}

void tile_dot(int64_t n, const void* tile_in, int n_rows, const void* const* act, int n_act, float* const* y) {
  const auto* tile = static_cast<const PackedBlock*>(tile_in);
  for_token_groups<8>(n_act, [&](auto size, int t) { tile_dot_group<size.value>(n, tile, n_rows, act + t, y + t); });
}

}  // namespace

const GemmKernel& gemm_q8_0_avx512_vnni() {
  static const GemmKernel kernel{kRows, act_row_bytes, quantize_act, tile_bytes, pack_tile, tile_dot};
  return kernel;
}

}  // namespace scout::cpu
