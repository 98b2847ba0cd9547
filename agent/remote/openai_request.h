// The Chat Completions request body for one turn: the conversation mapped to OpenAI messages,
// the tools, the sampling settings. A pure function of its inputs.
//
// Mapping (agent::Message → OpenAI message):
//   system, user            {"role", "content"}
//   assistant               {"role", "content" (null when empty and it has tool calls),
//                            "tool_calls": [{"id", "type": "function",
//                                            "function": {"name", "arguments": "<JSON text>"}}],
//                            "reasoning_content" only with OpenAiOptions::send_reasoning}
//   tool                    {"role": "tool", "tool_call_id", "content"}
//   tool, empty call id     {"role": "user", "content"}: an observation about malformed output
//                           answers no call, and servers reject a tool message whose id no
//                           earlier call carries.
//
// Resuming a turn paused on an in-thought action (TurnRequest::resume_thinking_with) with
// Continuation::deepseek: the turn so far goes last, as {"role": "assistant", "content":
// "<think>\n" + its reasoning + the result, "prefix": true}. With Continuation::completions the
// request is completion_request_body's instead.
//
// Thinking control: `chat_template_kwargs: {"enable_thinking": false}` is sent only when
// thinking is off; vLLM, SGLang and llama-server pass it to the chat template, and sending
// nothing when thinking is on keeps the request acceptable to servers that reject unknown
// fields.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/backend.h"
#include "agent/remote/openai_options.h"

namespace scout::agent::remote {

// One message in the API's shape (see the mapping above).
nlohmann::ordered_json to_openai_message(const Message& message, const OpenAiOptions& options);

// The whole request body, with "stream": true and usage reporting on.
// Precondition: request.messages is not null.
nlohmann::ordered_json chat_request_body(const TurnRequest& request, const OpenAiOptions& options);

// The raw prompt that continues a paused turn: the conversation rendered by `format` with the
// generation prompt, the think block opened (unless the format's prompt already opens it), the
// turn's reasoning so far and the action's result. Preconditions: messages, paused_turn and
// resume_thinking_with are set.
std::string continuation_prompt(const TurnRequest& request, const ChatFormat& format);

// POST /completions body for Continuation::completions: that prompt, streamed, stopping at the
// format's end-of-turn markers. Precondition: options.format is set.
nlohmann::ordered_json completion_request_body(const TurnRequest& request, const OpenAiOptions& options);

}  // namespace scout::agent::remote
