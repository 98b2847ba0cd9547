#include "kernels/cpu/gemm.h"

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemm_tables.h"

namespace scout {

const GemmKernel* gemm_kernel(GgmlType weight_type) {
#if defined(SCOUT_X86_KERNELS)
  if (cpu_isa() == CpuIsa::avx512 && cpu_features().avx512vnni) {
    if (weight_type == GgmlType::q8_0) return &cpu::gemm_q8_0_avx512_vnni();
    if (weight_type == GgmlType::q4_k) return &cpu::gemm_q4_K_avx512_vnni();
  }
#else
  (void)weight_type;
#endif
  return nullptr;
}

}  // namespace scout
