// AVX-512 dot products with VNNI (vpdpbusd, vpdpwssd); the code is in vec_dot_avx512.inc.
#define SCOUT_AVX512_VNNI 1
#define SCOUT_AVX512_TABLE avx512_vnni_kernels
#include "kernels/cpu/vec_dot_avx512.inc"
