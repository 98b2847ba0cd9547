// vec_dot at every ISA level against a double-precision reference: the dot product of the
// dequantized weights (bit-exact with ggml, see test_quant_bit_exact.cpp) and the dequantized
// activations, summed in double.
//
// Tolerances, relative to M = sum_i (|w_i| + |o_i|) * |a_i|, where o_i is the sub-block offset
// dmin * m of Q4_K/Q5_K (0 for other types; the kernels subtract it as a separate term, so
// cancellation between d*sc*q and the offset is bounded by M, not by |sum|):
//   vs the double reference  kRefTol = 2e-6: the kernels round each block's scale product and
//       int-to-float conversion (a few ulps of 2^-24) and accumulate at most a few hundred terms
//       per float lane; the largest error seen on these inputs is 1.7e-7 (bf16, AVX-512).
//   SIMD vs portable         kIsaTol = 1e-6: same integer sums, only the float accumulation order
//       differs; the largest difference seen is 1.7e-7.
// Why these can fail: for n <= 4099 a single wrong element shifts the sum by about
// M / n >= 2.4e-4 M, a hundred times kRefTol; a wrong scale or sub-block moves it by far more.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/cpu/quant_blocks.h"
#include "kernels/cpu/quants.h"
#include "tests/kernels/quant_test_util.h"

using namespace scout;
using namespace scout::test;

namespace {

constexpr double kRefTol = 2e-6;
constexpr double kIsaTol = 1e-6;

struct Reference {
  double dot = 0;        // sum w_i a_i in double
  double magnitude = 0;  // M above
};

// Per-element offsets dmin * m of a Q4_K / Q5_K row (their dequantized value is d*sc*q - offset).
template <class Block>
std::vector<float> k4_offsets(const void* row, int64_t n) {
  std::vector<float> off(static_cast<size_t>(n));
  const auto* blocks = static_cast<const Block*>(row);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    uint8_t sm[16];
    unpack_k4_scales(blocks[b].scales, sm);
    for (int j = 0; j < 8; ++j)
      for (int l = 0; l < 32; ++l)
        off[static_cast<size_t>(b * kQK_K + 32 * j + l)] = fp16_to_fp32(blocks[b].dmin) * static_cast<float>(sm[8 + j]);
  }
  return off;
}

Reference reference_dot(GgmlType type, int64_t n, const void* w, const void* a) {
  std::vector<float> wf(static_cast<size_t>(n)), af(static_cast<size_t>(n));
  dequantize_row(type, w, wf.data(), n);
  dequantize_row(vec_dot_act_type(type), a, af.data(), n);
  std::vector<float> off(static_cast<size_t>(n), 0.0f);
  if (type == GgmlType::q4_k) off = k4_offsets<BlockQ4_K>(w, n);
  if (type == GgmlType::q5_k) off = k4_offsets<BlockQ5_K>(w, n);
  Reference r;
  for (size_t i = 0; i < wf.size(); ++i) {
    r.dot += static_cast<double>(wf[i]) * static_cast<double>(af[i]);
    r.magnitude += (std::fabs(static_cast<double>(wf[i])) + std::fabs(static_cast<double>(off[i]))) *
                   std::fabs(static_cast<double>(af[i]));
  }
  return r;
}

