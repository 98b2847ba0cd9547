// Expert routing (engine/models/routing.h) against hand-computed cases: the gating functions,
// the selection bias that chooses without weighing, group-limited selection, normalisation and
// scaling.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "engine/models/routing.h"

using namespace scout;

namespace {

struct Routed {
  std::vector<int32_t> experts;
  std::vector<float> weights;
};

Routed route(std::vector<float> logits, int32_t k, const RoutingOptions& o, const std::vector<float>& bias = {}) {
  ExpertRouter router;
  Routed r{std::vector<int32_t>(static_cast<size_t>(k)), std::vector<float>(static_cast<size_t>(k))};
  router.route(logits.data(), static_cast<int32_t>(logits.size()), k, o, bias.empty() ? nullptr : bias.data(),
               r.experts.data(), r.weights.data());
  return r;
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

TEST_CASE("softmax routing picks the top-k probabilities and renormalises them", "[routing]") {
  const auto r = route({1.0f, 3.0f, 2.0f, 0.0f}, 2, {.gating = ExpertGating::softmax, .normalize_top_k = true});
  CHECK(r.experts == std::vector<int32_t>{1, 2});
  CHECK(r.weights[0] == Approx(1.0 / (1.0 + std::exp(-1.0))));
  CHECK(r.weights[0] + r.weights[1] == Approx(1.0));
}

TEST_CASE("without renormalisation the weights are the softmax probabilities over all experts", "[routing]") {
  const auto r = route({1.0f, 3.0f, 2.0f, 0.0f}, 2, {.gating = ExpertGating::softmax, .normalize_top_k = false});
  const double z = std::exp(1.0) + std::exp(3.0) + std::exp(2.0) + std::exp(0.0);
  CHECK(r.weights[0] == Approx(std::exp(3.0) / z));
  CHECK(r.weights[1] == Approx(std::exp(2.0) / z));
}

TEST_CASE("sigmoid routing weighs each expert independently and scales after renormalising", "[routing]") {
  const auto r = route({0.5f, -1.0f, 2.0f, 1.0f}, 2,
                       {.gating = ExpertGating::sigmoid, .normalize_top_k = true, .weights_scale = 2.5f});
  CHECK(r.experts == std::vector<int32_t>{2, 3});
  const float a = sigmoid(2.0f), b = sigmoid(1.0f);
  CHECK(r.weights[0] == Approx(2.5 * a / (a + b)));
  CHECK(r.weights[1] == Approx(2.5 * b / (a + b)));
}

TEST_CASE("the selection bias changes which experts are chosen but not their weights", "[routing]") {
  const RoutingOptions o{.gating = ExpertGating::sigmoid, .normalize_top_k = false};
  const auto r = route({2.0f, 1.0f, 0.0f, -1.0f}, 2, o, {0.0f, 0.0f, 0.9f, 0.0f});
  // sigmoid: 0.881, 0.731, 0.5, 0.269; with the bias expert 2 scores 1.4 and beats expert 1.
  CHECK(r.experts == std::vector<int32_t>{2, 0});
  CHECK(r.weights[0] == Approx(sigmoid(0.0f)));
  CHECK(r.weights[1] == Approx(sigmoid(2.0f)));
}

TEST_CASE("group-limited routing only picks experts of the groups whose two best scores sum highest", "[routing]") {
  // Four groups of two. Expert 0 alone is the best, but its group (0.9 + 0.01) loses to groups
  // 1 (0.5 + 0.5) and 3 (0.6 + 0.45); group 2 sums to 0.2.
  const std::vector<float> probs{0.9f, 0.01f, 0.5f, 0.5f, 0.1f, 0.1f, 0.6f, 0.45f};
  std::vector<float> logits;
  for (float p : probs) logits.push_back(std::log(p / (1.0f - p)));
  const auto r = route(logits, 3, {.gating = ExpertGating::sigmoid, .normalize_top_k = false, .n_groups = 4, .n_groups_used = 2});
  CHECK(r.experts == std::vector<int32_t>{6, 2, 3});
  // Without groups expert 0 would lead.
  const auto ungrouped = route(logits, 3, {.gating = ExpertGating::sigmoid, .normalize_top_k = false});
  CHECK(ungrouped.experts[0] == 0);
}

TEST_CASE("a near-zero weight sum is floored instead of dividing by zero", "[routing]") {
  const auto r = route({-40.0f, -41.0f, -42.0f}, 2, {.gating = ExpertGating::sigmoid, .normalize_top_k = true});
  CHECK(std::isfinite(r.weights[0]));
  CHECK(r.weights[0] < 1e-9);
}

TEST_CASE("equal scores go to the lower expert id", "[routing]") {
  const auto r = route({1.0f, 1.0f, 1.0f, 1.0f}, 2, {.gating = ExpertGating::softmax});
  CHECK(r.experts == std::vector<int32_t>{0, 1});
}
