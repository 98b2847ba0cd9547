// This file is compiled with -ffp-contract=off (see CMakeLists.txt): the exponential and the
// sums below must round the same way on every compiler and CPU, and fusing a multiply and an
// add into one FMA would change the rounding where FMA is available. It is also compiled with
// -fno-trapping-math, which changes no value (we never read the floating-point exception
// flags) but lets GCC vectorise the loops that contain float compares and selects.
#include "engine/sampling/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace scout {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Unexpected<Error> config_error(const std::string& what) { return make_error("sampler: " + what); }

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// e^x for x <= 0 from + - * only (Cephes' expf polynomial), so that it is the same everywhere;
// libm's expf differs between C libraries in the last bit. Within 1 ulp of the exact value
// over every float in [-87, 0], and exactly 1 at 0. Below -87 the result nears the subnormal
// range (a token 1e-38 times less likely than the top one): it is flushed to 0, so such
// tokens are never drawn.
float exp_nonpositive(float x) {
  // Branch-free (the cut-off is a select at the end) so that loops over it vectorise.
  const bool representable = x >= -87.0f;
  const float xc = representable ? x : -87.0f;
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding then subtracting it rounds to int
  const float n = (xc * kLog2e + kRound) - kRound;  // in [-126, 0]
  // Cody-Waite reduction: ln 2 split in two so that n * kLn2Hi is exact.
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * (r * r) + r + 1.0f;
  const auto biased_exponent = static_cast<uint32_t>(static_cast<int32_t>(n) + 127);
  return representable ? y * std::bit_cast<float>(biased_exponent << 23) : 0.0f;
}

struct RowScan {
  float max = -kInf;     // -inf when every token is impossible
  int32_t argmax = -1;   // the lowest id holding max; -1 when max is -inf
  bool invalid = false;  // some value is NaN or +inf
};

bool is_nan_or_pos_inf(float v) {
  const uint32_t bits = std::bit_cast<uint32_t>(v);
  return ((bits & 0x7fffffffu) >= 0x7f800000u) & (bits != 0xff800000u);
}

// Whether any of the kBlock values at p exceeds `bound`; branch-free so that it vectorises.
template <size_t kBlock>
bool any_greater(const float* p, float bound) {
  uint32_t any = 0;
  for (size_t j = 0; j < kBlock; ++j) any |= static_cast<uint32_t>(p[j] > bound);
  return any != 0;
}

// Block size of the vectorised pre-checks: large enough that GCC vectorises the check rather
// than unrolling it, small enough that a block holding a new maximum is cheap to rescan.
constexpr size_t kBlock = 64;

// One pass for the validity check (vectorised), one for the maximum: a block is only scanned
// value by value when one of its values beats the maximum so far, which on a row of logits
// happens a few dozen times. Strict > keeps the lowest id among equal maxima.
RowScan scan_row(std::span<const float> row) {
  RowScan out;
  uint32_t invalid = 0;
  for (float v : row) invalid |= static_cast<uint32_t>(is_nan_or_pos_inf(v));
  out.invalid = invalid != 0;
  auto visit = [&](size_t i) {
    if (row[i] > out.max) {  // NaN never wins; it is reported instead
      out.max = row[i];
      out.argmax = static_cast<int32_t>(i);
    }
  };
  const size_t n = row.size();
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    if (!any_greater<kBlock>(&row[i], out.max)) continue;
    for (size_t j = 0; j < kBlock; ++j) visit(i + j);
  }
  for (; i < n; ++i) visit(i);
  return out;
}

// The order of candidates: more likely first, ties to the lower id. A strict total order, so
// every sort and heap below has one possible result whatever the standard library.
bool ranks_before(const Sampler::Candidate& a, const Sampler::Candidate& b) {
  return a.value > b.value || (a.value == b.value && a.id < b.id);
}

}  // namespace

SamplerConfig SamplerConfig::greedy() {
  SamplerConfig c;
  c.temperature = 0.0f;
  c.top_k = 0;
  c.top_p = 1.0f;
  c.min_p = 0.0f;
  return c;
}

