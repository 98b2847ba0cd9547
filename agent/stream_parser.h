// StreamParser: splits a model's output, as it streams in, into thinking text, answer text and
// tool calls.
//
//   answer ──<think>──▶ thinking ──</think>──▶ answer
//   answer ──<tool_call>──▶ tool call body ──</tool_call>──▶ answer (+ ToolCall or Issue)
//
// Formats that wrap a run of calls in a block (DeepSeek) add a state between the two:
//
//   answer ──calls-begin──▶ call block ──call-begin──▶ body ──call-end──▶ call block ──calls-end──▶ answer
//
// Whitespace between the calls of a block is layout and dropped; other text there is answer text.
// The body syntax (a JSON object, or DeepSeek's `function<sep>name` + fenced JSON) comes with the
// tags; see StreamTags::CallBody.
//
// Chunks may split tags at any byte: text that could still be the start of a tag is held back
// until the next chunk (or finish()) decides. Text is emitted as soon as it is known not to be
// markup, so the division of text into events depends on the chunking; the concatenated text of
// each kind, the tool calls and the issues do not.
//
// Model output is untrusted: nothing here throws on it and no byte is dropped without a trace.
// Problems become Issue events whose `text` is written for the model to read and fix, with the
// offending output in `raw`:
//   - a tool call body that is not JSON, has no "name", or has non-object "arguments";
//   - a block of calls that holds no call;
//   - a closing tag with no opening one (the tag goes to `raw`, not to the answer text);
//   - a <think> or <tool_call> still open at finish().
// Inside thinking, only the closing think tag and the opening tags of the ThoughtActions given
// are markup; anything else (a <tool_call> mentioned while reasoning) is thinking text. An action
// becomes a thought_call event when its close tag arrives; ids are "thought_1", "thought_2", ...
//
// Whitespace around tags is passed through as text; ChatFormat strips what the template strips.
//
// Not thread-safe: one parser per stream, fed from one thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/chat_format.h"
#include "agent/messages.h"

namespace scout::agent {

// An action the model can take while it thinks — Scout's in-thought protocol, announced in the
// system prompt, not part of any chat format: `open` ARGUMENT `close` inside the thinking becomes
// a call of `tool` with {argument: ARGUMENT} plus `fixed_arguments`. Generation pauses there and
// the tool's result is written into the thinking (see Loop).
struct ThoughtAction {
  std::string open;      // "<search>"
  std::string close;     // "</search>"
  std::string tool;      // "web_search"
  std::string argument;  // "query"
  nlohmann::ordered_json fixed_arguments = nlohmann::ordered_json::object();
};

struct StreamEvent {
  enum class Kind { thinking_text, answer_text, tool_call, issue, thought_call };
  Kind kind = Kind::answer_text;
  // thinking/answer text, the issue's description, or (thought_call) the action as the model
  // wrote it, tags included: it is part of the thinking text.
  std::string text;
  std::string raw;   // issue only: the model output the issue is about
  ToolCall call;     // tool_call and thought_call
  // issue only: the model asked for a tool call that was not run (malformed or unclosed), so
  // the turn is not a final answer: the loop reports the issue back and lets the model retry.
  bool call_not_run = false;
};

class StreamParser {
 public:
  // answer: the output starts as answer text. thinking: it starts inside an open think block.
  // thinking_only: all of it is thinking (a server's separate reasoning channel): no close tag
  // is looked for, and the stream may end without one.
  enum class Start { answer, thinking, thinking_only };

  // `tags` from ChatFormat::stream_tags(); empty tags disable their state. Start::thinking is for
  // prompts that end inside an open think block, so the model's first bytes are thinking.
  explicit StreamParser(StreamTags tags, Start start = Start::answer, std::vector<ThoughtAction> actions = {});

  // Whether the output is inside the thinking now (an action being written counts).
  bool in_thinking() const { return state_ == State::thinking || state_ == State::thought_action; }
  // Whether an in-thought action has been opened and not yet closed.
  bool writing_action() const { return state_ == State::thought_action; }

  // Consumes the next chunk of output; returns the events it completes, in order.
  std::vector<StreamEvent> feed(std::string_view chunk);

  // The stream ended: flushes held-back text and reports what was left open. Feeding after
  // finish() is a programmer error.
  std::vector<StreamEvent> finish();

 private:
  enum class State { answer, thinking, tool_call, call_block, thought_action };

  void emit_text(std::vector<StreamEvent>& out, std::string text) const;
  // Inside a call body: the body up to `close` (removed from pending_ with the tag), or nothing
  // yet while the tag has not arrived.
  std::optional<std::string> take_body(const std::string& close);
  void finish_tool_call(std::vector<StreamEvent>& out, const std::string& body);
  // A block of calls closed (or the stream ended inside it): reports it if it held no call.
  void close_empty_block(std::vector<StreamEvent>& out);
  // How a call is written in this format, appended to issues so the model can correct itself.
  std::string call_syntax_hint() const;
  // The tags that are markup in the current state.
  std::vector<const std::string*> active_tags() const;

  StreamTags tags_;
  std::vector<ThoughtAction> actions_;
  std::size_t action_ = 0;  // thought_action state: the index of the action being written
  State state_;
  std::string pending_;    // received, not yet emitted (a possible tag prefix, or a call body)
  std::size_t scanned_ = 0;  // tool_call state: pending_ bytes already searched for the close tag
  State after_call_ = State::answer;  // where a tool call returns to: answer text or its block
  int calls_in_block_ = 0;  // calls (and call issues) since the block of calls opened
  int next_call_id_ = 1;   // ids are "call_1", "call_2", ... in stream order
  int next_thought_id_ = 1;
  bool thinking_only_ = false;
  bool finished_ = false;
};

}  // namespace scout::agent
