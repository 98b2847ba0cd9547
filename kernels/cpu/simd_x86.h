// Small AVX2 helpers shared by the x86 SIMD kernel files. Include only from files compiled with
// at least -mavx2 -mfma -mf16c.
//
// Everything here has internal linkage (unnamed namespace). Files built with different -m flags
// must not share inline functions with external linkage: the linker keeps one copy of each,
// possibly the AVX-512 build of it, and a lower level would then run instructions its CPU lacks.
// For the same reason the SIMD files do not call fp16.h or quant_blocks.h helpers.
#pragma once

// GCC 12's AVX-512 headers trip -Wuninitialized on their own _mm512_undefined_*() (GCC bug
// 105593, fixed in 12.3/13). The warnings point into the header, so ignoring them for the
// header's lines silences only those.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstdint>
#include <cstring>

namespace scout::cpu::x86 {
namespace {

// Software prefetch for streamed weight rows. At batch size 1 every weight byte comes from DRAM
// once; the hardware prefetchers alone leave the quantized loops waiting on memory (their
// per-byte work is larger than a plain read's, so fewer loads are in flight). Requesting the
// lines ~2 KiB ahead raised Q4_K/Q5_K from ~4.4 to ~6.3 GB/s single-threaded (AVX-512) on the
// development machine; 1-3 KiB all work, beyond 4 KiB the lines start being evicted unused.
// Prefetches past the end of a row land in the next row, which a matrix product reads next;
// prefetch never faults.
constexpr int kPrefetchAhead = 2048;

// Requests the cache lines covering [p + kPrefetchAhead, p + kPrefetchAhead + bytes).
inline void prefetch_ahead(const void* p, int bytes) {
  const char* c = static_cast<const char*>(p) + kPrefetchAhead;
  for (int off = 0; off < bytes; off += 64) _mm_prefetch(c + off, _MM_HINT_T0);
}

inline float hsum(__m128 v) {
  v = _mm_add_ps(v, _mm_movehl_ps(v, v));
  v = _mm_add_ss(v, _mm_movehdup_ps(v));
  return _mm_cvtss_f32(v);
}

inline float hsum(__m256 v) { return hsum(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1))); }

inline float fp16_scalar(uint16_t h) { return _cvtsh_ss(h); }

inline float bf16_scalar(uint16_t h) {
  return _mm_cvtss_f32(_mm_castsi128_ps(_mm_cvtsi32_si128(static_cast<int>(static_cast<uint32_t>(h) << 16))));
}

inline __m256i loadu256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i loadu128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

// Signed 8-bit dot product in 32-bit lanes: lane i = sum of w[4i..4i+3] * a[4i..4i+3].
// maddubs needs an unsigned operand, so the sign of w moves onto a. Exact as long as
// a != -128 (the activation quantizers never produce it) and pair sums fit int16
// (|w| <= 128, |a| <= 127: 2 * 128 * 127 < 32768).
inline __m256i dot_i8_avx2(__m256i w, __m256i a) {
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// The 12 packed scale bytes of Q4_K / Q5_K as 8 scales (bytes 0-7) and 8 mins (bytes 8-15),
// the same unpacking as unpack_k4_scales done on 32-bit words.
inline __m128i unpack_k4_scales_sse(const uint8_t* scales) {
  uint32_t u[3];
  std::memcpy(u, scales, 12);
  const uint32_t sc_lo = u[0] & 0x3F3F3F3Fu;
  const uint32_t mn_lo = u[1] & 0x3F3F3F3Fu;
  const uint32_t sc_hi = (u[2] & 0x0F0F0F0Fu) | (((u[0] >> 6) & 0x03030303u) << 4);
  const uint32_t mn_hi = ((u[2] >> 4) & 0x0F0F0F0Fu) | (((u[1] >> 6) & 0x03030303u) << 4);
  return _mm_set_epi32(static_cast<int>(mn_hi), static_cast<int>(mn_lo), static_cast<int>(sc_hi),
                       static_cast<int>(sc_lo));
}

// sum_j mins[j] * (bsums[2j] + bsums[2j+1]) as 4 int32 lanes, from the unpacked scale vector
// (mins in bytes 8-15) and the 16 int16 bsums of a Q8_K block.
inline __m128i k4_min_products(__m128i scales_mins, const int16_t* bsums) {
  const __m256i b = loadu256(bsums);
  const __m128i pair_sums = _mm_hadd_epi16(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
  const __m128i mins16 = _mm_cvtepu8_epi16(_mm_unpackhi_epi64(scales_mins, scales_mins));
  return _mm_madd_epi16(mins16, pair_sums);
}

}  // namespace
}  // namespace scout::cpu::x86
