// The GEMM tile kernels (kernels/cpu/gemm.h) against a scalar statement of their arithmetic,
// bit for bit, and against vec_dot to within float rounding.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quants.h"
#include "tests/kernels/quant_test_util.h"

using namespace scout;

namespace {

struct AlignedBuffer {
  std::vector<std::byte> bytes;
  void* data(size_t size) {
    bytes.resize(size + 64);
    auto address = reinterpret_cast<uintptr_t>(bytes.data());
    return bytes.data() + ((64 - address % 64) % 64);
  }
};

// Block by block: acc = fma(weight scale * activation scale, exact integer block sum, acc).
float q8_0_gemm_order(const BlockQ8_0* w, const BlockQ8_0* a, int64_t n) {
  float acc = 0.0f;
  for (int64_t b = 0; b < n / 32; ++b) {
    int32_t sum = 0;
    for (int i = 0; i < 32; ++i) sum += int32_t{w[b].qs[i]} * int32_t{a[b].qs[i]};
    const float scale = fp16_to_fp32(w[b].d) * fp16_to_fp32(a[b].d);
    acc = std::fma(scale, static_cast<float>(sum), acc);
  }
  return acc;
}

// Super-block by super-block, with exact integer sums (see gemm_q4_K_vnni.cpp):
//   acc = fma(d * a.d, sum_s sc[s] * (q · a)_s, acc); acc = fma(-(dmin * a.d), sum_s m[s] * (sum a)_s, acc)
float q4_K_gemm_order(const BlockQ4_K* w, const BlockQ8_K* a, int64_t n) {
  float acc = 0.0f;
  for (int64_t b = 0; b < n / 256; ++b) {
    uint8_t sm[16];
    unpack_k4_scales(w[b].scales, sm);
    int32_t block_sum = 0, min_sum = 0;
    for (int s = 0; s < 8; ++s) {
      int32_t dot = 0, act_sum = 0;
      for (int i = 0; i < 32; ++i) {
        const uint8_t byte = w[b].qs[32 * (s / 2) + i];
        const int32_t q = s % 2 == 0 ? (byte & 0x0F) : (byte >> 4);
        dot += q * a[b].qs[32 * s + i];
        act_sum += a[b].qs[32 * s + i];
      }
      block_sum += int32_t{sm[s]} * dot;
      min_sum += int32_t{sm[8 + s]} * act_sum;
    }
    acc = std::fma(fp16_to_fp32(w[b].d) * a[b].d, static_cast<float>(block_sum), acc);
    acc = std::fma(-(fp16_to_fp32(w[b].dmin) * a[b].d), static_cast<float>(min_sum), acc);
  }
  return acc;
}

float gemm_order(GgmlType type, const void* w, const void* a, int64_t n) {
  if (type == GgmlType::q8_0)
    return q8_0_gemm_order(static_cast<const BlockQ8_0*>(w), static_cast<const BlockQ8_0*>(a), n);
  return q4_K_gemm_order(static_cast<const BlockQ4_K*>(w), static_cast<const BlockQ8_K*>(a), n);
}

}  // namespace

TEST_CASE("the Q8_0 and Q4_K tile kernels add block sums in order, bit for bit, for any tile and batch size",
          "[kernels][gemm]") {
  for (GgmlType type : {GgmlType::q8_0, GgmlType::q4_k}) {
  const GemmKernel* kernel = gemm_kernel(type);
  if (kernel == nullptr) {
    WARN("no " << test::type_name(type) << " GEMM kernel at this CPU's ISA level (needs AVX-512 VNNI)");
    continue;
  }
  const std::vector<int64_t> sizes = type == GgmlType::q8_0 ? std::vector<int64_t>{32, 64, 1056}
                                                             : std::vector<int64_t>{256, 512, 1280};
  for (int64_t n : sizes) {
    for (int n_rows : {1, 5, 16}) {
      for (int n_act : {1, 3, 8, 13}) {
        INFO(test::type_name(type) << ", n " << n << ", rows " << n_rows << ", tokens " << n_act);
        const size_t row_bytes = ggml_row_size(type, n);
        const size_t act_bytes = ggml_row_size(vec_dot_act_type(type), n);
        std::vector<std::byte> weights(row_bytes * static_cast<size_t>(n_rows));
        const auto w_values = test::gaussian(static_cast<size_t>(n * n_rows), 1, 0.02f);
        for (int r = 0; r < n_rows; ++r)
          quantize_row_ref(type, w_values.data() + r * n, weights.data() + r * row_bytes, n);
        const auto x = test::gaussian(static_cast<size_t>(n * n_act), 2);

        std::vector<std::byte> act(kernel->act_row_bytes(n) * static_cast<size_t>(n_act));
        std::vector<std::byte> act_blocks(act_bytes * static_cast<size_t>(n_act));
        std::vector<const void*> act_rows;
        for (int t = 0; t < n_act; ++t) {
          kernel->quantize_act(x.data() + t * n, act.data() + t * kernel->act_row_bytes(n), n);
          quantize_row_act(type, x.data() + t * n, act_blocks.data() + t * act_bytes, n);
          act_rows.push_back(act.data() + t * kernel->act_row_bytes(n));
        }
        AlignedBuffer tile_buffer;
        void* tile = tile_buffer.data(kernel->tile_bytes(n));
        kernel->pack_tile(weights.data(), row_bytes, n_rows, n, tile);
        std::vector<float> y(static_cast<size_t>(n_act * 16), -1.0f);
        std::vector<float*> y_rows;
        for (int t = 0; t < n_act; ++t) y_rows.push_back(y.data() + t * 16);
        kernel->tile_dot(n, tile, n_rows, act_rows.data(), n_act, y_rows.data());

        int wrong_bits = 0, far = 0, touched = 0;
        for (int t = 0; t < n_act; ++t) {
          for (int r = 0; r < 16; ++r) {
            const float got = y[static_cast<size_t>(t * 16 + r)];
            if (r >= n_rows) {
              touched += got != -1.0f;  // rows past the tile are never written
              continue;
            }
            const void* w = weights.data() + r * row_bytes;
            const void* a = act_blocks.data() + t * act_bytes;
            wrong_bits += !test::same_bits(got, gemm_order(type, w, a, n));
            const float dot = vec_dot(type, n, w, a);
            far += std::abs(got - dot) > 1e-5f * (1.0f + std::abs(dot));
          }
        }
        CHECK(wrong_bits == 0);
        CHECK(far == 0);
        CHECK(touched == 0);
      }
    }
  }
  }
}
