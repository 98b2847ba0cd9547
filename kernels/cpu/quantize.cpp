// Reference quantizers: float rows to Q8_0, Q4_0, Q4_K, Q5_K, Q6_K and Q8_K blocks, producing
// the same bytes as llama.cpp's quantize_row_*_ref (the functions it uses to write model files
// without an importance matrix).
//
// Being byte-identical is the point, so every float expression below is evaluated in the same
// order and precision as ggml evaluates it: float (not double) temporaries, the same
// association ((w * l) * x, not w * (l * x)), the same strict or non-strict comparisons when
// picking a maximum (they decide ties and NaN behaviour), rounding by nearest_int (ties to even)
// where ggml uses it and by roundf (ties away from zero) where ggml uses that, and sub-block
// levels left as the search produced them when a sub-block's scale rounds to zero. This file is
// compiled with -ffp-contract=off: an FMA would round differently.
//
// Not a hot path: model conversion and tests. Activations use these too (quantize_row_act),
// where the cost is one pass over a vector that is reused across every row of a matrix.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/kernel_table.h"
#include "kernels/cpu/quant_blocks.h"

namespace scout::cpu {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // below this a group's largest |x| counts as all-zero

// Round to nearest, ties to even, by adding 1.5 * 2^23: the float sum's rounding does the work
// and the integer sits in the low mantissa bits. Exact for |x| <= 2^22 - 1; outside that range
// (and for NaN) it returns the same garbage ggml's nearest_int does, which keeps even degenerate
// inputs byte-identical.
inline int nearest_int(float x) {
  const float biased = x + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &biased, sizeof bits);
  return (bits & 0x007FFFFF) - 0x00400000;
}

// Picks the value of largest magnitude; the first one wins ties (strict comparison).
inline float signed_absmax(const float* x, int n, float* amax_out) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  *amax_out = amax;
  return max;
}

// Scale search for symmetric quantization to levels [-nmax, nmax - 1] with weights x^2: start
// from the scale that maps the extreme value to -nmax, then try 18 nearby scales and keep the one
// with the best weighted least-squares fit. L receives levels shifted by +nmax. Returns the
// scale (x ~ scale * (L - nmax)).
float make_qx_quants_rmse1(int n, int nmax, const float* x, int8_t* L) {
  float amax;
  const float max = signed_absmax(x, n, &amax);
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.0f;
  }
  float iscale = static_cast<float>(-nmax) / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearest_int(iscale * x[i]);
    l = std::max(-nmax, std::min(nmax - 1, l));
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * static_cast<float>(l);
    suml2 += w * static_cast<float>(l) * static_cast<float>(l);
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * x[i]);
      l = std::max(-nmax, std::min(nmax - 1, l));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * static_cast<float>(l);
      suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) {
        const int l = nearest_int(iscale * x[i]);
        L[i] = static_cast<int8_t>(nmax + std::max(-nmax, std::min(nmax - 1, l)));
      }
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Scale-and-min search for asymmetric quantization to levels [0, nmax] (x ~ scale * L - min):
// start from the range [min(x, 0), max(x)], then for nstep + 1 candidate scales solve the
// weighted least-squares (scale, min) for the levels they induce and keep the one with the
// smallest weighted squared error. Returns the scale; *neg_min receives -min (>= 0).
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* neg_min,
                       uint8_t* Laux, float rmin, float rdelta, int nstep) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *neg_min = -min;
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    const float diff = scale * static_cast<float>(L[i]) + min - x[i];
    best_error += weights[i] * (diff * diff);
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = nearest_int(iscale * (x[i] - min));
      l = std::max(0, std::min(nmax, l));
      Laux[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      const float lf = static_cast<float>(l);
      sum_l += w * lf;
      sum_l2 += w * lf * lf;
      sum_xl += w * lf * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = this_scale * static_cast<float>(Laux[i]) + this_min - x[i];
        cur_error += weights[i] * (diff * diff);
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *neg_min = -min;
  return scale;
}

// Shared by Q4_K and Q5_K: per 32-element sub-block, a (scale, min) pair from make_qkx2_quants,
// quantized to 6 bits against the super-block's largest; then the levels recomputed against the
// 6-bit values actually stored. Writes d, dmin, scales[12] into the block fields and the levels
// (0..nmax) into L[256].
struct KQuantParams {
  int nmax;
  float rmin;
  float rdelta;
  int nstep;
};

