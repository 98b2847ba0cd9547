// ChatFormat: turns a conversation into the prompt text a model was trained on.
//
// Each format reproduces its model's own Jinja chat template (tokenizer_config.json's
// chat_template) byte for byte, quirks included, because the model only behaves as trained on
// the exact layout it saw, and because prefix reuse of the KV cache needs the rendering of an
// earlier turn to stay the same when later turns are added. tests/agent/test_chat_format.cpp
// checks this against the real templates run by a Jinja engine.
//
// Formats:
//   "qwen3"        Qwen3 (ChatML, <think>, <tool_call> JSON, <tool_response>).
//   "deepseek-v3"  DeepSeek-V3's template as published with its tokenizer. It ignores
//                  reasoning and renders tool calls with its own quirks (see chat_format.cpp).
//                  It renders no tool list either, so the tools are described at the end of
//                  the system prompt (deepseek_tools_prompt), the way DeepSeek's model cards
//                  tell users to; without tools the output is the template's, byte for byte.
//   "deepseek-r1"  DeepSeek-R1: V3's layout with R1's two changes (assistant text keeps only
//                  what follows its last </think>; the generation prompt ends in "<think>\n",
//                  as R1's model card asks). R1's template is not among the reference files
//                  reachable here, so unlike the others this one is not checked byte for byte
//                  against the real template; the tests check it against V3's.
//
// A ChatFormat is an immutable value; rendering is a pure function, safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/messages.h"
#include "common/expected.h"

namespace scout::agent {

// The markup the stream parser looks for in the model's output. An empty string means the
// format has no such tag (its parser then never enters that state).
struct StreamTags {
  // How the text between tool_call_open and tool_call_close names the function and its arguments.
  enum class CallBody {
    // {"name": "f", "arguments": {...}} (Qwen3, Hermes style).
    json_object,
    // DeepSeek: `function<sep>NAME\n```json\n{...}\n```` (V3, R1), or `NAME<sep>{...}` (V3.1).
    deepseek,
  };

  std::string think_open;
  std::string think_close;
  std::string tool_call_open;
  std::string tool_call_close;
  // Optional wrapper around a run of calls (DeepSeek's calls-begin/calls-end tokens). Inside it,
  // whitespace between calls is layout, not answer text.
  std::string tool_calls_open;
  std::string tool_calls_close;
  CallBody call_body = CallBody::json_object;
  std::string tool_sep;  // CallBody::deepseek: separates the call type (or name) from the rest
};

struct RenderOptions {
  bool add_generation_prompt = true;  // end with the header of a new assistant turn
  bool enable_thinking = true;        // false: Qwen3 pre-fills an empty <think></think> block
};

class ChatFormat {
 public:
  enum class Kind { qwen3, deepseek_v3, deepseek_r1 };

  // "qwen3", "deepseek-v3" or "deepseek-r1"; anything else is an error naming the known formats.
  static Result<ChatFormat> by_name(std::string_view name);
  explicit ChatFormat(Kind kind) : kind_(kind) {}

  Kind kind() const { return kind_; }
  const char* name() const;

  // The prompt text for `messages`, exactly as the model's template renders it with these
  // tools and options. Messages are rendered as given; no validation of the turn order.
  std::string render(const std::vector<Message>& messages, const std::vector<ToolSpec>& tools,
                     const RenderOptions& options) const;

  // Text that ends the assistant's turn; generation stops when the model emits one.
  std::vector<std::string> stop_markers() const;

  // Tags the stream parser needs for this format's output.
  StreamTags stream_tags() const;

  // Whether `prompt` (this format's rendering) leaves a think block open, so the model's first
  // bytes are reasoning (R1's generation prompt ends in "<think>\n").
  bool opens_thinking(std::string_view prompt) const;

 private:
  Kind kind_;
};

// `value` as Jinja's `tojson` filter writes it (Python json.dumps defaults as used by
// transformers): ", " between items, ": " after keys, keys in stored order, non-ASCII text kept
// as UTF-8, control characters escaped. Invalid UTF-8 is replaced with U+FFFD.
std::string template_tojson(const nlohmann::ordered_json& value);

// The section describing `tools` and the call syntax that the deepseek-v3 format appends to the
// system prompt (after a blank line), since DeepSeek's template has no place for them.
std::string deepseek_tools_prompt(const std::vector<ToolSpec>& tools);

}  // namespace scout::agent
