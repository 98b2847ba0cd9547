// CpuOps' mixture-of-experts products against one product at a time: the grouping by expert,
// the row blocks and the threads must not change a single bit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/quants.h"
#include "tests/kernels/quant_test_util.h"

using namespace scout;

namespace {

struct Experts {
  GgmlType type;
  int64_t n_in, n_out, n_mat;
  std::vector<std::byte> data;

  WeightView view() const {
    const size_t row = ggml_row_size(type, n_in);
    return {.type = type, .n_in = n_in, .n_out = n_out, .n_mat = n_mat, .data = data.data(), .row_bytes = row,
            .mat_bytes = row * static_cast<size_t>(n_out)};
  }
};

Experts random_experts(GgmlType type, int64_t n_in, int64_t n_out, int64_t n_mat, uint32_t seed) {
  Experts e{type, n_in, n_out, n_mat, {}};
  const size_t row = ggml_row_size(type, n_in);
  e.data.resize(row * static_cast<size_t>(n_out * n_mat));
  const auto values = test::gaussian(static_cast<size_t>(n_in * n_out * n_mat), seed, 0.05f);
  for (int64_t r = 0; r < n_out * n_mat; ++r) quantize_row_ref(type, values.data() + r * n_in, e.data.data() + r * row, n_in);
  return e;
}

// W[e] · x as the backend computes one product for a batch of n_tokens: a one-row tile of the
// GEMM kernel where it has one for the type and the batch is large enough, else one vec_dot.
float reference_dot(const WeightView& w, int64_t e, int64_t r, const float* x, int64_t n_tokens) {
  if (const GemmKernel* gemm = gemm_kernel(w.type); gemm && n_tokens >= CpuOps::kGemmMinTokens) {
    std::vector<std::byte> act(gemm->act_row_bytes(w.n_in));
    gemm->quantize_act(x, act.data(), w.n_in);
    std::vector<std::byte> tile_buffer(gemm->tile_bytes(w.n_in) + 64);
    void* tile = tile_buffer.data() + (64 - reinterpret_cast<uintptr_t>(tile_buffer.data()) % 64) % 64;
    gemm->pack_tile(w.row(e, r), w.row_bytes, 1, w.n_in, tile);
    const void* act_row = act.data();
    float out = 0.0f;
    float* out_row = &out;
    gemm->tile_dot(w.n_in, tile, 1, &act_row, 1, &out_row);
    return out;
  }
  std::vector<std::byte> act(ggml_row_size(vec_dot_act_type(w.type), w.n_in));
  quantize_row_act(w.type, x, act.data(), w.n_in);
  return vec_dot(w.type, w.n_in, w.row(e, r), act.data());
}

std::vector<int32_t> routes(int64_t n_tokens, int32_t k, int64_t n_mat, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> out;
  for (int64_t t = 0; t < n_tokens; ++t) {
    std::vector<int32_t> all(static_cast<size_t>(n_mat));
    for (int32_t i = 0; i < n_mat; ++i) all[static_cast<size_t>(i)] = i;
    std::shuffle(all.begin(), all.end(), rng);
    out.insert(out.end(), all.begin(), all.begin() + k);
  }
  return out;
}

}  // namespace

TEST_CASE("expert products are bit-identical to one product per token, slot and row", "[kernels][moe]") {
  const int32_t k = 3;
  const int64_t n_in = 256, n_out = 70;
  // Past this many tokens the weighted product goes a block of output rows at a time.
  const int64_t large = CpuOps::kSlotBufferFloats / (k * n_out) + 1;
  for (GgmlType type : {GgmlType::q8_0, GgmlType::q4_k, GgmlType::q6_k, GgmlType::f32}) {
    for (int threads : {1, 2}) {
      for (int64_t n_tokens : {int64_t{1}, int64_t{5}, int64_t{37}, large}) {
        if (n_tokens == large && threads == 1) continue;
        INFO(test::type_name(type) << ", " << threads << " threads, " << n_tokens << " tokens");
        const Experts experts = random_experts(type, n_in, n_out, 6, 7);
        const WeightView w = experts.view();
        const auto route = routes(n_tokens, k, w.n_mat, 11);
        const auto x = test::gaussian(static_cast<size_t>(n_tokens * k * w.n_in), 3);
        std::vector<float> weights = test::gaussian(static_cast<size_t>(n_tokens * k), 5);
        CpuOps ops(threads);

        std::vector<float> per_slot(static_cast<size_t>(n_tokens * k * w.n_out));
        ops.expert_matmul(w, x.data(), true, n_tokens, k, route.data(), per_slot.data());
        std::vector<float> summed(static_cast<size_t>(n_tokens * w.n_out));
        ops.expert_matmul_weighted(w, x.data(), n_tokens, k, route.data(), weights.data(), summed.data());

        int mismatches = 0;
        for (int64_t t = 0; t < n_tokens; ++t)
          for (int64_t r = 0; r < w.n_out; ++r) {
            float expected_sum = 0.0f;
            for (int32_t j = 0; j < k; ++j) {
              const int64_t pair = t * k + j;
              const float p = reference_dot(w, route[static_cast<size_t>(pair)], r, x.data() + pair * w.n_in, n_tokens);
              if (!test::same_bits(per_slot[static_cast<size_t>(pair * w.n_out + r)], p)) ++mismatches;
              const float weighted = p * weights[static_cast<size_t>(pair)];
              expected_sum = j == 0 ? weighted : expected_sum + weighted;
            }
            if (!test::same_bits(summed[static_cast<size_t>(t * w.n_out + r)], expected_sum)) ++mismatches;
          }
        CHECK(mismatches == 0);
      }
    }
  }
}
