// fp16 row conversions with F16C (compiled with -mavx2 -mf16c; called only when cpuid reports
// F16C). vcvtph2ps agrees with fp16_to_fp32 on all 65536 inputs. vcvtps2ph with round-to-nearest
// agrees with fp32_to_fp16 except on NaN, where it keeps the payload while ggml writes the
// canonical 0x7E00: NaN lanes are patched to match. Both are independent of MXCSR's rounding
// mode (the rounding is given in the instruction) but not of DAZ, which Scout never sets.
#include <immintrin.h>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/kernel_table.h"

namespace scout::cpu {

void fp16_to_fp32_row_f16c(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

void fp32_to_fp16_row_f16c(const float* src, uint16_t* dst, int64_t n) {
  const __m256i sign_mask = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i canonical_nan = _mm256_set1_epi32(0x7E00);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(src + i);
    __m128i h = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256 is_nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    if (!_mm256_testz_ps(is_nan, is_nan)) {
      // sign | 0x7E00 in 32-bit lanes, narrowed to 16 bits (values fit, so packus is exact).
      const __m256i sign = _mm256_srli_epi32(_mm256_and_si256(_mm256_castps_si256(x), sign_mask), 16);
      const __m256i nan32 = _mm256_or_si256(sign, canonical_nan);
      const __m128i nan16 = _mm_packus_epi32(_mm256_castsi256_si128(nan32), _mm256_extracti128_si256(nan32, 1));
      const __m256i lanes = _mm256_castps_si256(is_nan);
      const __m128i mask16 = _mm_packs_epi32(_mm256_castsi256_si128(lanes), _mm256_extracti128_si256(lanes, 1));
      h = _mm_blendv_epi8(h, nan16, mask16);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
  }
  for (; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

}  // namespace scout::cpu
