#include "engine/models/routing.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace scout {

void ExpertRouter::route(float* p, int32_t n_expert, int32_t k, const RoutingOptions& o, const float* bias,
                         int32_t* experts, float* weights) {
  if (o.gating == ExpertGating::softmax) {
    // As ggml's soft_max: the sum in double, then one float reciprocal.
    const float max_logit = *std::max_element(p, p + n_expert);
    double sum = 0.0;
    for (int32_t e = 0; e < n_expert; ++e) {
      p[e] = std::exp(p[e] - max_logit);
      sum += p[e];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int32_t e = 0; e < n_expert; ++e) p[e] *= inv;
  } else {
    for (int32_t e = 0; e < n_expert; ++e) p[e] = 1.0f / (1.0f + std::exp(-p[e]));
  }
  const float* score = p;
  const bool grouped = o.n_groups > 1;
  if (grouped || bias) {
    score_.resize(static_cast<size_t>(n_expert));
    for (int32_t e = 0; e < n_expert; ++e) score_[static_cast<size_t>(e)] = bias ? p[e] + bias[e] : p[e];
    if (grouped) {
      const int32_t per_group = n_expert / static_cast<int32_t>(o.n_groups);
      group_score_.resize(o.n_groups);
      group_kept_.assign(o.n_groups, 0);
      for (uint32_t g = 0; g < o.n_groups; ++g) {
        const float* s = score_.data() + g * per_group;
        float best = -INFINITY, second = -INFINITY;
        for (int32_t e = 0; e < per_group; ++e) {
          if (s[e] > best) {
            second = best;
            best = s[e];
          } else if (s[e] > second) {
            second = s[e];
          }
        }
        group_score_[g] = best + second;
      }
      for (uint32_t i = 0; i < o.n_groups_used; ++i) {
        uint32_t top = o.n_groups;
        for (uint32_t g = 0; g < o.n_groups; ++g)
          if (!group_kept_[g] && (top == o.n_groups || group_score_[g] > group_score_[top])) top = g;
        group_kept_[top] = 1;
      }
      for (uint32_t g = 0; g < o.n_groups; ++g)
        if (!group_kept_[g]) std::fill(score_.begin() + g * per_group, score_.begin() + (g + 1) * per_group, -INFINITY);
    }
    score = score_.data();
  }
  order_.resize(static_cast<size_t>(n_expert));
  std::iota(order_.begin(), order_.end(), 0);
  std::partial_sort(order_.begin(), order_.begin() + k, order_.end(), [&](int32_t a, int32_t b) {
    return score[a] > score[b] || (score[a] == score[b] && a < b);
  });
  float w_sum = 0.0f;
  for (int32_t j = 0; j < k; ++j) {
    experts[j] = order_[static_cast<size_t>(j)];
    weights[j] = p[experts[j]];
    w_sum += weights[j];
  }
  if (o.normalize_top_k) {
    w_sum = std::max(w_sum, 6.103515625e-5f);  // as llama.cpp: never divide by (nearly) zero
    for (int32_t j = 0; j < k; ++j) weights[j] /= w_sum;
  }
  if (o.weights_scale != 1.0f)
    for (int32_t j = 0; j < k; ++j) weights[j] *= o.weights_scale;
}

}  // namespace scout
