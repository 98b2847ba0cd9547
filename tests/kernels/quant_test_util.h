// Helpers shared by the kernels/cpu tests: deterministic inputs, ISA iteration, float bits.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/fp16.h"
#include "kernels/ggml_types.h"

namespace scout::test {

inline const std::vector<GgmlType>& weight_types() {
  static const std::vector<GgmlType> types = {GgmlType::f32,  GgmlType::f16,  GgmlType::bf16, GgmlType::q8_0,
                                              GgmlType::q4_0, GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k};
  return types;
}

// Every level this CPU can run, lowest first.
inline std::vector<CpuIsa> available_isas() {
  std::vector<CpuIsa> out;
  for (CpuIsa isa : {CpuIsa::portable, CpuIsa::avx2, CpuIsa::avx512})
    if (cpu_isa_available(isa)) out.push_back(isa);
  return out;
}

// Sets the active level for a scope and restores the previous one.
class ScopedIsa {
 public:
  explicit ScopedIsa(CpuIsa isa) : saved_(cpu_isa()) { set_cpu_isa(isa); }
  ~ScopedIsa() { set_cpu_isa(saved_); }
  ScopedIsa(const ScopedIsa&) = delete;
  ScopedIsa& operator=(const ScopedIsa&) = delete;

 private:
  CpuIsa saved_;
};

inline std::string type_name(GgmlType type) { return std::string(ggml_type_name(type)); }

inline std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// A random fp16 that is finite (exponent field below 31) and, with min_exp > 0, normal.
inline uint16_t random_finite_fp16(std::mt19937& rng, int min_exp = 0, int max_exp = 30) {
  const uint32_t sign = rng() & 1u;
  const uint32_t exp = static_cast<uint32_t>(min_exp) + rng() % static_cast<uint32_t>(max_exp - min_exp + 1);
  const uint32_t mant = rng() & 0x3FFu;
  return static_cast<uint16_t>((sign << 15) | (exp << 10) | mant);
}

inline bool same_bits(float a, float b) { return fp32_bits(a) == fp32_bits(b); }

}  // namespace scout::test
