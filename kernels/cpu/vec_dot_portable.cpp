// Portable dot products: plain C++ for any target, and the reference the SIMD levels are tested
// against. Per block the integer products are summed exactly in int32 and scaled once in float,
// as the SIMD versions do; only the float accumulation order differs between levels.
//
// Integer ranges (why int32 never overflows): a Q8_K super-block sums at most
// 256 * 63 (6-bit scale) * 63 (level) * 127 < 2^30; Q8_0 blocks at most 32 * 128 * 127.
#include <cassert>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/cpu/quant_blocks.h"

namespace scout::cpu {
namespace {

// Eight independent partial sums: a chain the compiler may keep in vector registers without
// reassociating (which it must not do for floats), and a shorter rounding chain.
template <class Load>
float dot_f32_act(int64_t n, const float* a, Load load) {
  float s[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) s[k] += load(i + k) * a[i + k];
  for (int k = 0; i < n; ++i, ++k) s[k] += load(i) * a[i];
  return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

float vec_dot_f32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const float*>(w);
  return dot_f32_act(n, static_cast<const float*>(a), [x](int64_t i) { return x[i]; });
}

float vec_dot_f16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  return dot_f32_act(n, static_cast<const float*>(a), [x](int64_t i) { return fp16_to_fp32(x[i]); });
}

float vec_dot_bf16(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const uint16_t*>(w);
  return dot_f32_act(n, static_cast<const float*>(a), [x](int64_t i) { return bf16_to_fp32(x[i]); });
}

float vec_dot_q8_0(int64_t n, const void* w, const void* a) {
  assert(n % kQK8_0 == 0);
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < kQK8_0; ++j) isum += x[i].qs[j] * y[i].qs[j];
    sum += fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float vec_dot_q4_0(int64_t n, const void* w, const void* a) {
  assert(n % kQK4_0 == 0);
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    int32_t isum = 0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      isum += ((x[i].qs[j] & 0x0F) - 8) * y[i].qs[j];
      isum += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + kQK4_0 / 2];
    }
    sum += fp16_to_fp32(x[i].d) * fp16_to_fp32(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

// Sum over the 8 sub-blocks of 32 of m[j] * (sum of the activations in sub-block j).
inline int32_t k4_min_sum(const uint8_t* mins, const int16_t* bsums) {
  int32_t s = 0;
  for (int j = 0; j < 8; ++j) s += mins[j] * (bsums[2 * j] + bsums[2 * j + 1]);
  return s;
}

float vec_dot_q4_K(int64_t n, const void* w, const void* a) {
  assert(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ4_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t sm[16];
    unpack_k4_scales(x[i].scales, sm);
    int32_t isum = 0;
    for (int k = 0; k < 4; ++k) {
      const uint8_t* q = x[i].qs + 32 * k;
      const int8_t* a8 = y[i].qs + 64 * k;
      int32_t lo = 0, hi = 0;
      for (int l = 0; l < 32; ++l) {
        lo += (q[l] & 0x0F) * a8[l];
        hi += (q[l] >> 4) * a8[l + 32];
      }
      isum += sm[2 * k] * lo + sm[2 * k + 1] * hi;
    }
    const int32_t msum = k4_min_sum(sm + 8, y[i].bsums);
    sum += fp16_to_fp32(x[i].d) * y[i].d * static_cast<float>(isum) -
           fp16_to_fp32(x[i].dmin) * y[i].d * static_cast<float>(msum);
  }
  return sum;
}

float vec_dot_q5_K(int64_t n, const void* w, const void* a) {
  assert(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ5_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t sm[16];
    unpack_k4_scales(x[i].scales, sm);
    const uint8_t* qh = x[i].qh;
    int32_t isum = 0;
    for (int k = 0; k < 4; ++k) {
      const uint8_t* q = x[i].qs + 32 * k;
      const int8_t* a8 = y[i].qs + 64 * k;
      int32_t lo = 0, hi = 0;
      for (int l = 0; l < 32; ++l) {
        lo += ((q[l] & 0x0F) | (((qh[l] >> (2 * k)) & 1) << 4)) * a8[l];
        hi += ((q[l] >> 4) | (((qh[l] >> (2 * k + 1)) & 1) << 4)) * a8[l + 32];
      }
      isum += sm[2 * k] * lo + sm[2 * k + 1] * hi;
    }
    const int32_t msum = k4_min_sum(sm + 8, y[i].bsums);
    sum += fp16_to_fp32(x[i].d) * y[i].d * static_cast<float>(isum) -
           fp16_to_fp32(x[i].dmin) * y[i].d * static_cast<float>(msum);
  }
  return sum;
}

float vec_dot_q6_K(int64_t n, const void* w, const void* a) {
  assert(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t q[kQK_K];  // levels - 32, in element order
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    for (int half = 0; half < 2; ++half, ql += 64, qh += 32) {
      int8_t* qq = q + 128 * half;
      for (int l = 0; l < 32; ++l) {
        qq[l] = static_cast<int8_t>(((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32);
        qq[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
        qq[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        qq[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int32_t isum = 0;
    for (int s = 0; s < kQK_K / 16; ++s) {
      int32_t sub = 0;
      for (int l = 0; l < 16; ++l) sub += q[16 * s + l] * y[i].qs[16 * s + l];
      isum += x[i].scales[s] * sub;
    }
    sum += fp16_to_fp32(x[i].d) * y[i].d * static_cast<float>(isum);
  }
  return sum;
}

void axpy_f32(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace

const KernelTable& portable_kernels() {
  static const KernelTable table = {
      vec_dot_f32,  vec_dot_f16,  vec_dot_bf16, vec_dot_q8_0, vec_dot_q4_0,
      vec_dot_q4_K, vec_dot_q5_K, vec_dot_q6_K, fp16_to_fp32_row_portable, fp32_to_fp16_row_portable,
      nullptr,      nullptr,      nullptr,  // no x4 kernels at this level: callers loop
      axpy_f32,
  };
  return table;
}

}  // namespace scout::cpu