// Weight rows of n elements: quantized gaussians, and random blocks with finite scales (every
// level and scale bit pattern, Q8_0's -128 included).
std::vector<std::pair<std::string, std::vector<uint8_t>>> weight_rows(GgmlType type, int64_t n, uint32_t seed) {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> rows;
  const size_t bytes = ggml_row_size(type, static_cast<uint64_t>(n));
  for (float sigma : {1.0f, 0.02f}) {
    const std::vector<float> x = gaussian(static_cast<size_t>(n), seed + static_cast<uint32_t>(sigma * 100), sigma);
    std::vector<uint8_t> row(bytes);
    quantize_row_ref(type, x.data(), row.data(), n);
    rows.emplace_back("quantized gaussian sigma " + std::to_string(sigma), std::move(row));
  }
  std::vector<uint8_t> random = random_bytes(bytes, seed + 7);
  std::mt19937 rng(seed + 8);
  const auto& t = ggml_type_traits(type);
  const size_t blocks = bytes / t.type_size;
  for (size_t b = 0; b < blocks; ++b) {
    uint8_t* p = random.data() + b * t.type_size;
    const auto put16 = [&](size_t off, uint16_t h) { std::memcpy(p + off, &h, 2); };
    switch (type) {
      case GgmlType::f32: {
        const float f = std::ldexp(static_cast<float>(static_cast<int>(rng() % 2001) - 1000), -10);
        std::memcpy(p, &f, 4);
        break;
      }
      case GgmlType::f16: put16(0, random_finite_fp16(rng, 1, 20)); break;
      case GgmlType::bf16: put16(0, static_cast<uint16_t>((rng() & 0x807F) | ((112 + rng() % 30) << 7))); break;
      case GgmlType::q8_0:
      case GgmlType::q4_0: put16(0, random_finite_fp16(rng, 1, 20)); break;
      case GgmlType::q4_k:
      case GgmlType::q5_k:
        put16(0, random_finite_fp16(rng, 1, 16));
        put16(2, random_finite_fp16(rng, 1, 16));
        break;
      case GgmlType::q6_k: put16(offsetof(BlockQ6_K, d), random_finite_fp16(rng, 1, 16)); break;
      default: break;
    }
  }
  rows.emplace_back("random blocks", std::move(random));
  return rows;
}

std::vector<int64_t> lengths(GgmlType type) {
  const int64_t block = ggml_type_traits(type).block_size;
  if (block == 1) return {1, 7, 15, 16, 17, 31, 63, 64, 65, 100, 1000, 4096, 4099};
  if (block == 32) return {32, 64, 96, 160, 32 * 127, 32 * 128};
  return {256, 512, 256 * 16};
}

}  // namespace

TEST_CASE("vec_dot of every type at every ISA level matches a double-precision reference", "[quant][vec_dot]") {
  for (GgmlType type : weight_types()) {
    for (int64_t n : lengths(type)) {
      const GgmlType act_type = vec_dot_act_type(type);
      // Activations: gaussian with a few large entries, so quantized levels reach +-127.
      std::vector<float> x = gaussian(static_cast<size_t>(n), static_cast<uint32_t>(n) * 3 + 1);
      for (size_t i = 0; i < x.size(); i += 97) x[i] *= 8.0f;
      std::vector<uint8_t> act(ggml_row_size(act_type, static_cast<uint64_t>(n)));
      quantize_row_act(type, x.data(), act.data(), n);

      for (const auto& [label, w] : weight_rows(type, n, static_cast<uint32_t>(n))) {
        const Reference ref = reference_dot(type, n, w.data(), act.data());
        const float portable = vec_dot_kernel(type, CpuIsa::portable)(n, w.data(), act.data());
        for (CpuIsa isa : available_isas()) {
          const VecDotFn fn = vec_dot_kernel(type, isa);
          REQUIRE(fn != nullptr);
          const float got = fn(n, w.data(), act.data());
          INFO(type_name(type) << " n=" << n << " weights: " << label << ", isa " << cpu_isa_name(isa) << ": got "
                               << got << ", reference " << ref.dot << ", portable " << portable << ", M "
                               << ref.magnitude);
          CHECK(std::fabs(got - ref.dot) <= kRefTol * ref.magnitude);
          CHECK(std::fabs(static_cast<double>(got) - portable) <= kIsaTol * ref.magnitude);

          // The dispatching entry points run the same kernel once the level is active.
          ScopedIsa scoped(isa);
          const float dispatched = vec_dot(type, n, w.data(), act.data());
          CHECK(same_bits(dispatched, got));
          CHECK(same_bits(vec_dot_kernel(type)(n, w.data(), act.data()), got));
        }
      }
    }
  }
}

