// Dequantizers: blocks to floats, bit-identical with ggml's dequantize_row_* (same float
// expressions in the same order: d1 * q - m1 with d1 = d * sc rounded first, (d * sc) * q for
// Q6_K). Compiled with -ffp-contract=off so that no FMA changes a rounding.
//
// Used to load weights into float (tests, F32 fallbacks, the CUDA upload path); the hot path
// is vec_dot, which never materialises floats.
#include <cassert>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/cpu/quant_blocks.h"

namespace scout::cpu {

void dequantize_row_q8_0(const void* x_in, float* y, int64_t n) {
  assert(n % kQK8_0 == 0);
  const auto* x = static_cast<const BlockQ8_0*>(x_in);
  for (int64_t i = 0; i < n / kQK8_0; ++i, y += kQK8_0) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK8_0; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void dequantize_row_q4_0(const void* x_in, float* y, int64_t n) {
  assert(n % kQK4_0 == 0);
  const auto* x = static_cast<const BlockQ4_0*>(x_in);
  for (int64_t i = 0; i < n / kQK4_0; ++i, y += kQK4_0) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + kQK4_0 / 2] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_K(const void* x_in, float* y, int64_t n) {
  assert(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ4_K*>(x_in);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float dmin = fp16_to_fp32(x[i].dmin);
    uint8_t sm[16];
    unpack_k4_scales(x[i].scales, sm);
    const uint8_t* q = x[i].qs;
    for (int k = 0; k < kQK_K / 64; ++k, q += 32) {
      const float d1 = d * static_cast<float>(sm[2 * k]), m1 = dmin * static_cast<float>(sm[8 + 2 * k]);
      const float d2 = d * static_cast<float>(sm[2 * k + 1]), m2 = dmin * static_cast<float>(sm[8 + 2 * k + 1]);
      for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0F) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void dequantize_row_q5_K(const void* x_in, float* y, int64_t n) {
  assert(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ5_K*>(x_in);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const float dmin = fp16_to_fp32(x[i].dmin);
    uint8_t sm[16];
    unpack_k4_scales(x[i].scales, sm);
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    for (int k = 0; k < kQK_K / 64; ++k, ql += 32) {
      const float d1 = d * static_cast<float>(sm[2 * k]), m1 = dmin * static_cast<float>(sm[8 + 2 * k]);
      const float d2 = d * static_cast<float>(sm[2 * k + 1]), m2 = dmin * static_cast<float>(sm[8 + 2 * k + 1]);
      const int bit_lo = 2 * k, bit_hi = 2 * k + 1;
      for (int l = 0; l < 32; ++l)
        *y++ = d1 * static_cast<float>((ql[l] & 0x0F) + (((qh[l] >> bit_lo) & 1) << 4)) - m1;
      for (int l = 0; l < 32; ++l)
        *y++ = d2 * static_cast<float>((ql[l] >> 4) + (((qh[l] >> bit_hi) & 1) << 4)) - m2;
    }
  }
}

void dequantize_row_q6_K(const void* x_in, float* y, int64_t n) {
  assert(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ6_K*>(x_in);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = fp16_to_fp32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int half = 0; half < 2; ++half, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void dequantize_row_q8_K(const void* x_in, float* y, int64_t n) {
  assert(n % kQK_K == 0);
  const auto* x = static_cast<const BlockQ8_K*>(x_in);
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K)
    for (int j = 0; j < kQK_K; ++j) y[j] = x[i].d * static_cast<float>(x[i].qs[j]);
}

}  // namespace scout::cpu
