// OpenAiOptions: how to reach an OpenAI-compatible Chat Completions server (OpenAI, DeepSeek,
// vLLM, SGLang, llama.cpp's llama-server, ...) and what to ask it for.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/chat_format.h"

namespace scout::agent::remote {

using namespace std::chrono_literals;

// Which request field carries the turn's token cap. `max_tokens` is what every local server
// (vLLM, SGLang, llama-server) and DeepSeek read; OpenAI's reasoning models only accept
// `max_completion_tokens`, which the local servers also accept in their recent versions.
enum class MaxTokensField { max_tokens, max_completion_tokens };

// A retry the backend is about to make, for the front end to show ("server busy, retrying in
// 2 s") and for the trace.
struct RetryNotice {
  int attempt = 0;                  // 1 for the first retry
  int max_retries = 0;
  std::chrono::milliseconds delay{0};  // how long the backend waits before retrying
  bool delay_from_server = false;   // the delay is the server's Retry-After
  std::string reason;               // "HTTP 503 (Service Unavailable)", "connection refused ..."
};

struct OpenAiOptions {
  // The API root the paths hang from, e.g. "http://127.0.0.1:8080/v1" or
  // "https://api.openai.com/v1"; "/chat/completions" is appended. A trailing '/' is ignored.
  std::string base_url;
  std::string model;
  // Sent as "Authorization: Bearer <key>" when not empty. Never logged, never put in an error
  // message or in describe().
  std::string api_key;
  // Where the key comes from (an environment variable or a config key), named in the error
  // when the server refuses it.
  std::string api_key_source = "the OPENAI_API_KEY environment variable or [remote] api_key in the config";

  std::optional<double> temperature;
  std::optional<double> top_p;
  // Sent as "reasoning_effort" ("low" | "medium" | "high") when set: how long the server lets its
  // reasoning model think (OpenAI's parameter; vLLM and others accept it too).
  std::optional<std::string> reasoning_effort;
  // Sent with every request after the standard headers (e.g. an OpenRouter "HTTP-Referer").
  std::vector<std::pair<std::string, std::string>> extra_headers;

  MaxTokensField max_tokens_field = MaxTokensField::max_tokens;

  // How the server continues a turn paused inside the thinking, which searching inside the
  // thinking needs (the turn pauses after an action; the rest of it is asked for separately):
  //   none         the server cannot: the model uses ordinary tool calls
  //   completions  POST /completions (llama.cpp's server, vLLM, SGLang) with a raw prompt that
  //                Scout renders itself with `format` (the served model's chat format), ending
  //                inside the open think block with the result. Chat templates cannot do this:
  //                Qwen3's closes the think block of any assistant message it renders (checked
  //                against llama-server).
  //   deepseek     DeepSeek's prefix completion (its /beta base URL): the turn so far as a last
  //                assistant message "<think>\n…" with "prefix": true
  enum class Continuation { none, completions, deepseek };
  Continuation continuation = Continuation::none;
  // The served model's chat format, for Continuation::completions.
  std::optional<ChatFormat> format;
  // Send the assistant's earlier thinking back as `reasoning_content`. Off by default: DeepSeek
  // rejects reasoning_content in input messages, and most models are trained to see their
  // earlier turns without their thinking.
  bool send_reasoning = false;

  std::chrono::milliseconds connect_timeout = 10s;
  // The whole turn, from the request to the last byte of the stream.
  std::chrono::milliseconds request_timeout = 600s;
  // The longest the stream may go without a byte (a stalled server) — also bounds the wait
  // for the first byte, which includes the server's prompt processing.
  std::chrono::milliseconds idle_timeout = 300s;

  // Retries for 429, 5xx and connection failures that happen before any of the response body
  // arrived; a turn that has started streaming is never retried (its text was already shown).
  int max_retries = 4;
  std::chrono::milliseconds initial_backoff = 1s;  // doubled after each retry
  std::chrono::milliseconds max_backoff = 30s;     // cap on the computed delay; a Retry-After
                                                   // longer than this ends the turn instead
  // Called before each retry's wait, on the backend's executor.
  std::function<void(const RetryNotice&)> on_retry;

  // Extra PEM CA file to trust besides the system store (a server with its own CA).
  std::string ca_file;
};

}  // namespace scout::agent::remote