TEST_CASE("vec_dot of all-zero activations or weights is exactly zero", "[quant][vec_dot]") {
  for (GgmlType type : weight_types()) {
    const int64_t n = ggml_type_traits(type).block_size == 1 ? 100 : 512;
    const GgmlType act_type = vec_dot_act_type(type);
    const std::vector<float> zeros(static_cast<size_t>(n), 0.0f);
    const std::vector<float> x = gaussian(static_cast<size_t>(n), 5);
    std::vector<uint8_t> w_zero(ggml_row_size(type, static_cast<uint64_t>(n))), w(w_zero.size());
    std::vector<uint8_t> a_zero(ggml_row_size(act_type, static_cast<uint64_t>(n))), a(a_zero.size());
    quantize_row_ref(type, zeros.data(), w_zero.data(), n);
    quantize_row_ref(type, x.data(), w.data(), n);
    quantize_row_act(type, zeros.data(), a_zero.data(), n);
    quantize_row_act(type, x.data(), a.data(), n);
    for (CpuIsa isa : available_isas()) {
      INFO(type_name(type) << ", isa " << cpu_isa_name(isa));
      const VecDotFn fn = vec_dot_kernel(type, isa);
      CHECK(fn(n, w_zero.data(), a.data()) == 0.0f);
      CHECK(fn(n, w.data(), a_zero.data()) == 0.0f);
    }
  }
}

TEST_CASE("vec_dot_act_type pairs each weight type with its activation type", "[quant][vec_dot]") {
  CHECK(vec_dot_act_type(GgmlType::f32) == GgmlType::f32);
  CHECK(vec_dot_act_type(GgmlType::f16) == GgmlType::f32);
  CHECK(vec_dot_act_type(GgmlType::bf16) == GgmlType::f32);
  CHECK(vec_dot_act_type(GgmlType::q8_0) == GgmlType::q8_0);
  CHECK(vec_dot_act_type(GgmlType::q4_0) == GgmlType::q8_0);
  CHECK(vec_dot_act_type(GgmlType::q4_k) == GgmlType::q8_k);
  CHECK(vec_dot_act_type(GgmlType::q5_k) == GgmlType::q8_k);
  CHECK(vec_dot_act_type(GgmlType::q6_k) == GgmlType::q8_k);
  for (GgmlType type : weight_types()) CHECK(quants_weight_type(type));
  CHECK_FALSE(quants_weight_type(GgmlType::q8_k));
  CHECK_FALSE(quants_weight_type(GgmlType::q2_k));
  CHECK(vec_dot_kernel(GgmlType::q2_k, CpuIsa::portable) == nullptr);
}

TEST_CASE("the four-row kernels give bit-identical results to four vec_dot calls", "[quant][vec_dot]") {
  for (CpuIsa isa : available_isas()) {
    const CpuIsa previous = set_cpu_isa(isa);
    for (GgmlType type : {GgmlType::q8_0, GgmlType::q4_k, GgmlType::q6_k}) {
      const VecDotX4Fn four = vec_dot_x4_kernel(type);
      if (!four) continue;  // this level loops vec_dot instead
      INFO(cpu_isa_name(isa) << " " << type_name(type));
      const int64_t n = 1024;
      std::vector<std::byte> weights(ggml_row_size(type, n));
      quantize_row_ref(type, gaussian(n, 7).data(), weights.data(), n);
      const GgmlType act_type = vec_dot_act_type(type);
      std::vector<std::vector<std::byte>> acts(4, std::vector<std::byte>(ggml_row_size(act_type, n)));
      const void* rows[4];
      for (int j = 0; j < 4; ++j) {
        quantize_row_act(type, gaussian(n, 100 + j, 1.0f + j).data(), acts[j].data(), n);
        rows[j] = acts[j].data();
      }
      float out[4];
      four(n, weights.data(), rows, out);
      for (int j = 0; j < 4; ++j) CHECK(same_bits(out[j], vec_dot(type, n, weights.data(), rows[j])));
    }
    set_cpu_isa(previous);
  }
}
