// Memory layout of the quantized blocks, byte for byte as GGUF files (and ggml) store them.
// Every multi-byte field is little-endian; fp16 fields are raw IEEE half bits (see fp16.h).
//
// A row of n elements is n / block_size consecutive blocks with no padding. Blocks are read
// through these structs, so a row pointer must be aligned to alignof(block): 2 bytes for the
// weight blocks (GGUF aligns tensor data to 32 bytes and rows are whole blocks), 4 for BlockQ8_K.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_types.h"

namespace scout {

inline constexpr int kQK8_0 = 32;  // elements per Q8_0 block
inline constexpr int kQK4_0 = 32;  // elements per Q4_0 block
inline constexpr int kQK_K = 256;  // elements per K-quant super-block

// Q8_0: x = d * q, q in [-128, 127] (the quantizer writes [-127, 127]).
struct BlockQ8_0 {
  uint16_t d;  // fp16 scale
  int8_t qs[kQK8_0];
};

// Q4_0: x = d * (q - 8), q in [0, 15]. Byte j holds element j (low nibble) and j + 16 (high).
struct BlockQ4_0 {
  uint16_t d;  // fp16 scale
  uint8_t qs[kQK4_0 / 2];
};

// Q4_K: 8 sub-blocks of 32; x = d * sc[j] * q - dmin * m[j], q in [0, 15], sc and m 6-bit.
// scales[12] packs the 8 (sc, m) pairs: bytes 0-3 hold sc[0..3] in their low 6 bits, bytes 4-7
// m[0..3]; bytes 8-11 hold the low 4 bits of sc[4..7] (low nibble) and m[4..7] (high nibble),
// whose top 2 bits sit in the top 2 bits of bytes 0-3 (sc) and 4-7 (m).
// qs: each 32 bytes cover 64 elements, sub-block 2k in the low nibbles, 2k+1 in the high ones.
struct BlockQ4_K {
  uint16_t d;     // fp16 super-block scale of the sub-block scales
  uint16_t dmin;  // fp16 super-block scale of the sub-block mins
  uint8_t scales[12];
  uint8_t qs[kQK_K / 2];
};

// Q5_K: Q4_K plus a fifth bit: element l of the k-th 64-element chunk takes bit 2k (low-nibble
// half) or bit 2k+1 (high-nibble half) of qh[l]. q in [0, 31].
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// Q6_K: 16 sub-blocks of 16; x = d * scales[i / 16] * (q - 32), q in [0, 63]. Per 128-element
// half n: ql[64n + l] holds elements l (low nibble) and l + 64 (high), ql[64n + 32 + l] elements
// l + 32 and l + 96; qh[32n + l] holds their top 2 bits at bit pairs 0, 2, 4, 6 in that order.
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;  // fp16
};

// Q8_K: the activation format for K-quant dot products; never stored in files.
// x = d * q; bsums[i] = sum of qs[16 i .. 16 i + 15], which the dot products use for the mins.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ8_0) == 34 && alignof(BlockQ8_0) == 2);
static_assert(sizeof(BlockQ4_0) == 18 && alignof(BlockQ4_0) == 2);
static_assert(sizeof(BlockQ4_K) == 144 && alignof(BlockQ4_K) == 2);
static_assert(sizeof(BlockQ5_K) == 176 && alignof(BlockQ5_K) == 2);
static_assert(sizeof(BlockQ6_K) == 210 && alignof(BlockQ6_K) == 2);
static_assert(sizeof(BlockQ8_K) == 292 && alignof(BlockQ8_K) == 4);
static_assert(offsetof(BlockQ6_K, d) == 208);
static_assert(offsetof(BlockQ5_K, qs) == 48);

// Unpacks the eight 6-bit scales and mins of a Q4_K / Q5_K super-block (layout above).
// out[0..7] = sc[0..7], out[8..15] = m[0..7].
inline void unpack_k4_scales(const uint8_t* scales, uint8_t out[16]) {
  for (int j = 0; j < 4; ++j) {
    out[j] = scales[j] & 63;
    out[8 + j] = scales[j + 4] & 63;
    out[4 + j] = static_cast<uint8_t>((scales[j + 8] & 0x0F) | ((scales[j] >> 6) << 4));
    out[12 + j] = static_cast<uint8_t>((scales[j + 8] >> 4) | ((scales[j + 4] >> 6) << 4));
  }
}

}  // namespace scout
