// Quantize then dequantize: error bounds that follow from each format's definition, checked
// without the llama.cpp peer (so a broken quantizer shows up here too, with a readable number).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quants.h"
#include "tests/kernels/quant_test_util.h"

using namespace scout;
using namespace scout::test;

namespace {

std::vector<float> roundtrip(GgmlType type, const std::vector<float>& x) {
  const auto n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(ggml_row_size(type, static_cast<uint64_t>(n)));
  quantize_row_ref(type, x.data(), q.data(), n);
  std::vector<float> y(x.size());
  dequantize_row(type, q.data(), y.data(), n);
  return y;
}

double rms(const std::vector<float>& v) {
  double s = 0;
  for (float f : v) s += static_cast<double>(f) * f;
  return std::sqrt(s / static_cast<double>(v.size()));
}

double rms_error(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
  return std::sqrt(s / static_cast<double>(a.size()));
}

}  // namespace

TEST_CASE("Q8_0 and Q4_0 round-trip within half a step of their block scale", "[quant]") {
  const std::vector<float> x = gaussian(32 * 64, 21);
  // Q8_0: step d = amax / 127, stored in fp16 (relative error <= 2^-11, times up to 127 levels):
  // |x - x'| <= d * (0.5 + 127 * 2^-11) < 0.57 d.
  // Q4_0: step d = amax / 8; the level +8 does not exist, so the far side clamps to +7: <= d * (1 + 8 * 2^-11).
  for (GgmlType type : {GgmlType::q8_0, GgmlType::q4_0}) {
    const std::vector<float> y = roundtrip(type, x);
    for (size_t b = 0; b < x.size() / 32; ++b) {
      float amax = 0;
      for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[32 * b + i]));
      const double bound = type == GgmlType::q8_0 ? 0.57 * amax / 127 : (1 + 8.0 / 2048) * amax / 8;
      for (size_t i = 0; i < 32; ++i) {
        INFO(type_name(type) << " block " << b << " element " << i << ": " << x[32 * b + i] << " -> " << y[32 * b + i]);
        REQUIRE(std::fabs(x[32 * b + i] - y[32 * b + i]) <= bound);
      }
    }
  }
}

TEST_CASE("K-quants round-trip gaussian data with the RMS error their bit width allows", "[quant]") {
  // RMS error relative to the data's RMS on 64 gaussian super-blocks. A uniform quantizer with
  // step s has RMS error s / sqrt(12); over a gaussian's ~[-3, 3] sigma range with 2^b levels the
  // bounds below sit ~1.5x above what these formats reach (4-bit ~0.09, 5-bit ~0.045, 6-bit ~0.022,
  // Q8_K ~0.007), and far below a broken encoder (>= 0.3).
  struct Bound {
    GgmlType type;
    double max_relative_rms;
  };
  const Bound bounds[] = {{GgmlType::q4_k, 0.13}, {GgmlType::q5_k, 0.065}, {GgmlType::q6_k, 0.033}, {GgmlType::q8_k, 0.011}};
  const std::vector<float> x = gaussian(kQK_K * 64, 22);
  for (const auto& b : bounds) {
    const double rel = rms_error(x, roundtrip(b.type, x)) / rms(x);
    INFO(type_name(b.type) << ": relative RMS error " << rel);
    CHECK(rel <= b.max_relative_rms);
    CHECK(rel > 0.0);  // sanity: the formats are lossy on gaussian data
  }
}

TEST_CASE("all-zero rows quantize to blocks that dequantize to exact zeros", "[quant]") {
  for (GgmlType type : {GgmlType::f16, GgmlType::bf16, GgmlType::q8_0, GgmlType::q4_0, GgmlType::q4_k, GgmlType::q5_k,
                        GgmlType::q6_k, GgmlType::q8_k}) {
    const std::vector<float> zeros(2 * kQK_K, 0.0f);
    const std::vector<float> y = roundtrip(type, zeros);
    INFO(type_name(type));
    for (float v : y) REQUIRE(v == 0.0f);
  }
}

TEST_CASE("F16 and BF16 round-trip with their precision: 2^-11 and 2^-8 relative", "[quant]") {
  // Normal-range values only (subnormals lose relative precision by design).
  const std::vector<float> x = gaussian(4096, 23, 100.0f);
  const std::vector<float> h = roundtrip(GgmlType::f16, x);
  const std::vector<float> b = roundtrip(GgmlType::bf16, x);
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i]);
    if (std::fabs(x[i]) >= 6.2e-5f) REQUIRE(std::fabs(h[i] - x[i]) <= std::fabs(x[i]) * 0x1p-11);
    REQUIRE(std::fabs(b[i] - x[i]) <= std::fabs(x[i]) * 0x1p-8);
  }
}

TEST_CASE("block layouts have the sizes GGUF and the type table give", "[quant]") {
  CHECK(sizeof(BlockQ8_0) == ggml_type_traits(GgmlType::q8_0).type_size);
  CHECK(sizeof(BlockQ4_0) == ggml_type_traits(GgmlType::q4_0).type_size);
  CHECK(sizeof(BlockQ4_K) == ggml_type_traits(GgmlType::q4_k).type_size);
  CHECK(sizeof(BlockQ5_K) == ggml_type_traits(GgmlType::q5_k).type_size);
  CHECK(sizeof(BlockQ6_K) == ggml_type_traits(GgmlType::q6_k).type_size);
  CHECK(sizeof(BlockQ8_K) == ggml_type_traits(GgmlType::q8_k).type_size);
  CHECK(ggml_type_traits(GgmlType::q4_k).block_size == static_cast<uint32_t>(kQK_K));
  CHECK(ggml_type_traits(GgmlType::q8_0).block_size == static_cast<uint32_t>(kQK8_0));
}
