// The agent loop: a task in, an answer out. Each step asks the backend for the model's next
// turn, streams it, runs the tools it called (concurrently, through the registry), appends the
// results to the conversation and goes on, until the model answers or a budget ends the run.
//
//   user task ──► [turn: thinking, answer text, tool calls] ──► no calls: answered
//                    ▲   │ an in-thought action (<search>…</search> inside the thinking):
//                    └───┤   the turn pauses, the tool runs, its result is written into the
//                        │   thinking and the same turn resumes (agent/thought_protocol.h)
//                        │ calls / malformed calls
//                        ▼
//                 tools run (≤ max_parallel_tools at once, each with the tool deadline);
//                 results truncated to max_result_chars with a visible marker; malformed calls
//                 answered with what was wrong ──► next turn
//
// The conversation is an append-only list of Messages; the prompt is a pure function of it
// (the backend renders it). Every event goes to the trace as it happens (agent/trace.h).
//
// Stopping, and RunResult::status:
//   answered         the model ended a turn without calling a tool
//   max_steps        budgets.max_steps turns were used and the model still wanted tools
//   budget           a budget ran out: generated tokens, tool calls or wall time (detail says
//                    which)
//   length           one turn hit budgets.max_turn_tokens before the model finished it
//   context_full     the model's context window is full
//   cancelled        stop() was called (Ctrl-C): the model and in-flight tools were stopped
//   backend_error    the backend failed (detail has its message)
//
// Cancellation: stop() (on the loop's executor) cancels whatever is in flight — the backend's
// generation and every running tool — through Asio's per-operation cancellation; each reports
// what it had, the trace records it, and run() returns. The wall-time budget uses the same path.
//
// Thread-safety: a Loop runs one task at a time on one executor; call stop() from that
// executor (post to it from a signal handler or another thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "agent/backend.h"
#include "agent/messages.h"
#include "agent/thought_protocol.h"
#include "agent/trace.h"
#include "tools/registry/registry.h"

namespace scout::agent {

struct Budgets {
  int max_steps = 16;                          // model turns
  int max_tool_calls = 64;                     // tool calls over the whole run
  std::int64_t max_generated_tokens = 65536;   // over the whole run, thinking included
  std::int32_t max_turn_tokens = 16384;        // one turn
  std::chrono::milliseconds max_wall{0};       // 0: no limit
};

struct LoopOptions {
  Budgets budgets;
  std::size_t max_result_chars = 20000;         // longer tool results are cut, with a marker
  std::chrono::milliseconds tool_timeout{120000};
  int max_parallel_tools = 4;
  bool enable_thinking = true;
  std::string system_prompt;                    // empty: none (the template's default)
  // The in-thought protocol (agent/thought_protocol.h): the model may search, fetch and run code
  // inside its thinking, where the backend can pause there (the local engine). Elsewhere the
  // run says once that it is off and the model uses ordinary tool calls.
  bool thought_tools = true;
  std::size_t thought_result_chars = 4000;      // a result written into the thinking is condensed to this
  std::int32_t think_budget = -1;               // thinking tokens per turn (-1: no limit)
  // Put the system text (system_prompt and the protocol) at the head of the user's task instead
  // of a system message, for models whose cards advise against system prompts (DeepSeek-R1).
  bool instructions_in_user_turn = false;
};

// The thinking budget of an effort level: "low" 1024, "medium" 4096, "high" 16384 tokens per turn.
Result<std::int32_t> think_budget_for_effort(std::string_view effort);

enum class RunStatus { answered, max_steps, budget, length, context_full, cancelled, backend_error };
const char* run_status_name(RunStatus status);

struct RunResult {
  RunStatus status = RunStatus::answered;
  // The final answer (answered); otherwise the last answer text the model wrote, if any.
  std::string answer;
  std::string detail;   // why the run stopped, for people (empty when answered)
  std::vector<Message> messages;  // the whole conversation
  int steps = 0;
  int tool_calls = 0;
  Usage usage;          // totals over all turns
  double wall_ms = 0;
  int thought_calls = 0;          // of tool_calls, those made inside the thinking
  std::vector<Source> sources;    // search hits and pages the run read, first seen first, no repeats
};

// What front ends show while a run goes on. Called on the loop's executor, in order.
struct LoopEvent {
  // notice: something the user should know once (`text`), e.g. that a feature is off.
  // tool_progress: a running tool reported how far it got (`text`).
  enum class Kind { turn_start, model, tool_start, tool_progress, tool_end, turn_end, notice };
  Kind kind = Kind::model;
  int step = 0;
  const StreamEvent* model = nullptr;           // model: thinking/answer text, call, issue
  const ToolCall* call = nullptr;               // tool_start, tool_progress, tool_end
  const tools::ToolOutput* output = nullptr;    // tool_end (as the model reads it)
  double tool_ms = 0;                           // tool_end
  const TurnResult* turn = nullptr;             // turn_end
  std::string_view text;                        // notice, tool_progress
  bool in_thought = false;                      // tool_start, tool_end: an in-thought action
};
using LoopObserver = std::function<void(const LoopEvent&)>;

class Loop {
 public:
  // Backend, registry and trace must outlive the loop.
  Loop(asio::any_io_executor executor, Backend& backend, const tools::Registry& registry,
       LoopOptions options, TraceWriter& trace, LoopObserver observer = {});

  // Runs `task` to the end. Never throws for model, tool or backend failures: they are in the
  // result.
  asio::awaitable<RunResult> run(std::string task);

  // Stops the run in progress (see the file comment). `why` goes to RunResult::detail.
  void stop(RunStatus status, std::string why);

 private:
  asio::awaitable<Result<TurnResult>> model_turn(int step, std::int32_t max_tokens, RunResult& run);
  asio::awaitable<Result<TurnResult>> backend_turn(TurnRequest request, const TurnSink& sink);
  asio::awaitable<tools::ToolOutput> one_tool(int step, ToolCall call, bool in_thought = false);
  void add_sources(RunResult& run, const std::string& tool, const tools::ToolOutput& output) const;
  asio::awaitable<std::vector<tools::ToolOutput>> run_tools(int step, const std::vector<ToolCall>& calls);
  tools::ToolOutput truncate_result(tools::ToolOutput output) const;
  std::vector<ToolSpec> tool_specs() const;
  nlohmann::ordered_json options_json() const;

  asio::any_io_executor executor_;
  Backend& backend_;
  const tools::Registry& registry_;
  LoopOptions options_;
  TraceWriter& trace_;
  LoopObserver observer_;

  std::vector<Message> messages_;
  std::vector<ThoughtAction> thought_actions_;  // this run's in-thought actions (empty: off)
  asio::cancellation_signal stop_signal_;   // cancels the operation in flight
  std::optional<RunStatus> stopped_;        // set by stop()
  std::string stop_detail_;
};

}  // namespace scout::agent
