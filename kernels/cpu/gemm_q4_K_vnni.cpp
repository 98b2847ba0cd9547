// Q4_K x Q8_K tile products with AVX-512 VNNI (see gemm.h for the scheme).
// Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; called only when cpuid has them.
//
// Per super-block of 256 and per row: x = d * sc[s] * q - dmin * m[s] for sub-block s (32
// elements, q in 0..15). Packed, one register holds 4 levels of each of 16 rows as unsigned
// bytes, so vpdpbusd takes the weights as its unsigned operand and the activations (signed
// Q8_K levels, broadcast) as the signed one. Per row and token:
//   block_sum = sum over s of sc[s] * (sum of q * a over sub-block s)   (exact int32)
//   min_sum   = sum over s of m[s] * (sum of a over sub-block s)        (exact int32)
//   acc = fma(d * a_scale, (float)block_sum, acc); acc = fnmadd(dmin * a_scale, (float)min_sum, acc)
// super-block after super-block.
#include <cstring>

#include "kernels/cpu/gemm_tables.h"
#include "kernels/cpu/gemm_token_groups.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/simd_x86.h"

namespace scout::cpu {
namespace {

using namespace x86;

constexpr int kRows = 16;
constexpr int kSub = kQK_K / 32;  // sub-blocks per super-block
constexpr int kGroups = 32 / 4;   // 4-level groups per sub-block

struct alignas(64) PackedBlock {
  int32_t levels[kSub][kGroups][kRows];  // 4 unsigned levels of each row per lane
  int32_t scales[kSub][kRows];
  int32_t min_pairs[kSub / 2][kRows];    // int16 pairs (m[2k], m[2k+1]) per row
  float d[kRows];
  float dmin[kRows];
};

// Activation super-block: Q8_K's levels and scale, with the sums per 32-element sub-block in
// int16 pairs for vpdpwssd against the min pairs.
struct ActBlock {
  int8_t qs[kQK_K];
  int16_t sub_sums[kSub];
  float d;
};
static_assert(sizeof(ActBlock) == kQK_K + 2 * kSub + 4);

size_t act_row_bytes(int64_t n) { return static_cast<size_t>(n / kQK_K) * sizeof(ActBlock); }

void quantize_act(const float* x, void* act_row, int64_t n) {
  auto* out = static_cast<ActBlock*>(act_row);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    BlockQ8_K block;
    quantize_row_q8_K_ref(x + b * kQK_K, &block, kQK_K);
    ActBlock a;
    std::memcpy(a.qs, block.qs, sizeof a.qs);
    for (int s = 0; s < kSub; ++s) a.sub_sums[s] = static_cast<int16_t>(block.bsums[2 * s] + block.bsums[2 * s + 1]);
    a.d = block.d;
    std::memcpy(out + b, &a, sizeof a);
  }
}

size_t tile_bytes(int64_t n) { return static_cast<size_t>(n / kQK_K) * sizeof(PackedBlock); }

// sc[0..7] and m[0..7] of a super-block (the 6-bit packing of ggml's Q4_K).
void scales_and_mins(const uint8_t* q, int32_t sc[kSub], int32_t m[kSub]) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = q[j] & 63;
    m[j] = q[j + 4] & 63;
    sc[j + 4] = (q[j + 8] & 0x0F) | ((q[j] >> 6) << 4);
    m[j + 4] = (q[j + 8] >> 4) | ((q[j + 4] >> 6) << 4);
  }
}

void pack_tile(const void* rows, size_t row_bytes, int n_rows, int64_t n, void* tile) {
  auto* out = static_cast<PackedBlock*>(tile);
  alignas(64) int32_t offsets[kRows];
  for (int j = 0; j < kRows; ++j) offsets[j] = static_cast<int32_t>((j < n_rows ? j : 0) * row_bytes);
  const __m512i index = _mm512_load_si512(offsets);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const auto* base = static_cast<const char*>(rows);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const char* block = base + b * sizeof(BlockQ4_K);
    PackedBlock& p = out[b];
    // Chunk k's 32 bytes hold sub-block 2k in the low nibbles and 2k+1 in the high ones.
    for (int k = 0; k < kSub / 2; ++k)
      for (int g = 0; g < kGroups; ++g) {
        const __m512i bytes = _mm512_i32gather_epi32(index, block + offsetof(BlockQ4_K, qs) + 32 * k + 4 * g, 1);
        _mm512_store_si512(p.levels[2 * k][g], _mm512_and_si512(bytes, low4));
        _mm512_store_si512(p.levels[2 * k + 1][g], _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low4));
      }
    for (int j = 0; j < kRows; ++j) {
      const auto* row = reinterpret_cast<const BlockQ4_K*>(base + (j < n_rows ? j : 0) * row_bytes) + b;
      int32_t sc[kSub], m[kSub];
      scales_and_mins(row->scales, sc, m);
      for (int s = 0; s < kSub; ++s) p.scales[s][j] = sc[s];
      for (int k = 0; k < kSub / 2; ++k) p.min_pairs[k][j] = (m[2 * k] & 0xFFFF) | (m[2 * k + 1] << 16);
      p.d[j] = fp16_scalar(row->d);
      p.dmin[j] = fp16_scalar(row->dmin);
    }
  }
}

