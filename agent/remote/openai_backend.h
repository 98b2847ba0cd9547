// OpenAiBackend: model turns from an OpenAI-compatible Chat Completions server (OpenAI,
// DeepSeek, vLLM, SGLang, llama-server, ...) over HTTP, streamed as server-sent events.
//
// Every turn sends the whole conversation (see openai_request.h for the mapping) and reads the
// stream with a TurnAssembler (openai_stream.h). Faults:
//   - 408, 409, 429, 5xx, and connection failures before any byte of the response body: retried
//     up to max_retries, waiting initial_backoff doubled each time (at most max_backoff), or what
//     the server's Retry-After asks for; a Retry-After longer than max_backoff ends the turn;
//   - other 4xx: an error quoting the server's message (with what to check for 401/403, 404 and
//     a prompt that does not fit);
//   - a stream cut or stalled (idle_timeout) after it started: an error saying how much arrived.
//     It is not retried: the sink has already shown that text;
//   - an error object or a malformed chunk in the stream: an error quoting it;
//   - cancellation (the awaiting coroutine's cancellation state): the stream is closed and the
//     turn completes with FinishReason::cancelled and the text received so far.
// The API key is sent only in the Authorization header: it is not in describe(), in errors, or
// in anything else this class produces.
//
// The server is the user's own configuration, so private and loopback addresses are allowed
// (the SSRF guard is for URLs a model chooses).
//
// Thread-safety: next_turn may run concurrently for different conversations; each call uses its
// own connection. Events reach the sink on the executor the caller's coroutine runs on.
#pragma once

#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "agent/backend.h"
#include "agent/remote/openai_options.h"
#include "tools/http/http_client.h"

namespace scout::agent::remote {

class OpenAiBackend final : public Backend {
 public:
  OpenAiBackend(asio::any_io_executor executor, OpenAiOptions options);

  // "remote <base_url> model <model>"
  std::string describe() const override;

  asio::awaitable<Result<TurnResult>> next_turn(TurnRequest request, TurnSink sink) override;

  // With a continuation style configured, a turn can pause on an in-thought action: the stream
  // is closed right after it, and the next request sends the turn so far for the server to
  // continue (agent/remote/openai_request.h).
  bool can_pause_in_thought() const override {
    return options_.continuation != OpenAiOptions::Continuation::none;
  }

  const OpenAiOptions& options() const { return options_; }

 private:
  struct Attempt;
  asio::awaitable<Attempt> attempt(const std::string& body, const TurnRequest& request, TurnSink& sink) const;
  std::string endpoint(bool raw_completion) const;
  tools::http::Options http_options() const;

  OpenAiOptions options_;
  tools::http::Client client_;
};

}  // namespace scout::agent::remote
