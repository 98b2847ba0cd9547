// A Session is one conversation with a model: the tokens it has read, their KV cache, and the
// logits for what comes next. The agent keeps one Session for a whole task: each step appends
// only the new tokens (tool results, the user's next message) and never re-reads the rest.
//
//   auto ops = make_cpu_ops(threads);
//   auto session = Session::create(model, ops, {});
//   session->append(prompt_ids);             // prefill, in batches of n_batch
//   int32_t next = sampler.sample(session->logits());
//   session->append({&next, 1});            // decode step
//
// A Session is not thread-safe, and Sessions that share an Ops must not run at the same time.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "common/expected.h"
#include "engine/models/model.h"
#include "engine/models/transformer.h"
#include "engine/session/kv_cache.h"
#include "kernels/ops.h"

namespace scout {

struct SessionOptions {
  int32_t n_ctx = 0;        // positions the cache holds; 0: min(the model's training context, 4096)
  int32_t n_batch = 512;    // tokens per forward pass while prefilling
  KvType kv_type = KvType::f16;
  MlaAttention mla_attention = MlaAttention::automatic;  // deepseek2 only: how attention is computed
};

// The CPU backend with n_threads threads (0: one per core).
std::shared_ptr<Ops> make_cpu_ops(int n_threads = 0);

class Session {
 public:
  static Result<Session> create(std::shared_ptr<const Model> model, std::shared_ptr<Ops> ops,
                                SessionOptions options = {});

  Session(Session&&) noexcept = default;
  Session& operator=(Session&&) noexcept = default;

  // Reads tokens at positions n_past()..; afterwards logits() holds the next-token logits. With
  // all_logits, logits_at(i) holds the logits after the i-th token of this call. Fails (changing
  // nothing) when the tokens do not fit in the context or an id is outside the vocabulary.
  Result<void> append(std::span<const int32_t> tokens, bool all_logits = false);

  // Next-token logits after the last token read (n_vocab floats). Empty before any append.
  std::span<const float> logits() const;
  std::span<const float> logits_at(size_t i) const;

  int32_t n_past() const { return static_cast<int32_t>(tokens_.size()); }
  int32_t n_ctx() const { return cache_.n_ctx(); }
  size_t kv_bytes_per_position() const { return cache_.bytes_per_position(); }
  std::span<const int32_t> tokens() const { return tokens_; }
  const Model& model() const { return *model_; }
  const SessionOptions& options() const { return options_; }

  // Forgets every position >= n (to retry a step or edit the end of a conversation). When
  // n > 0 the logits after token n-1 are recomputed (one decode step), so sampling can go on —
  // unless `recompute_logits` is false, for a caller that appends tokens next anyway: then
  // logits() is empty until the next append, and nothing is computed.
  Result<void> truncate(int32_t n, bool recompute_logits = true);

  // An independent copy: same tokens, cache contents and logits (the cache positions in use are
  // copied; the copy's cache holds as many positions as this one's).
  Result<Session> fork() const;

  // Tokens computed by forward passes over the Session's life (prefill + decode + recomputes).
  int64_t n_evaluated() const { return n_evaluated_; }

 private:
  Session(std::shared_ptr<const Model> model, std::shared_ptr<Ops> ops, SessionOptions options);
  void run(std::span<const int32_t> tokens, bool all_logits);

  std::shared_ptr<const Model> model_;
  std::shared_ptr<Ops> ops_;
  SessionOptions options_;
  KvCache cache_;
  std::unique_ptr<Transformer> transformer_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;      // rows of n_vocab: one, or one per token of the last append
  size_t n_logit_rows_ = 0;
  int64_t n_evaluated_ = 0;
};

}  // namespace scout
