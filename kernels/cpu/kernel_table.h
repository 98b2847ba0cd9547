// Internal to kernels/cpu: the per-level kernel tables that quants.cpp dispatches through, and
// the portable row functions the tables and the public API share.
//
// Each SIMD table lives in a file compiled with that level's -m flags (see CMakeLists.txt) and
// is only called after cpu_features() confirmed the level. Those files share no inline
// functions of external linkage with the rest (see simd_x86.h for why).
#pragma once

#include <cstdint>

#include "kernels/cpu/quants.h"

namespace scout::cpu {

using Fp16ToFp32RowFn = void (*)(const uint16_t* src, float* dst, int64_t n);
using Fp32ToFp16RowFn = void (*)(const float* src, uint16_t* dst, int64_t n);


struct KernelTable {
  VecDotFn vec_dot_f32;    // act F32
  VecDotFn vec_dot_f16;    // act F32
  VecDotFn vec_dot_bf16;   // act F32
  VecDotFn vec_dot_q8_0;   // act Q8_0
  VecDotFn vec_dot_q4_0;   // act Q8_0
  VecDotFn vec_dot_q4_K;   // act Q8_K
  VecDotFn vec_dot_q5_K;   // act Q8_K
  VecDotFn vec_dot_q6_K;   // act Q8_K
  Fp16ToFp32RowFn fp16_to_fp32_row;
  Fp32ToFp16RowFn fp32_to_fp16_row;
  VecDotX4Fn vec_dot_q8_0_x4;  // nullptr where the level has none
  VecDotX4Fn vec_dot_q4_K_x4;
  VecDotX4Fn vec_dot_q6_K_x4;
  AxpyFn axpy_f32;
};

const KernelTable& portable_kernels();
#if defined(SCOUT_X86_KERNELS)
const KernelTable& avx2_kernels();         // vec_dot_avx2.cpp
const KernelTable& avx512_kernels();       // vec_dot_avx512.cpp
const KernelTable& avx512_vnni_kernels();  // vec_dot_avx512_vnni.cpp
// F16C row conversions (fp16_rows_f16c.cpp), shared by the AVX2 and AVX-512 tables.
void fp16_to_fp32_row_f16c(const uint16_t* src, float* dst, int64_t n);
void fp32_to_fp16_row_f16c(const float* src, uint16_t* dst, int64_t n);
#endif

// Portable row conversions (fp16_rows.cpp).
void fp16_to_fp32_row_portable(const uint16_t* src, float* dst, int64_t n);
void fp32_to_fp16_row_portable(const float* src, uint16_t* dst, int64_t n);

// Reference quantizers (quantize.cpp); n is a multiple of the block size.
void quantize_row_q8_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q4_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q4_K_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_K_ref(const float* x, void* y, int64_t n);
void quantize_row_q6_K_ref(const float* x, void* y, int64_t n);
void quantize_row_q8_K_ref(const float* x, void* y, int64_t n);
// Q8_0 activations as llama.cpp's x86 run-time quantizer makes them (quantize.cpp).
void quantize_row_q8_0_act(const float* x, void* y, int64_t n);

// Dequantizers (dequantize.cpp).
void dequantize_row_q8_0(const void* x, float* y, int64_t n);
void dequantize_row_q4_0(const void* x, float* y, int64_t n);
void dequantize_row_q4_K(const void* x, float* y, int64_t n);
void dequantize_row_q5_K(const void* x, float* y, int64_t n);
void dequantize_row_q6_K(const void* x, float* y, int64_t n);
void dequantize_row_q8_K(const void* x, float* y, int64_t n);

}  // namespace scout::cpu
