// Mixture-of-experts routing of one token: router logits in, the chosen experts and their
// weights out, with the gating variants of the architectures Scout runs (llama.cpp's
// build_moe_ffn semantics):
//
//   probs  = softmax(logits) (Qwen3-MoE, DeepSeek-V2) or sigmoid(logits) (DeepSeek-V3)
//   score  = probs + selection bias (V3's exp_probs_b; chooses experts, never weighs them)
//   groups (V3): experts form n_groups groups of consecutive ids; a group scores the sum of its
//            two best scores; experts outside the n_groups_used best groups are dropped
//   experts = top-k by score (ties to the lower id); weights = probs of those experts,
//            optionally divided by max(their sum, 2^-14), then times weights_scale.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/models/model_spec.h"

namespace scout {

struct RoutingOptions {
  ExpertGating gating = ExpertGating::softmax;
  bool normalize_top_k = true;
  float weights_scale = 1.0f;
  uint32_t n_groups = 0;       // 0 or 1: no groups
  uint32_t n_groups_used = 0;
};

// Routes tokens one at a time; holds scratch, so one router per thread.
class ExpertRouter {
 public:
  ExpertRouter() = default;
  // `logits`: n_expert router outputs, overwritten with the probabilities. `selection_bias`:
  // n_expert floats or null. Writes k expert ids and k weights.
  void route(float* logits, int32_t n_expert, int32_t k, const RoutingOptions& options, const float* selection_bias,
             int32_t* experts, float* weights);

 private:
  std::vector<int32_t> order_;
  std::vector<float> score_;
  std::vector<float> group_score_;
  std::vector<uint8_t> group_kept_;
};

}  // namespace scout