template <int T>
void tile_dot_group(int64_t n, const PackedBlock* tile, int n_rows, const void* const* act, float* const* y) {
  const ActBlock* a[T];
  for (int t = 0; t < T; ++t) a[t] = static_cast<const ActBlock*>(act[t]);
  __m512 acc[T];
  for (auto& v : acc) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const PackedBlock& p = tile[b];
    __m512i block_sum[T], min_sum[T];
    for (int t = 0; t < T; ++t) {
      block_sum[t] = _mm512_setzero_si512();
      min_sum[t] = _mm512_setzero_si512();
    }
    for (int s = 0; s < kSub; ++s) {
      // Two partial sums per token halve the dependency chains of vpdpbusd.
      __m512i even[T], odd[T];
      for (int t = 0; t < T; ++t) {
        even[t] = _mm512_setzero_si512();
        odd[t] = _mm512_setzero_si512();
      }
      for (int g = 0; g < kGroups; g += 2) {
        const __m512i w0 = _mm512_load_si512(p.levels[s][g]);
        const __m512i w1 = _mm512_load_si512(p.levels[s][g + 1]);
        for (int t = 0; t < T; ++t) {
          int32_t a0, a1;
          std::memcpy(&a0, a[t][b].qs + 32 * s + 4 * g, sizeof a0);
          std::memcpy(&a1, a[t][b].qs + 32 * s + 4 * g + 4, sizeof a1);
          even[t] = _mm512_dpbusd_epi32(even[t], w0, _mm512_set1_epi32(a0));
          odd[t] = _mm512_dpbusd_epi32(odd[t], w1, _mm512_set1_epi32(a1));
        }
      }
      const __m512i sc = _mm512_load_si512(p.scales[s]);
      for (int t = 0; t < T; ++t)
        block_sum[t] = _mm512_add_epi32(block_sum[t], _mm512_mullo_epi32(_mm512_add_epi32(even[t], odd[t]), sc));
    }
    for (int k = 0; k < kSub / 2; ++k) {
      const __m512i m = _mm512_load_si512(p.min_pairs[k]);
      for (int t = 0; t < T; ++t) {
        int32_t pair;
        std::memcpy(&pair, a[t][b].sub_sums + 2 * k, sizeof pair);
        min_sum[t] = _mm512_dpwssd_epi32(min_sum[t], m, _mm512_set1_epi32(pair));
      }
    }
    const __m512 d = _mm512_load_ps(p.d), dmin = _mm512_load_ps(p.dmin);
    for (int t = 0; t < T; ++t) {
      const __m512 ad = _mm512_set1_ps(a[t][b].d);
      acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, ad), _mm512_cvtepi32_ps(block_sum[t]), acc[t]);
      acc[t] = _mm512_fnmadd_ps(_mm512_mul_ps(dmin, ad), _mm512_cvtepi32_ps(min_sum[t]), acc[t]);
    }
  }
  const __mmask16 keep = static_cast<__mmask16>((1u << n_rows) - 1);
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y[t], keep, acc[t]);
}

void tile_dot(int64_t n, const void* tile_in, int n_rows, const void* const* act, int n_act, float* const* y) {
  const auto* tile = static_cast<const PackedBlock*>(tile_in);
  for_token_groups<4>(n_act, [&](auto size, int t) { tile_dot_group<size.value>(n, tile, n_rows, act + t, y + t); });
}

}  // namespace

const GemmKernel& gemm_q4_K_avx512_vnni() {
  static const GemmKernel kernel{kRows, act_row_bytes, quantize_act, tile_bytes, pack_tile, tile_dot};
  return kernel;
}

}  // namespace scout::cpu
