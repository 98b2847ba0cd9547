// fp16 and bf16 conversions: exhaustive over the 16-bit side, against an independent oracle
// (double arithmetic) on the 32-bit side, and the F16C row path against the portable one.
// Exactness is the requirement everywhere here: no tolerance.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <random>
#include <vector>

#include "kernels/cpu/fp16.h"
#include "kernels/cpu/quants.h"
#include "tests/kernels/quant_test_util.h"

using namespace scout;
using namespace scout::test;

namespace {

// fp16 -> fp32 from the definition: (-1)^s * 2^(e - 15) * (1 + m / 1024), or m * 2^-24.
float fp16_oracle_value(uint16_t h) {
  const int e = (h >> 10) & 0x1F;
  const int m = h & 0x3FF;
  const double magnitude = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
  return static_cast<float>((h & 0x8000) ? -magnitude : magnitude);
}

// fp32 -> fp16 by rounding in double: the quantum at f's binade (never below the subnormal
// quantum 2^-24), nearbyint (ties to even in the default mode), then re-encoding.
uint16_t fp16_oracle(float f) {
  const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  if (std::isnan(f)) return sign | 0x7E00;
  const double a = std::fabs(static_cast<double>(f));
  if (a >= 65520.0) return sign | 0x7C00;  // 65504 + half its quantum, and above: inf
  if (a == 0.0) return sign;
  int e2;
  std::frexp(a, &e2);                      // a = frac * 2^e2, frac in [0.5, 1)
  int exp = std::max(e2 - 1, -14);         // binade exponent, clamped to the subnormal range
  double q = std::nearbyint(a / std::ldexp(1.0, exp - 10));  // in [0, 2048]
  if (exp == -14 && q < 1024) return static_cast<uint16_t>(sign | static_cast<uint16_t>(q));
  if (q == 2048) {
    q = 1024;
    ++exp;
  }
  return static_cast<uint16_t>(sign | ((exp + 15) << 10) | (static_cast<int>(q) - 1024));
}

// Floats that exercise every rounding situation of fp32 -> fp16 and -> bf16: all 2^16 values
// of the top 16 bits (sign, exponent, 7 mantissa bits) times all 8 values of bits 13-15 times
// low-13-bit patterns around fp16's half-way point (bits 13-15 with low 13 bits = 0 make
// bf16's). Then random bit patterns.
std::vector<float> rounding_probe_floats() {
  static const uint32_t kLow13[] = {0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF};
  std::vector<float> out;
  out.reserve((1u << 16) * 8 * std::size(kLow13) + 65536);
  for (uint32_t top = 0; top < (1u << 16); ++top)
    for (uint32_t mid = 0; mid < 8; ++mid)
      for (uint32_t low : kLow13) out.push_back(fp32_from_bits((top << 16) | (mid << 13) | low));
  std::mt19937 rng(7);
  for (int i = 0; i < 65536; ++i) out.push_back(fp32_from_bits(static_cast<uint32_t>(rng())));
  return out;
}

}  // namespace

TEST_CASE("every fp16 bit pattern converts to the float its definition gives", "[quant][fp16]") {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    const int e = (h >> 10) & 0x1F;
    if (e == 31 && (h & 0x3FF)) {  // NaN: stays NaN, keeps sign and payload, made quiet
      INFO("h=" << h);
      REQUIRE(std::isnan(f));
      REQUIRE(fp32_bits(f) == (((h & 0x8000u) << 16) | 0x7FC00000u | ((h & 0x3FFu) << 13)));
    } else if (e == 31) {
      REQUIRE(std::isinf(f));
      REQUIRE(std::signbit(f) == ((h & 0x8000) != 0));
    } else if (!same_bits(f, fp16_oracle_value(static_cast<uint16_t>(h)))) {
      FAIL("fp16 " << h << " -> " << f << ", expected " << fp16_oracle_value(static_cast<uint16_t>(h)));
    }
  }
}

