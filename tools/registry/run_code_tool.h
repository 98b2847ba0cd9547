// run_code: runs a short Python or Bash program in the code sandbox (tools/sandbox) and shows
// the model its exit status, output and which limit ended it; the structured result adds
// `limits`, which limits held for the run (SandboxResult::limits_held).
//
// run_in_sandbox blocks for up to its wall limit, so each run goes to this tool's own worker
// threads and the coroutine waits for it as an ordinary Asio operation: the io_context thread
// is never blocked. When the call is cancelled the coroutine resumes at once with a "cancelled"
// result, and the program is killed through SandboxRequest::cancel within ~20 ms; its output
// is dropped.
//
// Lifetime: the io_context that runs invoke must outlive every run it started; the io_context
// stays busy (run() does not return) until a cancelled run's worker has returned, so that is
// automatic when the io_context is run to completion. Destroying the tool waits for runs in
// progress to end.
// Thread-safety: invoke may be called concurrently; runs beyond `worker_threads` queue.
#pragma once

#include <memory>

#include <boost/asio/thread_pool.hpp>

#include "tools/registry/tool.h"
#include "tools/sandbox/sandbox.h"

namespace scout::tools {

struct RunCodeOptions {
  SandboxLimits limits;              // everything but the wall time, which the call picks
  double default_timeout_s = 10.0;   // wall time when the model gives no timeout_s
  double max_timeout_s = 60.0;       // the largest timeout_s the schema accepts
  int worker_threads = 2;            // runs in parallel; more calls wait their turn
  bool allow_unsandboxed = false;    // see SandboxRequest::allow_unsandboxed
  std::string bwrap_path;            // see SandboxRequest::bwrap_path
};

class RunCodeTool final : public Tool {
 public:
  explicit RunCodeTool(RunCodeOptions options = {});
  ~RunCodeTool() override;

  std::string name() const override { return "run_code"; }
  std::string description() const override;
  Json parameters() const override;
  asio::awaitable<ToolOutput> invoke(Json arguments, ToolContext ctx) override;

 private:
  RunCodeOptions options_;
  asio::thread_pool workers_;
};

// The text the model reads for a finished run (exposed for tests and for the trace viewer).
ToolOutput format_sandbox_result(const SandboxResult& result, double timeout_s);

}  // namespace scout::tools
