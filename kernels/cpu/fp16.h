// Scalar conversions between float and the two 16-bit float formats of GGUF, bit for bit as ggml
// converts (ggml-impl.h), so that values Scout writes or reads agree with llama.cpp's:
//
//   fp16 -> fp32  exact for every pattern; a NaN keeps its payload and comes out quiet (what
//                 F16C's vcvtph2ps does, and what ggml's float-multiply formulation does).
//   fp32 -> fp16  round to nearest, ties to even; overflow gives inf; every NaN becomes the
//                 canonical quiet NaN 0x7E00 with the input's sign (ggml's rule; F16C would keep
//                 the payload instead, so the F16C row path patches NaNs, see convert_f16c.cpp).
//   bf16 -> fp32  the 16 bits become the top half of the float.
//   fp32 -> bf16  round to nearest, ties to even (subnormals kept, not flushed); a NaN keeps its
//                 top 16 bits with the quiet bit forced on.
//
// fp32 -> fp16/bf16 are integer bit manipulation; fp16 -> fp32 uses one exact float subtraction
// for subnormal halves. None depends on the rounding mode; fp16 -> fp32 of subnormals needs
// flush-to-zero off, which is the default and which Scout never changes.
#pragma once

#include <cstdint>
#include <cstring>

namespace scout {

inline uint32_t fp32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float fp32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Branch-free (selects only), so that loops over rows vectorise at the baseline ISA.
inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t em = h & 0x7FFFu;  // exponent and mantissa
  // Normal: rebias the exponent (15 -> 127) by adding 112 << 23. Inf/NaN (exponent 31) need
  // exponent 255: another 112 << 23. NaNs also get the quiet bit.
  uint32_t normal = (em << 13) + 0x38000000u;
  normal += em >= 0x7C00u ? 0x38000000u : 0u;
  normal |= em > 0x7C00u ? 0x00400000u : 0u;
  // Subnormal (exponent 0): em * 2^-24 = (2^-14 + em * 2^-24) - 2^-14, both exact in float.
  const float subnormal = fp32_from_bits(0x38800000u + (em << 13)) - fp32_from_bits(0x38800000u);
  return fp32_from_bits(sign | (em < 0x0400u ? fp32_bits(subnormal) : normal));
}

inline uint16_t fp32_to_fp16(float f) {
  const uint32_t bits = fp32_bits(f);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t abs = bits & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return sign | 0x7E00u;      // NaN
  if (abs >= 0x47800000u) return sign | 0x7C00u;     // >= 65536 (and inf): inf
  if (abs >= 0x38800000u) {                           // normal half (>= 2^-14)
    // Rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest even;
    // a carry out of the mantissa correctly bumps the exponent, up to inf at 65520.
    uint32_t r = abs - 0x38000000u;
    r += 0x0FFFu + ((r >> 13) & 1u);
    return static_cast<uint16_t>(sign | (r >> 13));
  }
  if (abs < 0x33000000u) return sign;                 // < 2^-25 (half of the smallest subnormal)
  // Subnormal half: units of 2^-24. m * 2^(e-150) / 2^-24 = m >> (126 - e).
  const uint32_t e = abs >> 23;
  const uint32_t m = (abs & 0x007FFFFFu) | 0x00800000u;
  const uint32_t shift = 126 - e;  // 14..24
  uint32_t q = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (q & 1u))) ++q;
  return static_cast<uint16_t>(sign | q);
}

inline float bf16_to_fp32(uint16_t h) { return fp32_from_bits(static_cast<uint32_t>(h) << 16); }

inline uint16_t fp32_to_bf16(float f) {
  const uint32_t u = fp32_bits(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace scout
