// AVX2 dot products (compiled with -mavx2 -mfma -mf16c; used only when cpuid reports all
// three). Same structure as vec_dot_portable.cpp: exact int32 sums per block, one float FMA per
// block into vector accumulators, a horizontal sum at the end.
//
// Bottleneck: at batch size 1 a row is streamed once from DRAM, so a kernel only needs to decode
// faster than one core's share of memory bandwidth; the K-quant loops spend ~1 instruction per
// 4-8 weight bytes, which keeps them near that limit on one core (bench/bench_quants.cpp).
#include <cmath>

#include "kernels/cpu/kernel_table.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/simd_x86.h"

namespace scout::cpu {
namespace {

using namespace x86;

// Byte shuffle that broadcasts int16 lane `lo` of each 128-bit half into the low half and lane
// `hi` into the high half (lane indices within the 8 int16 of a half).
inline __m256i int16_lane_broadcast(int lo, int hi) {
  const short lo_bytes = static_cast<short>((2 * lo) | ((2 * lo + 1) << 8));
  const short hi_bytes = static_cast<short>((2 * hi) | ((2 * hi + 1) << 8));
  return _mm256_set_m128i(_mm_set1_epi16(hi_bytes), _mm_set1_epi16(lo_bytes));
}

// sum w[i] * a[i] for weights that load8 widens to 8 floats and load1 to one (the tail);
// kWeightBytes (bytes per weight element) sizes the prefetch.
template <int kWeightBytes, class Load8, class Load1>
float dot_f32_act(int64_t n, const void* weight, const float* a, Load8 load8, Load1 load1) {
  const auto* wbytes = static_cast<const char*>(weight);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    prefetch_ahead(wbytes + i * kWeightBytes, 32 * kWeightBytes);
    for (int k = 0; k < 4; ++k) acc[k] = _mm256_fmadd_ps(load8(i + 8 * k), _mm256_loadu_ps(a + i + 8 * k), acc[k]);
  }
  for (; i + 8 <= n; i += 8) acc[0] = _mm256_fmadd_ps(load8(i), _mm256_loadu_ps(a + i), acc[0]);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < n; ++i) sum += load1(i) * a[i];
  return sum;
}

inline __m256 bf16x8_to_fp32(__m128i h) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

float vec_dot_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  return dot_f32_act<4>(
      n, w, static_cast<const float*>(a), [x](int64_t i) { return _mm256_loadu_ps(x + i); },
      [x](int64_t i) { return x[i]; });
}

float vec_dot_f16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  return dot_f32_act<2>(
      n, w, static_cast<const float*>(a), [x](int64_t i) { return _mm256_cvtph_ps(loadu128(x + i)); },
      [x](int64_t i) { return fp16_scalar(x[i]); });
}

float vec_dot_bf16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  return dot_f32_act<2>(
      n, w, static_cast<const float*>(a), [x](int64_t i) { return bf16x8_to_fp32(loadu128(x + i)); },
      [x](int64_t i) { return bf16_scalar(x[i]); });
}