TEST_CASE("all 65536 fp16 bit patterns round-trip through float, NaNs to the canonical NaN", "[quant][fp16]") {
  for (CpuIsa isa : available_isas()) {
    ScopedIsa scoped(isa);
    std::vector<uint16_t> halves(65536), back(65536);
    for (uint32_t h = 0; h < 65536; ++h) halves[h] = static_cast<uint16_t>(h);
    std::vector<float> floats(65536);
    fp16_to_fp32_row(halves.data(), floats.data(), 65536);
    fp32_to_fp16_row(floats.data(), back.data(), 65536);
    int mismatches = 0;
    for (uint32_t h = 0; h < 65536; ++h) {
      const bool nan = ((h >> 10) & 0x1F) == 31 && (h & 0x3FF);
      const uint16_t expected = nan ? static_cast<uint16_t>((h & 0x8000) | 0x7E00) : static_cast<uint16_t>(h);
      if (back[h] != expected || !same_bits(floats[h], fp16_to_fp32(static_cast<uint16_t>(h)))) ++mismatches;
    }
    INFO("isa " << cpu_isa_name(isa));
    REQUIRE(mismatches == 0);
  }
}

TEST_CASE("fp32 to fp16 rounds to nearest even, saturates to inf and writes ggml's canonical NaN", "[quant][fp16]") {
  struct Case {
    uint32_t in;
    uint16_t out;
  };
  const Case cases[] = {
      {0x00000000, 0x0000}, {0x80000000, 0x8000},  // signed zeros
      {0x3F800000, 0x3C00},                          // 1
      {0x477FE000, 0x7BFF},                          // 65504, the largest half
      {0x477FEFFF, 0x7BFF},                          // just below 65520: rounds down
      {0x477FF000, 0x7C00},                          // 65520: tie, to even = inf
      {0x7F800000, 0x7C00}, {0xFF800000, 0xFC00},    // inf
      {0x7F800001, 0x7E00}, {0xFFC12345, 0xFE00},    // NaNs: payload dropped, sign kept
      {0x33800000, 0x0001},                          // 2^-24, smallest subnormal
      {0x33000000, 0x0000},                          // 2^-25: tie between 0 and 2^-24, to even
      {0x33000001, 0x0001},                          // just above the tie
      {0x33C00000, 0x0002},                          // 1.5 * 2^-24: tie, to even (2)
      {0x38800000, 0x0400},                          // 2^-14, smallest normal
      {0x387FE000, 0x0400},                          // largest subnormal + half quantum: tie, up to even
      {0x3F801000, 0x3C00},                          // 1 + 2^-11: tie, down to even
      {0x3F803000, 0x3C02},                          // 1 + 3 * 2^-11: tie, up to even
      {0x00000001, 0x0000},                          // float subnormal: 0
  };
  for (const auto& c : cases) {
    INFO("input bits " << std::hex << c.in);
    CHECK(fp32_to_fp16(fp32_from_bits(c.in)) == c.out);
    CHECK(fp16_oracle(fp32_from_bits(c.in)) == c.out);  // the oracle agrees with the table too
  }
}

TEST_CASE("fp32 to fp16 agrees with a double-precision oracle on rounding probes at every ISA level", "[quant][fp16]") {
  const std::vector<float> probes = rounding_probe_floats();
  size_t scalar_mismatches = 0;
  for (float f : probes)
    if (fp32_to_fp16(f) != fp16_oracle(f)) ++scalar_mismatches;
  REQUIRE(scalar_mismatches == 0);

  for (CpuIsa isa : available_isas()) {
    ScopedIsa scoped(isa);
    std::vector<uint16_t> row(probes.size());
    // An odd length so that the vector body and the scalar tail both run.
    fp32_to_fp16_row(probes.data(), row.data(), static_cast<int64_t>(probes.size() - 3));
    size_t row_mismatches = 0;
    for (size_t i = 0; i + 3 < probes.size(); ++i)
      if (row[i] != fp32_to_fp16(probes[i])) ++row_mismatches;
    INFO("isa " << cpu_isa_name(isa));
    REQUIRE(row_mismatches == 0);
  }
}