Result<Sampler> Sampler::create(SamplerConfig c, int32_t n_vocab) {
  if (n_vocab <= 0) return config_error("n_vocab is " + std::to_string(n_vocab) + "; it must be > 0");
  if (!std::isfinite(c.temperature)) {
    return config_error("temperature is " + fmt(c.temperature) + "; it must be finite (<= 0 means greedy)");
  }
  if (std::isnan(c.top_p) || c.top_p < 0.0f) {
    return config_error("top_p is " + fmt(c.top_p) + "; it must be >= 0 (>= 1 turns it off)");
  }
  if (std::isnan(c.min_p) || c.min_p > 1.0f) {
    return config_error("min_p is " + fmt(c.min_p) + "; it must be <= 1 (<= 0 turns it off)");
  }
  if (!std::isfinite(c.repeat_penalty) || c.repeat_penalty <= 0.0f) {
    return config_error("repeat_penalty is " + fmt(c.repeat_penalty) + "; it must be finite and > 0 (1 turns it off)");
  }
  if (!std::isfinite(c.presence_penalty)) {
    return config_error("presence_penalty is " + fmt(c.presence_penalty) + "; it must be finite");
  }
  if (!std::isfinite(c.frequency_penalty)) {
    return config_error("frequency_penalty is " + fmt(c.frequency_penalty) + "; it must be finite");
  }
  if (c.penalty_last_n < -1) {
    return config_error("penalty_last_n is " + std::to_string(c.penalty_last_n) +
                        "; it must be >= -1 (0 turns penalties off, -1 uses the whole history)");
  }
  for (size_t i = 0; i < c.logit_bias.size(); ++i) {
    const auto [id, value] = c.logit_bias[i];
    const std::string entry = "logit_bias[" + std::to_string(i) + "] ";
    if (id < 0 || id >= n_vocab) {
      return config_error(entry + "names token " + std::to_string(id) + ", outside the vocabulary [0, " +
                          std::to_string(n_vocab) + ")");
    }
    if (std::isnan(value) || value == kInf) {
      return config_error(entry + "gives token " + std::to_string(id) + " the bias " + fmt(value) +
                          "; a bias must be finite, or -inf to ban the token");
    }
  }
  return Sampler(std::move(c), n_vocab);
}

Sampler::Sampler(SamplerConfig config, int32_t n_vocab) : config_(std::move(config)), n_vocab_(n_vocab) {
  reset();
}

void Sampler::reset() {
  window_.clear();
  counts_.clear();
  // splitmix64 spreads any seed (0 included) over the 256-bit state, as xoshiro's authors advise.
  uint64_t s = config_.seed;
  for (uint64_t& word : rng_) word = splitmix64(s);
}

// xoshiro256** (Blackman and Vigna).
uint64_t Sampler::next_random() {
  const uint64_t result = std::rotl(rng_[1] * 5, 7) * 9;
  const uint64_t t = rng_[1] << 17;
  rng_[2] ^= rng_[0];
  rng_[3] ^= rng_[1];
  rng_[1] ^= rng_[2];
  rng_[0] ^= rng_[3];
  rng_[2] ^= t;
  rng_[3] = std::rotl(rng_[3], 45);
  return result;
}

bool Sampler::penalties_on() const {
  return config_.penalty_last_n != 0 &&
         (config_.repeat_penalty != 1.0f || config_.presence_penalty != 0.0f || config_.frequency_penalty != 0.0f);
}

void Sampler::accept(int32_t token) {
  if (token < 0 || token >= n_vocab_ || !penalties_on()) return;
  ++counts_[token];
  if (config_.penalty_last_n < 0) return;  // whole history: counts only, no window to slide
  window_.push_back(token);
  if (window_.size() > static_cast<size_t>(config_.penalty_last_n)) {
    const int32_t old = window_.front();
    window_.pop_front();
    if (--counts_[old] == 0) counts_.erase(old);
  }
}

void Sampler::apply_penalties(std::span<float> logits) const {
  // Each token is penalised once whatever its count, in llama.cpp's arithmetic order. The
  // order of the map's iteration does not matter: every token is updated independently.
  for (const auto& [token, count] : counts_) {
    float& l = logits[static_cast<size_t>(token)];
    if (config_.repeat_penalty != 1.0f) l = l > 0.0f ? l / config_.repeat_penalty : l * config_.repeat_penalty;
    l -= static_cast<float>(count) * config_.frequency_penalty + config_.presence_penalty;
  }
}