float vec_dot_q8_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const int64_t nb = n / kQK8_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    prefetch_ahead(x + i, 2 * static_cast<int>(sizeof(BlockQ8_0)));
    const __m256i p0 = dot_i8_avx2(loadu256(x[i].qs), loadu256(y[i].qs));
    const __m256i p1 = dot_i8_avx2(loadu256(x[i + 1].qs), loadu256(y[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fp16_scalar(x[i].d) * fp16_scalar(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(fp16_scalar(x[i + 1].d) * fp16_scalar(y[i + 1].d)),
                           _mm256_cvtepi32_ps(p1), acc1);
  }
  if (i < nb) {
    const __m256i p = dot_i8_avx2(loadu256(x[i].qs), loadu256(y[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fp16_scalar(x[i].d) * fp16_scalar(y[i].d)), _mm256_cvtepi32_ps(p), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

// 32 Q4_0 levels as signed bytes (q - 8) in element order.
inline __m256i q4_0_levels(const uint8_t* qs) {
  const __m128i q = loadu128(qs);
  const __m256i nibbles = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(q, 4), q), _mm256_set1_epi8(0x0F));
  return _mm256_sub_epi8(nibbles, _mm256_set1_epi8(8));
}

float vec_dot_q4_0(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  const int64_t nb = n / kQK4_0;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 2 <= nb; i += 2) {
    prefetch_ahead(x + i, 2 * static_cast<int>(sizeof(BlockQ4_0)));
    const __m256i p0 = dot_i8_avx2(q4_0_levels(x[i].qs), loadu256(y[i].qs));
    const __m256i p1 = dot_i8_avx2(q4_0_levels(x[i + 1].qs), loadu256(y[i + 1].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fp16_scalar(x[i].d) * fp16_scalar(y[i].d)), _mm256_cvtepi32_ps(p0), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_set1_ps(fp16_scalar(x[i + 1].d) * fp16_scalar(y[i + 1].d)),
                           _mm256_cvtepi32_ps(p1), acc1);
  }
  if (i < nb) {
    const __m256i p = dot_i8_avx2(q4_0_levels(x[i].qs), loadu256(y[i].qs));
    acc0 = _mm256_fmadd_ps(_mm256_set1_ps(fp16_scalar(x[i].d) * fp16_scalar(y[i].d)), _mm256_cvtepi32_ps(p), acc0);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

// Q4_K and Q5_K share everything but the fifth bit. Per 64-element chunk k: unsigned levels of
// sub-blocks 2k and 2k+1 times the activations (maddubs: |pair| <= 2 * 31 * 127), times their
// 6-bit scales (madd) into int32; the mins go through the activation sums (bsums).
template <bool kFifthBit, class Block>
float vec_dot_k4(int64_t n, const Block* x, const BlockQ8_K* y) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  __m128 acc_min = _mm_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    prefetch_ahead(x + i, sizeof(Block));
    const float d = fp16_scalar(x[i].d) * y[i].d;
    const float dmin = fp16_scalar(x[i].dmin) * y[i].d;
    const __m128i scales_mins = unpack_k4_scales_sse(x[i].scales);
    acc_min = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(k4_min_products(scales_mins, y[i].bsums)), acc_min);
    const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scales_mins));

    __m256i hbits = _mm256_setzero_si256();
    if constexpr (kFifthBit) hbits = loadu256(x[i].qh);
    __m256i isum = _mm256_setzero_si256();
    for (int k = 0; k < 4; ++k) {
      const __m256i q = loadu256(x[i].qs + 32 * k);
      __m256i lo = _mm256_and_si256(q, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
      if constexpr (kFifthBit) {
        // Bit 2k of qh[l] tops element l of the low half, bit 2k+1 the high half; hbits is
        // shifted right by 2 per chunk so the wanted bits are always bits 0 and 1.
        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hbits, one), 4));
        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hbits, 1), one), 4));
        hbits = _mm256_srli_epi16(hbits, 2);
      }
      const __m256i p_lo = _mm256_maddubs_epi16(lo, loadu256(y[i].qs + 64 * k));
      const __m256i p_hi = _mm256_maddubs_epi16(hi, loadu256(y[i].qs + 64 * k + 32));
      const __m256i s_lo = _mm256_shuffle_epi8(scales, int16_lane_broadcast(2 * k, 2 * k));
      const __m256i s_hi = _mm256_shuffle_epi8(scales, int16_lane_broadcast(2 * k + 1, 2 * k + 1));
      isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_madd_epi16(p_lo, s_lo), _mm256_madd_epi16(p_hi, s_hi)));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
  }
  return hsum(acc) - hsum(acc_min);
}

float vec_dot_q4_K(int64_t n, const void* w, const void* a) {
  return vec_dot_k4<false>(n, static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a));
}

float vec_dot_q5_K(int64_t n, const void* w, const void* a) {
  return vec_dot_k4<true>(n, static_cast<const BlockQ5_K*>(w), static_cast<const BlockQ8_K*>(a));
}

// Q6_K: unsigned levels 0..63 (maddubs: |pair| <= 2 * 63 * 127), the -32 offset applied once
// per block through the activation sums: sum sc * (q - 32) * a = sum sc * q * a - 32 sum sc * bsum.
float vec_dot_q6_K(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i m30 = _mm256_set1_epi8(0x30);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    prefetch_ahead(x + i, sizeof(BlockQ6_K));
    const float d = fp16_scalar(x[i].d) * y[i].d;
    const __m256i scales16 = _mm256_cvtepi8_epi16(loadu128(x[i].scales));
    const __m256i offset = _mm256_madd_epi16(loadu256(y[i].bsums), scales16);
    __m256i isum = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(offset, 5));
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* q8 = y[i].qs;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32, q8 += 128) {
      // The 8 scales of this half as int16, in both 128-bit lanes.
      const __m256i sc = half == 0 ? _mm256_permute2x128_si256(scales16, scales16, 0x00)
                                   : _mm256_permute2x128_si256(scales16, scales16, 0x11);
      const __m256i l0 = loadu256(ql);
      const __m256i l1 = loadu256(ql + 32);
      const __m256i h = loadu256(qh);
      const __m256i q[4] = {
          _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30)),
          _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                          _mm256_and_si256(_mm256_srli_epi16(h, 2), m30)),
      };
      for (int j = 0; j < 4; ++j) {
        // Elements 32j..32j+31 of this half: sub-blocks 2j (low lane) and 2j+1 (high lane).
        const __m256i p = _mm256_maddubs_epi16(q[j], loadu256(q8 + 32 * j));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, _mm256_shuffle_epi8(sc, int16_lane_broadcast(2 * j, 2 * j + 1))));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
  }
  return hsum(acc);
}

void axpy_f32(int64_t n, float a, const float* x, float* y) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] = std::fma(a, x[i], y[i]);
}

}  // namespace

const KernelTable& avx2_kernels() {
  static const KernelTable table = {
      vec_dot_f32,  vec_dot_f16,  vec_dot_bf16, vec_dot_q8_0,          vec_dot_q4_0,
      vec_dot_q4_K, vec_dot_q5_K, vec_dot_q6_K, fp16_to_fp32_row_f16c, fp32_to_fp16_row_f16c,
      nullptr,      nullptr,      nullptr,  // no x4 kernels at this level: callers loop
      axpy_f32,
  };
  return table;
}

}  // namespace scout::cpu
