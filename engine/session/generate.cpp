#include "engine/session/generate.h"

#include <algorithm>
#include <vector>

#include "engine/sampling/stop_matcher.h"

namespace scout {

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::max_tokens: return "max_tokens";
    case StopReason::end_of_generation: return "end_of_generation";
    case StopReason::stop_token: return "stop_token";
    case StopReason::stop_string: return "stop_string";
    case StopReason::cancelled: return "cancelled";
    case StopReason::context_full: return "context_full";
  }
  return "unknown";
}

namespace {
double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt, Sampler& sampler,
                                const GenerateOptions& options, const TokenCallback& on_token) {
  GenerateResult result;
  const Tokenizer& tokenizer = session.model().tokenizer();
  const auto start = std::chrono::steady_clock::now();
  if (!prompt.empty()) {
    if (auto ok = session.append(prompt); !ok) return make_error(ok.error().message);
  } else if (session.logits().empty()) {
    return make_error("nothing to continue from: the prompt is empty and the session holds no logits");
  }
  for (int32_t id : prompt) sampler.accept(id);
  result.timings.n_prompt = static_cast<int32_t>(prompt.size());
  result.timings.prompt_ms = ms_since(start);

  std::vector<int32_t> end_ids;
  if (options.stop_at_end_of_generation) {
    for (auto id : {tokenizer.eos_id(), tokenizer.eot_id()})
      if (id) end_ids.push_back(*id);
  }
  StreamingDecoder decoder(tokenizer);
  StopMatcher stops(options.stop_strings);
  std::vector<float> logits;
  const auto decode_start = std::chrono::steady_clock::now();
  auto finish = [&](StopReason reason) {
    result.stop_reason = reason;
    if (reason != StopReason::stop_string) result.text += stops.feed(decoder.flush()).emit + stops.flush();
    result.timings.decode_ms = ms_since(decode_start);
    return result;
  };

  for (int32_t i = 0; i < options.max_tokens; ++i) {
    int32_t token = 0;
    if (static_cast<std::size_t>(i) < options.forced_tokens.size()) {
      token = options.forced_tokens[static_cast<std::size_t>(i)];
      if (token < 0 || static_cast<std::uint32_t>(token) >= session.model().hparams().n_vocab)
        return make_error("forced token id " + std::to_string(token) + " is out of range");
    } else {
      const auto row = session.logits();
      logits.assign(row.begin(), row.end());
      auto next = sampler.sample(logits);
      if (!next) return make_error(next.error().message);
      token = *next;
    }
    sampler.accept(token);
    result.tokens.push_back(token);
    result.timings.n_generated = static_cast<int32_t>(result.tokens.size());
    const bool at_context_end = session.n_past() >= session.n_ctx();
    if (!at_context_end) {
      if (auto ok = session.append({&token, 1}); !ok) return make_error(ok.error().message);
    }

    const bool is_end = std::find(end_ids.begin(), end_ids.end(), token) != end_ids.end();
    const bool is_stop = std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) !=
                         options.stop_tokens.end();
    if (is_end || is_stop) {
      if (on_token && !on_token({token, {}})) return finish(StopReason::cancelled);
      return finish(is_end ? StopReason::end_of_generation : StopReason::stop_token);
    }
    // Control tokens (chat markers) are not text to show, unless asked for.
    std::string piece;
    if (!tokenizer.is_control(token)) {
      piece = decoder.push(token);
    } else if (options.show_control_tokens) {
      piece = decoder.flush() + tokenizer.token_to_piece(token);
    }
    auto step = stops.feed(piece);
    result.text += step.emit;
    const bool go_on = !on_token || on_token({token, step.emit});
    if (step.stopped) {
      result.matched_stop = step.matched;
      return finish(StopReason::stop_string);
    }
    if (!go_on) return finish(StopReason::cancelled);
    if (at_context_end) return finish(StopReason::context_full);
  }
  return finish(StopReason::max_tokens);
}

}  // namespace scout
