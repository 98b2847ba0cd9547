// Sampler: picks the next token from a row of logits.
//
// One call to sample() runs these steps, in this order:
//
//   logits ──► logit bias ──► penalties (repeat, presence, frequency over the recent window)
//          ──► greedy (temperature <= 0): argmax, ties to the lowest id ──────────────► token
//          ──► otherwise: top-k ──► temperature ──► softmax ──► top-p ──► min-p
//                         ──► renormalise ──► draw with the seeded generator ────────► token
//
// Candidates of equal probability are ordered by id, lower first, wherever order matters
// (top-k, top-p and the draw), so truncation never depends on how a sort breaks ties.
//
// Determinism: the same config, seed, accepted tokens and logits give the same tokens on every
// platform with IEEE-754 single precision (x86-64, ARM64). The generator (xoshiro256**), the
// uniform number (the top 53 bits of one draw), the exponential (our own polynomial, compiled
// without FMA contraction) and every sum and ordering are fixed by this code, not by the
// standard library or libm. Each non-greedy sample() consumes exactly one draw; greedy none.
//
// Cost for n logits: greedy is one O(n) scan. top-k keeps a k-element heap during one scan
// (no sort of the vocabulary). Without top-k, top-p sorts only the tokens above a probability
// threshold, lowering it until the nucleus is complete; min-p alone sorts nothing. For
// n = 151936 on one x86-64 core: greedy ~55 us, the default config ~90 us, top-p or min-p
// without top-k ~0.3 ms (a flat distribution, whose nucleus is most of the vocabulary, ~14 ms).
//
// Thread-safety: a Sampler holds the history and generator of one sequence; use one per
// sequence. Distinct Samplers may be used from different threads.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/expected.h"

namespace scout {

struct SamplerConfig {
  float temperature = 0.8f;  // <= 0: greedy (argmax, ties to the lowest id). Must be finite.
  int32_t top_k = 40;        // <= 0: off. Keep the k most likely tokens.
  float top_p = 0.95f;       // >= 1: off. Keep the smallest most-likely set whose mass >= top_p
                             // (always at least one token, so 0 keeps only the top token).
  float min_p = 0.05f;       // <= 0: off; at most 1. Keep tokens with p >= min_p * p_max.
  // llama.cpp's rule, for every token in the window: logit > 0 ? logit / p : logit * p.
  // 1: off. Must be > 0 (below 1 it rewards repetition).
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;   // subtracted once from a token that appears in the window
  float frequency_penalty = 0.0f;  // subtracted once per appearance in the window
  int32_t penalty_last_n = 64;     // the window: the last n accepted tokens; 0: off; -1: all
  uint64_t seed = 0;
  // (token id, value) added to the logit; -inf bans the token. Entries for the same id add up.
  std::vector<std::pair<int32_t, float>> logit_bias;

  // Temperature 0 and every other step off: the argmax of the raw logits.
  static SamplerConfig greedy();
};

class Sampler {
 public:
  // Checks every field and the bias ids against n_vocab. The error names the field and the
  // allowed range, e.g. "sampler: top_p is -0.5; it must be >= 0 (>= 1 turns it off)".
  static Result<Sampler> create(SamplerConfig config, int32_t n_vocab);

  // The next token for one row of n_vocab logits. The row is scratch: bias and penalties are
  // applied to it in place. Logits may be -inf (the token is impossible). A temperature <= 0
  // returns the argmax whatever top-k, top-p and min-p say.
  //
  // Errors, each a problem of the caller or the model rather than of sampling:
  //  - the row's length is not n_vocab;
  //  - a logit is NaN or +inf (a broken forward pass; the message names the token);
  //  - no token is possible: every logit is -inf after bias and penalties (typically every
  //    token was banned with logit_bias). Generation cannot continue; report it to the user.
  Result<int32_t> sample(std::span<float> logits);

  // Records a token that entered the context (prompt tokens and sampled ones) for the
  // penalties. sample() does not record its own choice: call accept() with it. Ids outside
  // [0, n_vocab) are ignored. Cheap when penalties are off: nothing is recorded.
  void accept(int32_t token);

  // Forgets the history and restarts the generator from config().seed.
  void reset();

  const SamplerConfig& config() const { return config_; }
  int32_t n_vocab() const { return n_vocab_; }

  // A candidate token: `value` holds its logit, then its unnormalised probability.
  struct Candidate {
    int32_t id;
    float value;
  };

 private:
  Sampler(SamplerConfig config, int32_t n_vocab);

  bool penalties_on() const;
  void apply_penalties(std::span<float> logits) const;
  // Fill candidates_ with (id, unnormalised probability) so that its first N entries, in the
  // order of the draw, are the tokens top-k, top-p and min-p keep, and return N (>= 1).
  // max_logit is the row's largest logit; a weight is e^((logit - max_logit) / temperature).
  size_t truncate_top_k(std::span<const float> logits, float max_logit);
  size_t truncate_all(std::span<const float> logits, float max_logit);  // top-k off
  uint64_t next_random();

  SamplerConfig config_;
  int32_t n_vocab_;
  std::array<uint64_t, 4> rng_{};
  std::deque<int32_t> window_;                  // the last penalty_last_n tokens (unused for -1)
  std::unordered_map<int32_t, int32_t> counts_;  // appearances of each token in the window
  std::vector<Candidate> candidates_;           // scratch, kept to avoid a per-call allocation
  std::vector<float> weights_;                  // scratch: one weight per token (no top-k)
};

}  // namespace scout
