#include "agent/remote/openai_request.h"

#include <cassert>

namespace scout::agent::remote {

using ojson = nlohmann::ordered_json;

ojson to_openai_message(const Message& message, const OpenAiOptions& options) {
  ojson out = ojson::object();
  switch (message.role) {
    case Role::system:
    case Role::user:
      out["role"] = role_name(message.role);
      out["content"] = message.content;
      break;
    case Role::assistant: {
      out["role"] = "assistant";
      if (message.content.empty() && !message.tool_calls.empty()) {
        out["content"] = nullptr;
      } else {
        out["content"] = message.content;
      }
      if (options.send_reasoning && !message.reasoning.empty()) out["reasoning_content"] = message.reasoning;
      if (!message.tool_calls.empty()) {
        ojson calls = ojson::array();
        for (const ToolCall& call : message.tool_calls) {
          // Arguments travel as JSON text; invalid UTF-8 (the model's bytes) is replaced, not thrown on.
          const std::string arguments = call.arguments.dump(-1, ' ', false, ojson::error_handler_t::replace);
          calls.push_back({{"id", call.id},
                           {"type", "function"},
                           {"function", {{"name", call.name}, {"arguments", arguments}}}});
        }
        out["tool_calls"] = std::move(calls);
      }
      break;
    }
    case Role::tool:
      if (message.tool_call_id.empty()) {
        out["role"] = "user";
        out["content"] = message.content;
      } else {
        out["role"] = "tool";
        out["tool_call_id"] = message.tool_call_id;
        out["content"] = message.content;
      }
      break;
  }
  return out;
}

ojson chat_request_body(const TurnRequest& request, const OpenAiOptions& options) {
  assert(request.messages != nullptr);
  ojson body = ojson::object();
  body["model"] = options.model;
  ojson messages = ojson::array();
  for (const Message& m : *request.messages) messages.push_back(to_openai_message(m, options));
  if (request.resume_thinking_with && request.paused_turn != nullptr) {
    // DeepSeek's prefix completion: the turn so far, still inside its thinking, for the server
    // to go on from.
    messages.push_back({{"role", "assistant"},
                        {"content", "<think>\n" + request.paused_turn->reasoning + *request.resume_thinking_with},
                        {"prefix", true}});
  }
  body["messages"] = std::move(messages);
  if (request.tools != nullptr && !request.tools->empty()) {
    ojson tools = ojson::array();
    for (const ToolSpec& t : *request.tools) {
      tools.push_back({{"type", "function"},
                       {"function",
                        {{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}}}});
    }
    body["tools"] = std::move(tools);
  }
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body[options.max_tokens_field == MaxTokensField::max_tokens ? "max_tokens" : "max_completion_tokens"] =
      request.max_tokens;
  if (options.temperature) body["temperature"] = *options.temperature;
  if (options.top_p) body["top_p"] = *options.top_p;
  if (options.reasoning_effort) body["reasoning_effort"] = *options.reasoning_effort;
  if (!request.enable_thinking) body["chat_template_kwargs"] = {{"enable_thinking", false}};
  return body;
}

std::string continuation_prompt(const TurnRequest& request, const ChatFormat& format) {
  assert(request.messages != nullptr && request.paused_turn != nullptr && request.resume_thinking_with);
  const std::vector<ToolSpec> none;
  std::string prompt = format.render(*request.messages, request.tools != nullptr ? *request.tools : none,
                                     RenderOptions{true, request.enable_thinking});
  const StreamTags tags = format.stream_tags();
  if (!format.opens_thinking(prompt)) prompt += tags.think_open + "\n";
  return prompt + request.paused_turn->reasoning + *request.resume_thinking_with;
}

ojson completion_request_body(const TurnRequest& request, const OpenAiOptions& options) {
  assert(options.format.has_value());
  ojson body = ojson::object();
  body["model"] = options.model;
  body["prompt"] = continuation_prompt(request, *options.format);
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body["max_tokens"] = request.max_tokens;
  body["stop"] = options.format->stop_markers();
  if (options.temperature) body["temperature"] = *options.temperature;
  if (options.top_p) body["top_p"] = *options.top_p;
  return body;
}

}  // namespace scout::agent::remote
