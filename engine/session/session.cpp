#include "engine/session/session.h"

#include <algorithm>
#include <thread>

#include "kernels/cpu/cpu_ops.h"

namespace scout {

std::shared_ptr<Ops> make_cpu_ops(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::make_shared<CpuOps>(n_threads);
}

namespace {
int32_t resolve_n_ctx(const ModelHparams& hp, int32_t requested) {
  if (requested > 0) return requested;
  return static_cast<int32_t>(std::min<uint32_t>(hp.n_ctx_train ? hp.n_ctx_train : 4096, 4096));
}
}  // namespace

Session::Session(std::shared_ptr<const Model> model, std::shared_ptr<Ops> ops, SessionOptions options)
    : model_(std::move(model)), ops_(std::move(ops)), options_(options),
      cache_(model_->hparams(), options_.n_ctx, options_.kv_type),
      transformer_(std::make_unique<Transformer>(*model_, *ops_, TransformerOptions{.mla = options_.mla_attention})) {}

Result<Session> Session::create(std::shared_ptr<const Model> model, std::shared_ptr<Ops> ops, SessionOptions options) {
  if (!model || !ops) return make_error("a session needs a model and a backend");
  if (options.n_batch <= 0) return make_error("n_batch must be > 0 (got " + std::to_string(options.n_batch) + ")");
  if (options.n_ctx < 0) return make_error("the context size must be > 0 (got " + std::to_string(options.n_ctx) + ")");
  options.n_ctx = resolve_n_ctx(model->hparams(), options.n_ctx);
  return Session(std::move(model), std::move(ops), options);
}

Result<void> Session::append(std::span<const int32_t> tokens, bool all_logits) {
  if (tokens.empty()) return {};
  const int64_t n_vocab = model_->hparams().n_vocab;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= n_vocab)
      return make_error("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                        " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
  if (static_cast<int64_t>(tokens_.size()) + static_cast<int64_t>(tokens.size()) > cache_.n_ctx())
    return make_error(std::to_string(tokens.size()) + " more tokens do not fit in the context: it holds " +
                      std::to_string(cache_.n_ctx()) + " positions and " + std::to_string(tokens_.size()) +
                      " are in use (raise the context size, or truncate the input)");
  run(tokens, all_logits);
  return {};
}

void Session::run(std::span<const int32_t> tokens, bool all_logits) {
  const int64_t n_vocab = model_->hparams().n_vocab;
  const size_t rows = all_logits ? tokens.size() : 1;
  logits_.resize(rows * static_cast<size_t>(n_vocab));
  n_logit_rows_ = rows;
  std::vector<int32_t> positions, logit_rows;
  for (size_t begin = 0; begin < tokens.size(); begin += static_cast<size_t>(options_.n_batch)) {
    const size_t end = std::min(tokens.size(), begin + static_cast<size_t>(options_.n_batch));
    const auto batch = tokens.subspan(begin, end - begin);
    positions.resize(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) positions[i] = static_cast<int32_t>(tokens_.size() + i);
    logit_rows.clear();
    float* out = logits_.data();
    if (all_logits) {
      for (size_t i = 0; i < batch.size(); ++i) logit_rows.push_back(static_cast<int32_t>(i));
      out += begin * static_cast<size_t>(n_vocab);
    } else if (end == tokens.size()) {
      logit_rows.push_back(static_cast<int32_t>(batch.size() - 1));
    }
    transformer_->forward(batch, positions, cache_, logit_rows, out);
    tokens_.insert(tokens_.end(), batch.begin(), batch.end());
    n_evaluated_ += static_cast<int64_t>(batch.size());
  }
}

std::span<const float> Session::logits() const {
  if (n_logit_rows_ == 0) return {};
  const size_t n_vocab = model_->hparams().n_vocab;
  return {logits_.data() + (n_logit_rows_ - 1) * n_vocab, n_vocab};
}

std::span<const float> Session::logits_at(size_t i) const {
  if (i >= n_logit_rows_) return {};
  const size_t n_vocab = model_->hparams().n_vocab;
  return {logits_.data() + i * n_vocab, n_vocab};
}

Result<void> Session::truncate(int32_t n, bool recompute_logits) {
  if (n < 0 || n > n_past())
    return make_error("cannot truncate to position " + std::to_string(n) + ": the session holds " +
                      std::to_string(n_past()) + " tokens");
  if (n == n_past()) return {};
  tokens_.resize(static_cast<size_t>(n));
  n_logit_rows_ = 0;
  if (n > 0 && recompute_logits) {
    // Re-running the last kept token rewrites its own K/V with identical values and yields
    // the logits that follow it.
    const int32_t last = tokens_.back();
    tokens_.pop_back();
    run({&last, 1}, false);
  }
  return {};
}

Result<Session> Session::fork() const {
  Session copy(model_, ops_, options_);
  copy.cache_.copy_prefix_from(cache_, n_past());
  copy.tokens_ = tokens_;
  copy.logits_ = logits_;
  copy.n_logit_rows_ = n_logit_rows_;
  return copy;
}

}  // namespace scout
