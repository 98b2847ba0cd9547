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
// Inside thinking, only the closing think tag is markup; anything else (a <tool_call> mentioned
// while reasoning) is thinking text.
//
// Whitespace around tags is passed through as text; ChatFormat strips what the template strips.
//
// Not thread-safe: one parser per stream, fed from one thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/chat_format.h"
#include "agent/messages.h"

namespace scout::agent {

struct StreamEvent {
  enum class Kind { thinking_text, answer_text, tool_call, issue };
  Kind kind = Kind::answer_text;
  std::string text;  // thinking/answer text, or the issue's description
  std::string raw;   // issue only: the model output the issue is about
  ToolCall call;     // tool_call only
  // issue only: the model asked for a tool call that was not run (malformed or unclosed), so
  // the turn is not a final answer: the loop reports the issue back and lets the model retry.
  bool call_not_run = false;
};

class StreamParser {
 public:
  enum class Start { answer, thinking };

  // `tags` from ChatFormat::stream_tags(); empty tags disable their state. Start::thinking is for
  // prompts that end inside an open think block, so the model's first bytes are thinking.
  explicit StreamParser(StreamTags tags, Start start = Start::answer);

  // Consumes the next chunk of output; returns the events it completes, in order.
  std::vector<StreamEvent> feed(std::string_view chunk);

  // The stream ended: flushes held-back text and reports what was left open. Feeding after
  // finish() is a programmer error.
  std::vector<StreamEvent> finish();

 private:
  enum class State { answer, thinking, tool_call, call_block };

  void emit_text(std::vector<StreamEvent>& out, std::string text) const;
  void finish_tool_call(std::vector<StreamEvent>& out, const std::string& body);
  // A block of calls closed (or the stream ended inside it): reports it if it held no call.
  void close_empty_block(std::vector<StreamEvent>& out);
  // How a call is written in this format, appended to issues so the model can correct itself.
  std::string call_syntax_hint() const;
  // The tags that are markup in the current state.
  std::vector<const std::string*> active_tags() const;

  StreamTags tags_;
  State state_;
  std::string pending_;    // received, not yet emitted (a possible tag prefix, or a call body)
  std::size_t scanned_ = 0;  // tool_call state: pending_ bytes already searched for the close tag
  State after_call_ = State::answer;  // where a tool call returns to: answer text or its block
  int calls_in_block_ = 0;  // calls (and call issues) since the block of calls opened
  int next_call_id_ = 1;   // ids are "call_1", "call_2", ... in stream order
  bool finished_ = false;
};

}  // namespace scout::agent
