// AVX-512 (F, BW, VL) dot products without VNNI; the code is in vec_dot_avx512.inc.
#define SCOUT_AVX512_VNNI 0
#define SCOUT_AVX512_TABLE avx512_kernels
#include "kernels/cpu/vec_dot_avx512.inc"