Result<int32_t> Sampler::sample(std::span<float> logits) {
  if (logits.size() != static_cast<size_t>(n_vocab_)) {
    return make_error("sampler: the logits row has " + std::to_string(logits.size()) + " values; the vocabulary has " +
                      std::to_string(n_vocab_) + " tokens");
  }
  for (const auto& [id, value] : config_.logit_bias) logits[static_cast<size_t>(id)] += value;
  if (penalties_on()) apply_penalties(logits);
  const RowScan scan = scan_row(logits);
  if (scan.invalid) {
    const auto bad = std::find_if(logits.begin(), logits.end(), is_nan_or_pos_inf);
    return make_error("sampler: the logit of token " + std::to_string(bad - logits.begin()) + " is " + fmt(*bad) +
                      " after logit bias and penalties; the forward pass produced a non-finite value");
  }
  if (scan.max == -kInf) {
    const auto banned = std::count_if(config_.logit_bias.begin(), config_.logit_bias.end(),
                                      [](const auto& b) { return b.second == -kInf; });
    return make_error("sampler: no token can be sampled: every logit is -inf after logit bias and penalties (" +
                      std::to_string(banned) + " logit_bias entries ban a token)");
  }
  if (config_.temperature <= 0.0f) return scan.argmax;

  const size_t n = logits.size();
  const bool top_k_on = config_.top_k > 0 && static_cast<size_t>(config_.top_k) < n;
  const size_t n_keep = top_k_on ? truncate_top_k(logits, scan.max) : truncate_all(logits, scan.max);

  // Renormalising is implicit: the target is a fraction of the kept tokens' total weight, and
  // the walk sums in the same order as the total, so it ends exactly at the total.
  const double u = static_cast<double>(next_random() >> 11) * 0x1.0p-53;  // [0, 1), 53 bits
  double kept = 0.0;
  for (size_t i = 0; i < n_keep; ++i) kept += candidates_[i].value;
  const double target = u * kept;
  double cum = 0.0;
  int32_t chosen = candidates_[0].id;
  for (size_t i = 0; i < n_keep; ++i) {
    if (candidates_[i].value <= 0.0f) continue;  // underflowed weights are never drawn
    chosen = candidates_[i].id;
    cum += candidates_[i].value;
    if (cum > target) break;  // if rounding leaves cum <= target, the last positive one stays
  }
  return chosen;
}

size_t Sampler::truncate_top_k(std::span<const float> logits, float max_logit) {
  // top-k in one scan: a heap whose front is the weakest of the k best so far. Most tokens
  // fail the single comparison with that front, so the scan costs about n comparisons plus
  // O(k log k log(n/k)) heap work, instead of a sort of the vocabulary. The comparisons are
  // made a block at a time (vectorised) and a block is only visited when one of its tokens
  // beats the front. Ids are visited in increasing order, so a later token with an equal logit
  // never displaces an earlier one. Until the heap is full the front is -inf, which lets
  // every possible token in and keeps out the impossible ones.
  const auto k = static_cast<size_t>(config_.top_k);
  candidates_.clear();
  candidates_.reserve(k);
  float weakest = -kInf;
  auto visit = [&](size_t i) {
    const float l = logits[i];
    if (!(l > weakest)) return;
    if (candidates_.size() < k) {
      candidates_.push_back({static_cast<int32_t>(i), l});
      std::push_heap(candidates_.begin(), candidates_.end(), ranks_before);
      if (candidates_.size() == k) weakest = candidates_.front().value;
    } else {
      std::pop_heap(candidates_.begin(), candidates_.end(), ranks_before);
      candidates_.back() = {static_cast<int32_t>(i), l};
      std::push_heap(candidates_.begin(), candidates_.end(), ranks_before);
      weakest = candidates_.front().value;
    }
  };
  const size_t n = logits.size();
  size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    if (!any_greater<kBlock>(&logits[i], weakest)) continue;
    for (size_t j = 0; j < kBlock; ++j) visit(i + j);
  }
  for (; i < n; ++i) visit(i);

  const float inv_t = 1.0f / config_.temperature;
  for (Candidate& c : candidates_) c.value = exp_nonpositive((c.value - max_logit) * inv_t);
  std::sort(candidates_.begin(), candidates_.end(), ranks_before);
  // min-p keeps a prefix of the sorted list, and so does top-p: keep the shorter one.
  size_t keep = candidates_.size();
  if (config_.min_p > 0.0f) {
    keep = static_cast<size_t>(std::partition_point(candidates_.begin(), candidates_.end(),
                                                    [&](const Candidate& c) { return c.value >= config_.min_p; }) -
                               candidates_.begin());
  }
  if (config_.top_p < 1.0f) {
    double total = 0.0;
    for (const Candidate& c : candidates_) total += c.value;
    const double target = static_cast<double>(config_.top_p) * total;
    double cum = 0.0;
    for (size_t j = 0; j < keep; ++j) {
      cum += candidates_[j].value;
      if (cum >= target) return j + 1;
    }
  }
  return keep;
}

