// LocalBackend: the engine as the agent's model. One Session holds the whole task: each turn
// appends only what is new since the last one — the tool results and the next assistant header —
// and generates from there, so no token of the conversation is computed twice.
//
// How the new text is found: the Session holds the messages before the turn it generated last,
// as rendered, then that turn as the model wrote it. When the conversation still starts with
// those messages and that turn, the new text is what the chat template writes after the turn's
// end-of-turn marker (the "\n" after <|im_end|>, the tool results, the next assistant header);
// the turn's own rendering by the template is never used, so template quirks about earlier
// turns (Qwen3 drops an empty think block from them) cannot force a recompute. Otherwise (the
// first turn, or an edited conversation) the rendering is tokenized whole and only the part
// after the longest common token prefix with the Session is computed.
//
// In-thought actions: with TurnRequest::thought_actions, generation stops right after an
// action's close tag (FinishReason::thought_call); the next request's resume_thinking_with text
// is appended to the Session (never parsed as markup: special-token text in it stays text) and
// generation goes on with the same parser, so nothing before the pause is read again.
//
// Thinking budget: when TurnRequest::think_budget thinking tokens are spent, generation stops
// and a closing sentence with the think-close tag is written as forced tokens (read like
// generated ones), then the model answers.
//
// Generation runs on the backend's own worker thread; events reach the sink on the caller's
// executor in order. Cancellation stops generation at the next token and the turn completes
// with what was generated (every generated token stays in the Session).
//
// Thread-safety: one turn at a time. The backend owns its Session and worker thread.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/thread_pool.hpp>

#include "agent/backend.h"
#include "agent/chat_format.h"
#include "engine/sampling/sampler.h"
#include "engine/session/session.h"

namespace scout::agent {

// The chat format `requested` names, or else the one the model implies: its vocabulary's chat
// markers (ChatML → qwen3; DeepSeek's → deepseek-v3, or deepseek-r1 when the GGUF's
// tokenizer.chat_template opens a think block in its generation prompt).
Result<ChatFormat> chat_format_for(const Model& model, std::string_view requested);

struct LocalBackendOptions {
  SessionOptions session;
  SamplerConfig sampling;
  // false: every turn reads the whole conversation again from an empty cache, as a stateless
  // server does (the paused part of a turn still resumes in place). Only for comparison
  // (bench/agent_prefill); it costs a full prefill per step.
  bool keep_cache = true;
};

class LocalBackend final : public Backend {
 public:
  static Result<std::unique_ptr<LocalBackend>> create(std::shared_ptr<const Model> model, std::shared_ptr<Ops> ops,
                                                      ChatFormat format, LocalBackendOptions options);
  ~LocalBackend() override;

  std::string describe() const override;
  asio::awaitable<Result<TurnResult>> next_turn(TurnRequest request, TurnSink sink) override;
  bool can_pause_in_thought() const override { return true; }

  // What is written into the thinking when its budget is spent (ends with the think-close tag).
  static constexpr const char* kThinkBudgetClose =
      "\n\nThe time for thinking is up; I will answer with what I have.\n";

  // Teacher forcing: each later next_turn() call (a turn, or the rest of a paused one) starts by
  // emitting the next of these texts' tokens as if the model had chosen them — read one at a
  // time through the engine like sampled tokens, parsed and streamed the same way — then
  // samples on (end a text with the end-of-turn marker to end the turn there). For benchmarks
  // and tests that need a known conversation on a real cache.
  void replay(std::deque<std::string> outputs) { replay_ = std::move(outputs); }

  // The Session, for inspection (cache length, tokens computed). Not while a turn runs.
  const Session& session() const { return session_; }

 private:
  LocalBackend(Session session, Sampler sampler, ChatFormat format, bool keep_cache);

  // The tokens to append for `request`, truncating the Session where the conversation diverged.
  Result<std::vector<std::int32_t>> tokens_to_append(const TurnRequest& request);

  Session session_;
  Sampler sampler_;
  ChatFormat format_;
  bool keep_cache_ = true;
  bool opens_thinking_ = false;             // the last prompt ended inside an open think block
  std::vector<std::int32_t> stop_tokens_;   // the format's end-of-turn markers, as tokens
  // The Session holds the conversation's first messages_before_turn_ messages, then the turn
  // generated_ as the model wrote it (closed by an end-of-turn marker when last_turn_closed_).
  std::size_t messages_before_turn_ = 0;
  std::optional<Message> generated_;
  bool last_turn_closed_ = false;
  // A turn paused on an in-thought action: its parser (mid-thinking) and what it produced so
  // far, until the next next_turn() resumes it.
  struct Paused {
    StreamParser parser;
    TurnResult so_far;
    std::int32_t thinking_tokens = 0;
  };
  std::optional<Paused> paused_;
  std::deque<std::string> replay_;
  asio::thread_pool worker_{1};
};

}  // namespace scout::agent
