// ReplayServer: an OpenAI-compatible Chat Completions server on 127.0.0.1 that answers from a
// script, for tests of the remote backend, of `scout run --remote`, and of what a client sends.
//
// Each POST /v1/chat/completions (or /v1/completions, answered in the text-completion shape:
// choices[0].text carries the content) takes the next entry of the script, in arrival order, and every
// request is recorded (method, target, headers, body) so a test can check what the client sent.
// GET /v1/models lists the script's model. Built on LocalHttpServer: one thread per connection.
//
// Script (JSON): {"model": "replay-model", "chunk_chars": 8, "responses": [ENTRY, ...]}, or just
// the array of entries. An entry is a streamed assistant turn:
//   {"reasoning": "...",                  thinking, sent as delta.reasoning_content (or the
//    "reasoning_field": "reasoning",      field named here)
//    "content": "...",                    answer text (may hold inline <think> tags)
//    "tool_calls": [{"id": "call_a", "name": "search",
//                    "arguments": {...} | "raw text sent as is"}],
//    "interleave_tool_calls": false,      true: the calls' argument fragments alternate
//    "finish_reason": "stop",             default: "tool_calls" with tool calls, else "stop"
//    "usage": {...},                      sent in a last chunk when the request asked for usage
//    "cut_after_chunks": N,               close the connection after N events (mid-stream)
//    "stall_after_chunks": N,             send N events, then nothing until the server stops
//    "error_after_chunks": N, "error": {...}   an error object as event N+1, then [DONE]
//    "omit_done": true}                   no "data: [DONE]" at the end
// or a fault:
//   {"status": 500, "body": {...} | "text", "headers": {"Name": "value"}, "retry_after": 1 | "date"}
//   {"raw": "bytes"}                      a 200 event stream whose body is these bytes
//   {"raw_http": "bytes"}                 these bytes instead of an HTTP response, then close
//   {"drop": true}                        close the connection without answering
// Text is cut into pieces of chunk_chars code points (tool call arguments too), so each field
// arrives in several deltas, the way servers stream tokens. Requests past the end of the script
// get a 400 whose message says so.
//
// Thread-safe: requests() and responses_used() may be called while requests are served.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/local_http_server.h"

namespace scout::test {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // First header with this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
  // The body as JSON (discarded when it is not JSON).
  nlohmann::json json() const;
};

class ReplayServer {
 public:
  struct Options {
    // When not empty, each chat request is appended to this file as one JSON line:
    // {"method", "target", "headers": {...}, "body": <JSON or text>}.
    std::string request_log;
  };

  // Throws std::invalid_argument naming the problem when the script is malformed.
  explicit ReplayServer(std::string_view script_json);
  ReplayServer(std::string_view script_json, Options options);
  ~ReplayServer();
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  std::uint16_t port() const;
  // "http://127.0.0.1:PORT/v1"
  std::string base_url() const;
  // The chat completion requests received so far, in arrival order.
  std::vector<RecordedRequest> requests() const;
  // Script entries consumed so far.
  int responses_used() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::unique_ptr<LocalHttpServer> server_;
};

}  // namespace scout::test
