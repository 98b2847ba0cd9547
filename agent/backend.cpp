#include "agent/backend.h"

namespace scout::agent {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::stop: return "stop";
    case FinishReason::tool_calls: return "tool_calls";
    case FinishReason::length: return "length";
    case FinishReason::context_full: return "context_full";
    case FinishReason::cancelled: return "cancelled";
    case FinishReason::thought_call: return "thought_call";
  }
  return "unknown";
}

void TurnResult::add(const StreamEvent& event) {
  switch (event.kind) {
    case StreamEvent::Kind::thinking_text: message.reasoning += event.text; break;
    case StreamEvent::Kind::answer_text: message.content += event.text; break;
    case StreamEvent::Kind::tool_call: message.tool_calls.push_back(event.call); break;
    case StreamEvent::Kind::issue: issues.push_back(event); break;
    case StreamEvent::Kind::thought_call:
      message.reasoning += event.text;
      thought_call = event.call;
      break;
  }
}

void TurnResult::continue_with(const std::string& injected, TurnResult next) {
  message.reasoning += injected + next.message.reasoning;
  message.content += next.message.content;
  for (auto& call : next.message.tool_calls) message.tool_calls.push_back(std::move(call));
  for (auto& issue : next.issues) issues.push_back(std::move(issue));
  finish = next.finish;
  thought_call = std::move(next.thought_call);
  think_budget_spent = think_budget_spent || next.think_budget_spent;
  usage.prompt_tokens = next.usage.prompt_tokens;
  usage.prefilled_tokens += next.usage.prefilled_tokens;
  usage.completion_tokens += next.usage.completion_tokens;
  usage.reasoning_tokens += next.usage.reasoning_tokens;
  usage.prompt_ms += next.usage.prompt_ms;
  usage.generate_ms += next.usage.generate_ms;
}

}  // namespace scout::agent
