#include "agent/backend.h"

namespace scout::agent {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::stop: return "stop";
    case FinishReason::tool_calls: return "tool_calls";
    case FinishReason::length: return "length";
    case FinishReason::context_full: return "context_full";
    case FinishReason::cancelled: return "cancelled";
  }
  return "unknown";
}

void TurnResult::add(const StreamEvent& event) {
  switch (event.kind) {
    case StreamEvent::Kind::thinking_text: message.reasoning += event.text; break;
    case StreamEvent::Kind::answer_text: message.content += event.text; break;
    case StreamEvent::Kind::tool_call: message.tool_calls.push_back(event.call); break;
    case StreamEvent::Kind::issue: issues.push_back(event); break;
  }
}

}  // namespace scout::agent