TEST_CASE("every bf16 bit pattern widens to the float with the same top 16 bits", "[quant][bf16]") {
  std::vector<uint16_t> halves(65536);
  for (uint32_t h = 0; h < 65536; ++h) halves[h] = static_cast<uint16_t>(h);
  std::vector<float> floats(65536);
  bf16_to_fp32_row(halves.data(), floats.data(), 65536);
  for (uint32_t h = 0; h < 65536; ++h) {
    REQUIRE(fp32_bits(floats[h]) == h << 16);
    REQUIRE(fp32_bits(bf16_to_fp32(static_cast<uint16_t>(h))) == h << 16);
  }
}

TEST_CASE("fp32 to bf16 rounds to nearest even, keeps subnormals and quiets NaNs", "[quant][bf16]") {
  struct Case {
    uint32_t in;
    uint16_t out;
  };
  const Case cases[] = {
      {0x3F800000, 0x3F80}, {0xBF800000, 0xBF80},  // +-1
      {0x3F808000, 0x3F80},                        // tie, down to even
      {0x3F818000, 0x3F82},                        // tie, up to even
      {0x3F808001, 0x3F81},                        // above the tie
      {0x3F807FFF, 0x3F80},                        // below the tie
      {0x7F7FFFFF, 0x7F80},                        // FLT_MAX rounds to inf
      {0x7F7F7FFF, 0x7F7F},                        // just below: stays finite
      {0x7F800000, 0x7F80}, {0xFF800000, 0xFF80},  // inf
      {0x7F800001, 0x7FC0},                        // signalling NaN made quiet, top bits kept
      {0xFF800001, 0xFFC0},
      {0x7FC00000, 0x7FC0},                        // quiet NaN
      {0x7FFFFFFF, 0x7FFF},                        // payload kept, not rounded into an overflow
      {0x7F810000, 0x7FC1},                        // signalling NaN with payload in the kept bits
      {0x00000000, 0x0000}, {0x80000000, 0x8000},  // signed zeros
      {0x00000001, 0x0000},                        // smallest subnormal rounds to 0
      {0x00008000, 0x0000},                        // subnormal tie, to even (0)
      {0x00018000, 0x0002},                        // subnormal tie, to even (2)
      {0x00008001, 0x0001},                        // subnormal above the tie: kept, not flushed
      {0x007FFFFF, 0x0080},                        // largest subnormal rounds up to the smallest normal
      {0x807FFFFF, 0x8080},
  };
  for (const auto& c : cases) {
    INFO("input bits " << std::hex << c.in);
    CHECK(fp32_to_bf16(fp32_from_bits(c.in)) == c.out);
    uint16_t row_out = 0;
    const float in = fp32_from_bits(c.in);
    fp32_to_bf16_row(&in, &row_out, 1);
    CHECK(row_out == c.out);
  }
}

TEST_CASE("fp32 to bf16 agrees with a double-precision oracle on rounding probes", "[quant][bf16]") {
  size_t mismatches = 0;
  for (float f : rounding_probe_floats()) {
    if (std::isnan(f)) continue;  // covered by the table above
    // bf16 has float's exponent range and an 8-bit significand: quantum 2^(e - 7), and the
    // subnormal quantum 2^-133 below 2^-126.
    const double a = std::fabs(static_cast<double>(f));
    uint32_t expected_bits;
    if (a == 0.0 || std::isinf(f)) {
      expected_bits = fp32_bits(f);
    } else {
      int e2;
      std::frexp(a, &e2);
      const int exp = std::max(e2 - 1, -126);
      const double rounded = std::nearbyint(a / std::ldexp(1.0, exp - 7)) * std::ldexp(1.0, exp - 7);
      const float r = rounded >= 0x1p128 ? INFINITY : static_cast<float>(rounded);
      expected_bits = fp32_bits(std::signbit(f) ? -r : r);
    }
    if (fp32_to_bf16(f) != static_cast<uint16_t>(expected_bits >> 16) || (expected_bits & 0xFFFF) != 0) ++mismatches;
  }
  REQUIRE(mismatches == 0);
}
