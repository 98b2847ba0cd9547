// Backend: where the agent's model turns come from — the local engine (a Session kept for the
// whole task) or a remote OpenAI-compatible server. The loop hands a backend the whole
// conversation every turn; a backend that can keep state (the local Session) appends only what
// is new, one that cannot (HTTP) sends it all.
//
// A backend streams what the model produces as StreamEvents while it generates (thinking text,
// answer text, tool calls, issues) and returns the whole turn at the end. Cancellation comes
// through the awaiting coroutine's cancellation state (Ctrl-C, a budget, awaitable operator ||):
// the backend stops generating, then completes with FinishReason::cancelled and what it had.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "agent/messages.h"
#include "agent/stream_parser.h"
#include "common/expected.h"

namespace scout::agent {

namespace asio = boost::asio;

enum class FinishReason {
  stop,          // the model ended its turn
  tool_calls,    // the model ended its turn after asking for tools
  length,        // max_tokens for this turn reached
  context_full,  // the model's context window is full
  cancelled,     // cancelled by the caller
  // Paused inside the thinking on an in-thought action (TurnResult::thought_call): the turn is
  // not over. Run the action and call next_turn() again with resume_thinking_with set.
  thought_call,
};
const char* finish_reason_name(FinishReason reason);

struct Usage {
  std::int64_t prompt_tokens = 0;      // the conversation as the model saw it this turn
  std::int64_t prefilled_tokens = 0;   // of those, tokens actually computed (the rest was cached)
  std::int64_t completion_tokens = 0;  // generated this turn (thinking included)
  std::int64_t reasoning_tokens = 0;   // of those, thinking (when the backend can tell)
  double prompt_ms = 0;                // time to the first generated token
  double generate_ms = 0;              // from the first to the last generated token
};

struct TurnRequest {
  const std::vector<Message>* messages = nullptr;  // the conversation so far; never empty
  const std::vector<ToolSpec>* tools = nullptr;    // offered to the model this turn
  std::int32_t max_tokens = 4096;                  // cap on this turn's generated tokens
  bool enable_thinking = true;
  // In-thought actions the model may write (empty: none); only for backends that
  // can_pause_in_thought().
  const std::vector<ThoughtAction>* thought_actions = nullptr;
  // Set to go on with a turn that paused on a thought_call: this text (the action's result) is
  // written into the thinking, then generation resumes where it stopped. `messages` must be the
  // same conversation as when the turn began.
  std::optional<std::string> resume_thinking_with;
  // With resume_thinking_with: the paused turn so far (its reasoning ends with the action), for
  // backends that keep no state of their own and must send it back (remote continuation).
  const Message* paused_turn = nullptr;
  // Thinking tokens allowed in this turn (-1: no limit). When they are spent the backend closes
  // the thinking itself and lets the model answer; backends that cannot, ignore it.
  std::int32_t think_budget = -1;
};

struct TurnResult {
  Message message;                   // Role::assistant: content, reasoning, tool_calls
  std::vector<StreamEvent> issues;   // malformed output the model should hear about
  FinishReason finish = FinishReason::stop;
  Usage usage;
  std::optional<ToolCall> thought_call;  // finish == thought_call: the action to run
  bool think_budget_spent = false;       // the backend closed the thinking at the budget

  // Folds one streamed event into the turn: text onto content or reasoning (an in-thought
  // action's text onto reasoning, its call into thought_call), a call onto tool_calls, an issue
  // onto issues.
  void add(const StreamEvent& event);

  // Joins the rest of a paused turn onto this one: `injected` (the action's result, as written
  // into the thinking) then what `next` generated. Usage adds up; finish and thought_call are
  // next's.
  void continue_with(const std::string& injected, TurnResult next);
};

// Receives each event as the model produces it (on the backend's executor, in order).
using TurnSink = std::function<void(const StreamEvent&)>;

class Backend {
 public:
  virtual ~Backend() = default;

  // One line for the terminal and the trace: "local qwen3moe Q4_K (model.gguf)",
  // "remote http://127.0.0.1:8080/v1 model qwen3". Never contains credentials.
  virtual std::string describe() const = 0;

  // The model's next turn after request.messages. Errors are failures the run cannot go on
  // from (server unreachable after retries, authentication refused, the prompt does not fit):
  // their messages say what failed and what to do.
  virtual asio::awaitable<Result<TurnResult>> next_turn(TurnRequest request, TurnSink sink) = 0;

  // Whether next_turn() can pause inside the thinking on a ThoughtAction and resume from the
  // same state (the local Session can; a plain HTTP API cannot).
  virtual bool can_pause_in_thought() const { return false; }
};

}  // namespace scout::agent
