// Generation: reads a prompt into a Session, then samples tokens one at a time, streaming the
// text as it becomes safe to show (whole UTF-8 characters, never part of a stop string).
//
// Every generated token, the stopping one included, is in the Session when generate() returns,
// so a conversation can go on from there without re-reading anything.
#pragma once

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "engine/sampling/sampler.h"
#include "engine/session/session.h"

namespace scout {

enum class StopReason { max_tokens, end_of_generation, stop_token, stop_string, cancelled, context_full };
std::string_view stop_reason_name(StopReason reason);

struct GenerateOptions {
  int32_t max_tokens = 256;
  bool stop_at_end_of_generation = true;  // the model's EOS / end-of-turn tokens
  std::vector<int32_t> stop_tokens{};
  std::vector<std::string> stop_strings{};
  // Control tokens (chat markers) are hidden from the text by default; a caller that parses
  // markup written with them (DeepSeek's tool-call tokens) asks to see them.
  bool show_control_tokens = false;
  // Emitted in this order before any sampling, as if the model had chosen them: they count as
  // generated, are read one at a time like sampled tokens, and stop generation like them.
  // Used to write a fixed continuation into the model's turn (closing its thinking) and to
  // replay a known output through the real engine (teacher forcing, for benchmarks).
  std::vector<int32_t> forced_tokens{};
};

struct TokenEvent {
  int32_t token = 0;
  std::string_view text;  // text now safe to show (may be empty: held back, or a control token)
};
// Called once per generated token; returning false cancels the generation.
using TokenCallback = std::function<bool(const TokenEvent&)>;

struct GenerateTimings {
  int32_t n_prompt = 0;
  int32_t n_generated = 0;
  double prompt_ms = 0;  // reading the prompt (prefill)
  double decode_ms = 0;  // sampling and reading the generated tokens
  double prompt_tokens_per_s() const { return prompt_ms > 0 ? n_prompt * 1000.0 / prompt_ms : 0; }
  double decode_tokens_per_s() const { return decode_ms > 0 ? n_generated * 1000.0 / decode_ms : 0; }
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids, the stopping one included
  std::string text;             // the shown text: up to, not including, a stop string or token
  StopReason stop_reason = StopReason::max_tokens;
  std::string matched_stop;     // the stop string, when stop_reason is stop_string
  GenerateTimings timings;
};

// Appends `prompt` (may be empty if the Session already holds logits), then generates. Errors:
// the prompt does not fit the context, a token id is out of range, or sampling found no
// possible token (every token banned by a logit bias).
Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt, Sampler& sampler,
                                const GenerateOptions& options, const TokenCallback& on_token = {});

}  // namespace scout
