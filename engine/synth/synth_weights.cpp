// Deterministic synthetic weights: a counter-based generator keyed by (seed, tensor name, row),
// so any row can be produced independently, by any thread, always with the same values.
#include <cmath>
#include <cstdint>
#include <string_view>

#include "engine/synth/synth.h"

namespace scout {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// Uniform in [-1, 1) from the top 24 bits: exactly representable floats, no platform libm.
float uniform_pm1(uint64_t& state) {
  return static_cast<float>(splitmix64(state) >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

}  // namespace

void synth_fill_row(uint64_t seed, const TensorSpec& spec, uint64_t row, float* out) {
  uint64_t state = seed ^ fnv1a(spec.name) ^ (row * 0xD1B54A32D192ED03ull);
  splitmix64(state);
  const uint64_t n = spec.shape[0];
  // Amplitudes: projections get unit-variance outputs (U(-a, a) has variance a^2/3, so
  // a = sqrt(3 / fan_in)); the router is twice as sharp so that top-k picks are not ties;
  // norms sit near 1 and biases near 0, as in trained models. Embeddings are small beside
  // the blocks' outputs, as in trained models: with a tied output, large embeddings would
  // make every token's own logit win and greedy decoding would only repeat the prompt.
  float amplitude = 1.0f, offset = 0.0f;
  switch (spec.role) {
    case TensorRole::embedding: amplitude = 0.1f; break;
    case TensorRole::output:
    case TensorRole::weight: amplitude = std::sqrt(3.0f / static_cast<float>(spec.fan_in)); break;
    case TensorRole::router: amplitude = 2.0f * std::sqrt(3.0f / static_cast<float>(spec.fan_in)); break;
    case TensorRole::norm: amplitude = 0.1f; offset = 1.0f; break;
    case TensorRole::bias: amplitude = 0.1f; break;
  }
  for (uint64_t i = 0; i < n; ++i) out[i] = offset + amplitude * uniform_pm1(state);
}

}  // namespace scout
