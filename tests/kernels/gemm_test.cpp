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

}  // namespace

TEST_CASE("the Q8_0 tile kernel adds block sums in order, bit for bit, for any tile and batch size", "[kernels][gemm]") {
  const GemmKernel* kernel = gemm_kernel(GgmlType::Q8_0);
  if (kernel == nullptr) {
    WARN("no Q8_0 GEMM kernel at this CPU's ISA level (needs AVX-512 VNNI); nothing to test");
    return;
  }
  for (int64_t n : {32, 64, 1056}) {
    for (int n_rows : {1, 5, 16}) {
      for (int n_act : {1, 3, 8, 13}) {
        INFO("n " << n << ", rows " << n_rows << ", tokens " << n_act);
        const size_t row_bytes = ggml_row_size(GgmlType::Q8_0, n);
        std::vector<std::byte> weights(row_bytes * static_cast<size_t>(n_rows));
        const auto w_values = test::gaussian(static_cast<size_t>(n * n_rows), 1, 0.02f);
        for (int r = 0; r < n_rows; ++r)
          quantize_row_ref(GgmlType::Q8_0, w_values.data() + r * n, weights.data() + r * row_bytes, n);
        const auto x = test::gaussian(static_cast<size_t>(n * n_act), 2);

        std::vector<std::byte> act(kernel->act_row_bytes(n) * static_cast<size_t>(n_act));
        std::vector<std::byte> act_blocks(row_bytes * static_cast<size_t>(n_act));
        std::vector<const void*> act_rows;
        for (int t = 0; t < n_act; ++t) {
          kernel->quantize_act(x.data() + t * n, act.data() + t * kernel->act_row_bytes(n), n);
          quantize_row_act(GgmlType::Q8_0, x.data() + t * n, act_blocks.data() + t * row_bytes, n);
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
            const auto* w = reinterpret_cast<const BlockQ8_0*>(weights.data() + r * row_bytes);
            const auto* a = reinterpret_cast<const BlockQ8_0*>(act_blocks.data() + t * row_bytes);
            wrong_bits += !test::same_bits(got, q8_0_gemm_order(w, a, n));
            const float dot = vec_dot(GgmlType::Q8_0, n, w, a);
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
