// Internal to kernels/cpu: the GEMM kernels of each level, which gemm.cpp dispatches to.
#pragma once

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/kernel_table.h"

namespace scout::cpu {

#if defined(SCOUT_X86_KERNELS)
const GemmKernel& gemm_q8_0_avx512_vnni();  // gemm_q8_0_vnni.cpp
const GemmKernel& gemm_q4_K_avx512_vnni();  // gemm_q4_K_vnni.cpp
#endif

}  // namespace scout::cpu
