// Portable row conversions between float and fp16 (bit-exact as fp16.h describes). The bf16
// rows need no SIMD version of their own: the loops are a shift and an add that compilers
// vectorise at the baseline level.
#include "kernels/cpu/fp16.h"
#include "kernels/cpu/kernel_table.h"

namespace scout {
namespace cpu {

void fp16_to_fp32_row_portable(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_fp32(src[i]);
}

void fp32_to_fp16_row_portable(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

}  // namespace cpu

void bf16_to_fp32_row(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(src[i]);
}

void fp32_to_bf16_row(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = fp32_to_bf16(src[i]);
}

}  // namespace scout
