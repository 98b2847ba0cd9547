// The conversation as plain values: what the agent stores and what a ChatFormat renders.
//
// JSON values here are nlohmann::ordered_json, not nlohmann::json: templates serialize tool
// arguments and schemas in their key order, and a prompt that reorders the keys the model wrote
// is a different prompt (it changes the tokens, and with them any reused KV cache prefix).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scout::agent {

enum class Role { system, user, assistant, tool };

// "system", "user", "assistant", "tool": the names every chat template uses.
const char* role_name(Role role);

// One function call the assistant asked for.
struct ToolCall {
  std::string id;                  // pairs the call with its result (Message::tool_call_id)
  std::string name;                // the function's name, as the model wrote it
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();  // always an object
};

struct Message {
  Role role = Role::user;
  std::string content;                // the visible text (the result text for Role::tool)
  std::string reasoning;              // assistant only: thinking text, without <think> tags
  std::vector<ToolCall> tool_calls;   // assistant only
  std::string tool_call_id;           // tool only: the ToolCall::id this result answers
  std::string name;                   // tool only: the function that produced the result
};

// A function offered to the model.
struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();  // a JSON Schema object
};

}  // namespace scout::agent
