// TurnAssembler: turns the `data:` payloads of a Chat Completions stream into StreamEvents (as
// they arrive) and, at the end, one TurnResult.
//
//   delta.reasoning_content | delta.reasoning ──▶ StreamParser (thinking only) ──▶ thinking text,
//                                                   and in-thought actions (which pause the turn)
//   delta.content, text ──▶ StreamParser (qwen3 tags) ──▶ answer text, and thinking text for servers
//                                                   that leave <think>…</think> inline, and
//                                                   tool calls written inline as <tool_call>
//   delta.tool_calls[i] ──▶ assembled by index ──finish()──▶ tool calls or issues
//   finish_reason, usage ─────────────────────────────────▶ TurnResult::finish, ::usage
//
// Structured tool calls are parsed when the stream ends, since their arguments arrive as string
// fragments: arguments that are not a JSON object, or a call without a name, become an issue
// (keeping the raw text) instead of a call. A payload that is not a chunk, or carries an
// `error` object, is an error for the whole turn.
//
// Not thread-safe: one assembler per stream, fed from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/backend.h"
#include "agent/stream_parser.h"
#include "common/expected.h"

namespace scout::agent::remote {

class TurnAssembler {
 public:
  using Clock = std::chrono::steady_clock;

  // `sink` may be empty. `request_start` is when the request was sent (for Usage::prompt_ms).
  // `actions`: in-thought actions to watch for in the thinking (reasoning deltas, or content
  // inside <think>); the first one completed pauses the turn (paused()). `resumed`: the stream
  // continues a turn paused inside its thinking, so content starts as thinking.
  TurnAssembler(TurnSink sink, Clock::time_point request_start, std::vector<ThoughtAction> actions = {},
                bool resumed = false);

  // An in-thought action was completed: read no further; finish() reports it.
  bool paused() const { return result_.thought_call.has_value(); }

  // One event's data. "[DONE]" ends the stream. An error (malformed chunk, error object) means
  // the turn failed; feeding after an error or after [DONE] is a programmer error.
  Result<void> on_data(std::string_view data);
  // An event by its "event:" name: "message" (the default) is a chunk for on_data; "error"
  // (some servers and proxies name error events) fails the turn with its data; other names
  // are ignored.
  Result<void> on_named_event(std::string_view name, std::string_view data);

  bool done() const { return done_; }                    // [DONE] seen
  bool saw_finish_reason() const { return finish_reason_.has_value(); }
  std::int64_t chunks() const { return chunks_; }

  // What has arrived so far, for error messages: "14 chunks (120 characters of answer,
  // 480 of thinking, 1 tool call started)".
  std::string received_summary() const;

  // The turn as received. `cancelled`: the caller stopped the stream; the text so far is kept
  // and tool calls are dropped (a half-received call must not run). Call once.
  TurnResult finish(bool cancelled);

 private:
  struct PendingCall {
    std::string id;
    std::string name;
    std::string arguments;  // the concatenated fragments
  };

  void emit(const StreamEvent& event);
  StreamParser& content_parser();  // made at the first content: see parser_
  void handle_parsed(std::vector<StreamEvent> events);
  void add_thinking(std::string text);
  void note_output();
  void on_tool_call_delta(const nlohmann::json& delta);
  void read_usage(const nlohmann::json& usage, const nlohmann::json* timings);

  TurnSink sink_;
  StreamParser reasoning_parser_;  // delta.reasoning_content: thinking throughout
  // delta.content; made at the first content delta: a resumed turn's content is still
  // thinking, unless the server sends its reasoning separately (then content is the answer).
  std::optional<StreamParser> parser_;
  std::vector<ThoughtAction> actions_;
  bool resumed_ = false;
  bool saw_reasoning_ = false;
  TurnResult result_;
  std::map<std::int64_t, PendingCall> calls_;  // by the delta's index
  std::int64_t last_call_index_ = -1;
  std::optional<std::string> finish_reason_;
  bool done_ = false;
  bool finished_ = false;
  std::int64_t chunks_ = 0;
  std::int64_t answer_chars_ = 0;
  std::int64_t thinking_chars_ = 0;
  Clock::time_point request_start_;
  std::optional<Clock::time_point> first_output_;
  Clock::time_point last_output_;
};

}  // namespace scout::agent::remote
