// Row-level math on GGUF tensor element types: conversion to and from float, and dot products
// of a weight row with an activation row. The public entry of kernels/cpu.
//
// Types: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K for weights; Q8_0 and Q8_K (never stored
// in files) for quantized activations. Block layouts are in quant_blocks.h.
//
// Bit-exactness with llama.cpp (tests/kernels/test_quant_bit_exact.cpp checks it against ggml):
//   dequantize_row    same floats as ggml's dequantize_row_* / *_to_fp32_row, bit for bit
//   quantize_row_ref  same bytes as ggml's quantize_row_*_ref / fp32_to_{fp16,bf16}_row(_ref),
//                     so files Scout writes are interchangeable with llama.cpp's
// Both need IEEE float semantics: no -ffast-math, no flush-to-zero/denormals-are-zero mode.
//
// Dot products (vec_dot) are not bit-exact with anything: integer parts are exact, the float
// accumulation order depends on the SIMD level. Tests bound them against a double reference.
//
// Preconditions, shared by every function here (asserted in debug builds):
//   - n is a multiple of the block size of the types involved (32 or 256; 1 for F32/F16/BF16),
//   - rows are aligned to their block's alignment (see quant_blocks.h) and do not overlap,
//   - the type is one of those listed for the function (others abort with a message).
// All functions are thread-safe: they keep no state besides the active ISA level.
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_features.h"
#include "kernels/ggml_types.h"

namespace scout {

// Whether `type` is a weight type these kernels handle (dequantize_row, vec_dot).
bool quants_weight_type(GgmlType type);

// dst[0..n) = the values the row of n elements at src encodes. Types: the weight types and Q8_K.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

// Encodes n floats as ggml's reference quantizer does, writing ggml_row_size(type, n) bytes.
// Types: the weight types and Q8_K. F32 is a copy.
void quantize_row_ref(GgmlType type, const float* src, void* dst, int64_t n);

// The activation type vec_dot expects for a weight type: Q8_0 for Q8_0 and Q4_0, Q8_K for the
// K-quants, F32 for F32, F16 and BF16.
GgmlType vec_dot_act_type(GgmlType weight_type);

// Encodes an activation row for vec_dot with `weight_type` rows: writes
// ggml_row_size(vec_dot_act_type(weight_type), n) bytes, the bytes llama.cpp's CPU back end
// computes for its activations on x86: for Q8_K those of quantize_row_ref; for Q8_0 those of
// ggml's run-time quantizer, which rounds half to even with the multiplier 127 / amax (the
// reference rounds away from zero with 1 / (amax / 127)), so a few values differ by one.
void quantize_row_act(GgmlType weight_type, const float* src, void* act, int64_t n);

// sum_i w[i] * a[i] over one row of n elements, at the active ISA level (cpu_isa()).
// act_row is in vec_dot_act_type(weight_type), as written by quantize_row_act. Quantized
// activations must lie in [-127, 127], which quantize_row_act guarantees.
//
// Performance: in a matrix x vector product each weight byte is used once per token, so at
// batch size 1 these kernels are bound by memory bandwidth (weight bytes streamed from DRAM);
// the activation row stays in L1/L2. The SIMD levels aim to decode faster than one core can
// stream, see bench/bench_quants.cpp for GB/s per type and level.
float vec_dot(GgmlType weight_type, int64_t n, const void* weight_row, const void* act_row);

// The kernel vec_dot would call, for callers that loop over many rows (fetch once, call per row).
using VecDotFn = float (*)(int64_t n, const void* weight_row, const void* act_row);
VecDotFn vec_dot_kernel(GgmlType weight_type);
// The kernel of a given level; nullptr when this CPU lacks the level (see cpu_isa_available)
// or weight_type is not a weight type.
VecDotFn vec_dot_kernel(GgmlType weight_type, CpuIsa isa);

// One weight row against four activation rows: out[j] = vec_dot(n, weight_row, act_rows[j]),
// bit-identical to four vec_dot calls, with the weight row's blocks decoded once for the four.
// Matrix x matrix products (prefill) use it to spend less time decoding weights per token.
using VecDotX4Fn = void (*)(int64_t n, const void* weight_row, const void* const* act_rows, float* out);
// nullptr where the active level has no such kernel for the type (callers then loop vec_dot).
VecDotX4Fn vec_dot_x4_kernel(GgmlType weight_type);

// y[i] += a * x[i] for i < n, at the active ISA level (fused multiply-add where it has one).
void axpy_f32(int64_t n, float a, const float* x, float* y);
// The kernel axpy_f32 would call, for callers in a loop.
using AxpyFn = void (*)(int64_t n, float a, const float* x, float* y);
AxpyFn axpy_kernel();

// Row conversions between float and fp16/bf16, bit-exact as fp16.h describes, at the active
// ISA level (F16C for fp16 where available).
void fp16_to_fp32_row(const uint16_t* src, float* dst, int64_t n);
void fp32_to_fp16_row(const float* src, uint16_t* dst, int64_t n);
void bf16_to_fp32_row(const uint16_t* src, float* dst, int64_t n);
void fp32_to_bf16_row(const float* src, uint16_t* dst, int64_t n);

}  // namespace scout