void quantize_k_scales_and_levels(const float* x, const KQuantParams& p, uint16_t* d_out, uint16_t* dmin_out,
                                  uint8_t* scales_out, uint8_t* L) {
  float mins[kQK_K / 32];
  float scales[kQK_K / 32];
  float weights[32];
  uint8_t Laux[32];

  float max_scale = 0;  // after taking the min out, scales are never negative
  float max_min = 0;
  for (int j = 0; j < kQK_K / 32; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = make_qkx2_quants(32, p.nmax, xs, weights, L + 32 * j, &mins[j], Laux, p.rmin, p.rdelta, p.nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }

  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  std::memset(scales_out, 0, 12);
  for (int j = 0; j < kQK_K / 32; ++j) {
    // The int result is narrowed to a byte before the clamp, as ggml does.
    const uint8_t ls = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
    if (j < 4) {
      scales_out[j] = ls;
      scales_out[j + 4] = lm;
    } else {
      scales_out[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      scales_out[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      scales_out[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  *d_out = fp32_to_fp16(max_scale / 63.f);
  *dmin_out = fp32_to_fp16(max_min / 63.f);

  uint8_t sm[16];
  unpack_k4_scales(scales_out, sm);
  const float d_super = fp16_to_fp32(*d_out);
  const float dmin_super = fp16_to_fp32(*dmin_out);
  for (int j = 0; j < kQK_K / 32; ++j) {
    const float d = d_super * static_cast<float>(sm[j]);
    if (d == 0.0f) continue;  // keep the levels the search chose
    const float dm = dmin_super * static_cast<float>(sm[8 + j]);
    for (int i = 0; i < 32; ++i) {
      const int l = nearest_int((x[32 * j + i] + dm) / d);
      L[32 * j + i] = static_cast<uint8_t>(std::max(0, std::min(p.nmax, l)));
    }
  }
}

}  // namespace

void quantize_row_q8_0_ref(const float* x, void* y_out, int64_t n) {
  assert(n % kQK8_0 == 0);
  auto* y = static_cast<BlockQ8_0*>(y_out);
  for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) {
      const float ax = std::fabs(x[j]);
      amax = amax > ax ? amax : ax;  // ggml's MAX(): a NaN is skipped unless it comes last
    }
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

// Activations for Q8_0/Q4_0 weights, as llama.cpp quantizes them at run time on x86
// (ggml-cpu's quantize_row_q8_0 and its repacked 4x8 variant), which differs from the
// reference above in two ways: the multiplier is 127 / amax rather than 1 / (amax / 127), and
// values are rounded half to even (_mm256_round_ps) rather than away from zero. Matching it
// keeps Scout's Q8_0 products equal to llama.cpp's, so greedy decoding agrees token for token.
void quantize_row_q8_0_act(const float* x, void* y_out, int64_t n) {
  assert(n % kQK8_0 == 0);
  auto* y = static_cast<BlockQ8_0*>(y_out);
  for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    y[i].d = fp32_to_fp16(amax / 127.f);
    const float id = amax != 0.0f ? 127.f / amax : 0.0f;
    // nearbyint rounds half to even in the default rounding mode, which Scout never changes.
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
  }
}

void quantize_row_q4_0_ref(const float* x, void* y_out, int64_t n) {
  assert(n % kQK4_0 == 0);
  auto* y = static_cast<BlockQ4_0*>(y_out);
  for (int64_t i = 0; i < n / kQK4_0; ++i, x += kQK4_0) {
    float amax;
    const float max = signed_absmax(x, kQK4_0, &amax);
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      // x * id lies in [-8, 8]; + 8.5 and truncation round to the level, clamped to 15.
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(x[kQK4_0 / 2 + j] * id + 8.5f)));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q4_K_ref(const float* x, void* y_out, int64_t n) {
  assert(n % kQK_K == 0);
  auto* y = static_cast<BlockQ4_K*>(y_out);
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    quantize_k_scales_and_levels(x, {15, -1.f, 0.1f, 20}, &y[i].d, &y[i].dmin, y[i].scales, L);
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64, q += 32)
      for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

void quantize_row_q5_K_ref(const float* x, void* y_out, int64_t n) {
  assert(n % kQK_K == 0);
  auto* y = static_cast<BlockQ5_K*>(y_out);
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    quantize_k_scales_and_levels(x, {31, -0.5f, 0.1f, 15}, &y[i].d, &y[i].dmin, y[i].scales, L);
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, kQK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int c = 0; c < kQK_K; c += 64, ql += 32) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[c + j];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] |= m1;
        }
        int l2 = L[c + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          qh[j] |= m2;
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
    }
  }
}

void quantize_row_q6_K_ref(const float* x, void* y_out, int64_t n) {
  assert(n % kQK_K == 0);
  auto* y = static_cast<BlockQ6_K*>(y_out);
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max_scale = 0;
    float max_abs_scale = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float scale = make_qx_quants_rmse1(16, 32, x + 16 * ib, L + 16 * ib);
      scales[ib] = scale;
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof(BlockQ6_K));
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = fp32_to_fp16(1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib)
      y[i].scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));

    const float d_super = fp16_to_fp32(y[i].d);
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = d_super * static_cast<float>(y[i].scales[j]);
      if (d == 0.0f) continue;  // keep the levels the search chose
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
      }
    }

    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
        ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

void quantize_row_q8_K_ref(const float* x, void* y_out, int64_t n) {
  assert(n % kQK_K == 0);
  auto* y = static_cast<BlockQ8_K*>(y_out);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float amax;
    const float max = signed_absmax(x, kQK_K, &amax);
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    // -127 (not -128) keeps every level in [-127, 127]; SIMD dot products rely on that.
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK_K; ++j) y[i].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int k = 0; k < 16; ++k) sum += y[i].qs[16 * j + k];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

}  // namespace scout::cpu
