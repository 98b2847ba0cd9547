// The public entry of kernels/cpu: type switches and run-time dispatch to the kernel table of
// the active ISA level.
#include "kernels/cpu/quants.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/kernel_table.h"

namespace scout {
namespace {

[[noreturn]] void unsupported(const char* function, GgmlType type) {
  std::fprintf(stderr, "scout: %s: type %s is not supported\n", function, ggml_type_name(type).data());
  std::abort();
}

const cpu::KernelTable* table_for(CpuIsa isa) {
  if (!cpu_isa_available(isa)) return nullptr;
  switch (isa) {
    case CpuIsa::portable: return &cpu::portable_kernels();
#if defined(SCOUT_X86_KERNELS)
    case CpuIsa::avx2: return &cpu::avx2_kernels();
    case CpuIsa::avx512:
      return cpu_features().avx512vnni ? &cpu::avx512_vnni_kernels() : &cpu::avx512_kernels();
#else
    default: return nullptr;
#endif
  }
  return nullptr;
}

const cpu::KernelTable& active_table() {
  const cpu::KernelTable* table = table_for(cpu_isa());
  assert(table != nullptr);  // cpu_isa() never exceeds what the CPU has
  return *table;
}

VecDotFn pick(const cpu::KernelTable& t, GgmlType type) {
  switch (type) {
    case GgmlType::f32: return t.vec_dot_f32;
    case GgmlType::f16: return t.vec_dot_f16;
    case GgmlType::bf16: return t.vec_dot_bf16;
    case GgmlType::q8_0: return t.vec_dot_q8_0;
    case GgmlType::q4_0: return t.vec_dot_q4_0;
    case GgmlType::q4_k: return t.vec_dot_q4_K;
    case GgmlType::q5_k: return t.vec_dot_q5_K;
    case GgmlType::q6_k: return t.vec_dot_q6_K;
    default: return nullptr;
  }
}

[[maybe_unused]] bool is_block_multiple(GgmlType type, int64_t n) {
  return n >= 0 && n % ggml_type_traits(type).block_size == 0;
}

}  // namespace

bool quants_weight_type(GgmlType type) { return pick(cpu::portable_kernels(), type) != nullptr; }

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  assert(is_block_multiple(type, n));
  switch (type) {
    case GgmlType::f32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return;
    case GgmlType::f16: fp16_to_fp32_row(static_cast<const uint16_t*>(src), dst, n); return;
    case GgmlType::bf16: bf16_to_fp32_row(static_cast<const uint16_t*>(src), dst, n); return;
    case GgmlType::q8_0: cpu::dequantize_row_q8_0(src, dst, n); return;
    case GgmlType::q4_0: cpu::dequantize_row_q4_0(src, dst, n); return;
    case GgmlType::q4_k: cpu::dequantize_row_q4_K(src, dst, n); return;
    case GgmlType::q5_k: cpu::dequantize_row_q5_K(src, dst, n); return;
    case GgmlType::q6_k: cpu::dequantize_row_q6_K(src, dst, n); return;
    case GgmlType::q8_k: cpu::dequantize_row_q8_K(src, dst, n); return;
    default: unsupported("dequantize_row", type);
  }
}

void quantize_row_ref(GgmlType type, const float* src, void* dst, int64_t n) {
  assert(is_block_multiple(type, n));
  switch (type) {
    case GgmlType::f32: std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); return;
    case GgmlType::f16: fp32_to_fp16_row(src, static_cast<uint16_t*>(dst), n); return;
    case GgmlType::bf16: fp32_to_bf16_row(src, static_cast<uint16_t*>(dst), n); return;
    case GgmlType::q8_0: cpu::quantize_row_q8_0_ref(src, dst, n); return;
    case GgmlType::q4_0: cpu::quantize_row_q4_0_ref(src, dst, n); return;
    case GgmlType::q4_k: cpu::quantize_row_q4_K_ref(src, dst, n); return;
    case GgmlType::q5_k: cpu::quantize_row_q5_K_ref(src, dst, n); return;
    case GgmlType::q6_k: cpu::quantize_row_q6_K_ref(src, dst, n); return;
    case GgmlType::q8_k: cpu::quantize_row_q8_K_ref(src, dst, n); return;
    default: unsupported("quantize_row_ref", type);
  }
}

GgmlType vec_dot_act_type(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::f32:
    case GgmlType::f16:
    case GgmlType::bf16: return GgmlType::f32;
    case GgmlType::q8_0:
    case GgmlType::q4_0: return GgmlType::q8_0;
    case GgmlType::q4_k:
    case GgmlType::q5_k:
    case GgmlType::q6_k: return GgmlType::q8_k;
    default: unsupported("vec_dot_act_type", weight_type);
  }
}

void quantize_row_act(GgmlType weight_type, const float* src, void* act, int64_t n) {
  const GgmlType act_type = vec_dot_act_type(weight_type);
  if (act_type == GgmlType::q8_0) {
    assert(is_block_multiple(act_type, n));
    cpu::quantize_row_q8_0_act(src, act, n);
    return;
  }
  quantize_row_ref(act_type, src, act, n);
}

float vec_dot(GgmlType weight_type, int64_t n, const void* weight_row, const void* act_row) {
  assert(is_block_multiple(weight_type, n));
  const VecDotFn fn = pick(active_table(), weight_type);
  if (fn == nullptr) unsupported("vec_dot", weight_type);
  return fn(n, weight_row, act_row);
}

VecDotFn vec_dot_kernel(GgmlType weight_type) { return pick(active_table(), weight_type); }

VecDotX4Fn vec_dot_x4_kernel(GgmlType weight_type) {
  const cpu::KernelTable& t = active_table();
  switch (weight_type) {
    case GgmlType::q8_0: return t.vec_dot_q8_0_x4;
    case GgmlType::q4_k: return t.vec_dot_q4_K_x4;
    case GgmlType::q6_k: return t.vec_dot_q6_K_x4;
    default: return nullptr;
  }
}

VecDotFn vec_dot_kernel(GgmlType weight_type, CpuIsa isa) {
  const cpu::KernelTable* table = table_for(isa);
  return table ? pick(*table, weight_type) : nullptr;
}

void axpy_f32(int64_t n, float a, const float* x, float* y) { active_table().axpy_f32(n, a, x, y); }

AxpyFn axpy_kernel() { return active_table().axpy_f32; }

void fp16_to_fp32_row(const uint16_t* src, float* dst, int64_t n) { active_table().fp16_to_fp32_row(src, dst, n); }

void fp32_to_fp16_row(const float* src, uint16_t* dst, int64_t n) { active_table().fp32_to_fp16_row(src, dst, n); }

}  // namespace scout
