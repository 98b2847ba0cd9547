// scout_run: a whole agent task offered as one tool — what `scout mcp-server` gives other agents
// besides the built-in tools. The task runs as `scout run TASK` would: the backend and budgets
// come from prepare_run (the configuration), the tools from the registry given here, the trace
// goes where the given function opens it. The result is the run's final answer, with its status,
// counts and sources as structured content; a run that ends without an answer (a budget spent,
// the backend failing) is an error result saying why.
//
// Progress: while the run goes on, reports through ToolContext::progress — "step N: thinking",
// "step N: calling web_search", "step N: answering" — numbered 1, 2, 3….
// Cancellation: cancelling the call (the client's notifications/cancelled, the registry's
// deadline) stops the run (Loop::stop), which cancels the model's turn and the tools in flight.
//
// Each call sets up its own backend, so calls may run concurrently; `scout mcp-server` gives
// prepare_run a ModelCache, so a local model file is read by the first call only.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/run_setup.h"
#include "agent/trace.h"
#include "tools/registry/registry.h"

namespace scout::agent {

class ScoutRunTool final : public tools::Tool {
 public:
  // The backend and loop options for one run at this effort ("low", "medium", "high"; "" for the
  // configuration's).
  using Prepare = std::function<Expected<RunSetup, SetupError>(const std::string& effort)>;
  // The trace of one run (TraceWriter::disabled() for none).
  using OpenTrace = std::function<Result<TraceWriter>()>;

  ScoutRunTool(Prepare prepare, std::shared_ptr<const tools::Registry> tools, OpenTrace open_trace);

  std::string name() const override { return "scout_run"; }
  std::string description() const override;
  tools::Json parameters() const override;
  asio::awaitable<tools::ToolOutput> invoke(tools::Json arguments, tools::ToolContext ctx) override;

 private:
  Prepare prepare_;
  std::shared_ptr<const tools::Registry> tools_;
  OpenTrace open_trace_;
};

}  // namespace scout::agent