size_t Sampler::truncate_all(std::span<const float> logits, float max_logit) {
  // Every weight in one vectorised loop (-inf logits give 0). A weight is relative to the top
  // token, whose weight is exactly e^0 = 1, so it is also p / p_max, what min-p compares to.
  const size_t n = logits.size();
  weights_.resize(n);
  const float inv_t = 1.0f / config_.temperature;
  for (size_t i = 0; i < n; ++i) weights_[i] = exp_nonpositive((logits[i] - max_logit) * inv_t);
  const float min_weight = config_.min_p > 0.0f ? config_.min_p : 0.0f;

  // Appends, in id order, the tokens with lo <= weight < hi. A weight of 0 (an impossible or
  // underflowed token) is never taken: it can neither be drawn nor add mass. Blocks with no
  // weight >= lo are skipped by a vectorised check.
  auto collect = [&](float lo, float hi) {
    const float above = lo > 0.0f ? std::nextafter(lo, 0.0f) : 0.0f;  // w > above  <=>  w >= lo
    auto visit = [&](size_t i) {
      const float w = weights_[i];
      if (w > above && w < hi) candidates_.push_back({static_cast<int32_t>(i), w});
    };
    size_t i = 0;
    for (; i + kBlock <= n; i += kBlock) {
      if (!any_greater<kBlock>(&weights_[i], above)) continue;
      for (size_t j = 0; j < kBlock; ++j) visit(i + j);
    }
    for (; i < n; ++i) visit(i);
  };
  candidates_.clear();
  if (config_.top_p >= 1.0f) {
    collect(min_weight, kInf);
    return candidates_.size();
  }

  // The softmax denominator over the vocabulary, in four fixed lanes: faster than one chain
  // of dependent adds, and the same sum everywhere.
  double lanes[4] = {0.0, 0.0, 0.0, 0.0};
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    for (size_t j = 0; j < 4; ++j) lanes[j] += weights_[i + j];
  }
  for (; i < n; ++i) lanes[0] += weights_[i];
  const double target = static_cast<double>(config_.top_p) * ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));

  // Top-p then min-p keeps the shorter of two prefixes of the sorted vocabulary: the nucleus
  // and the tokens with weight >= min_p. So sort band by band, most likely first: take the
  // tokens with weight in [threshold, previous threshold), sort only those and walk the
  // cumulative mass; if the nucleus is not complete, lower the threshold. Every token of a
  // band outweighs every token of the next, so the bands together are one sorted prefix.
  // Tokens under the min-p weight are never needed. A peaked distribution ends in one band.
  constexpr int kMaxBands = 4;  // then everything left above min-p in one band
  float hi = kInf;
  float threshold = 1.0f / 64;
  double cum = 0.0;
  for (int band = 1;; ++band) {
    const bool last = band == kMaxBands || threshold <= min_weight;
    const float lo = last ? min_weight : threshold;
    const size_t begin = candidates_.size();
    collect(lo, hi);
    std::sort(candidates_.begin() + static_cast<ptrdiff_t>(begin), candidates_.end(), ranks_before);
    for (size_t j = begin; j < candidates_.size(); ++j) {
      cum += candidates_[j].value;
      if (cum >= target) return j + 1;
    }
    if (last) return candidates_.size();
    hi = lo;
    threshold /= 64;
  }
}

}  // namespace scout
