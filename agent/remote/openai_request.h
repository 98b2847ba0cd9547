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
// Resuming a turn paused on an in-thought action (TurnRequest::resume_thinking_with): the turn
// so far goes last, as {"role": "assistant", "content": "<think>\n" + its reasoning + the
// result}, marked for the server as OpenAiOptions::continuation says.
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

}  // namespace scout::agent::remote
