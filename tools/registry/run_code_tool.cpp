#include "tools/registry/run_code_tool.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tools/registry/run_blocking.h"

namespace scout::tools {
namespace {

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

RunCodeTool::RunCodeTool(RunCodeOptions options)
    : options_(std::move(options)), workers_(static_cast<std::size_t>(std::max(1, options_.worker_threads))) {}

RunCodeTool::~RunCodeTool() { workers_.join(); }

std::string RunCodeTool::description() const {
  return "Run a short Python 3 or Bash program in an isolated sandbox (no network, empty working "
         "directory) and return its exit status, stdout and stderr. Print what you need to see.";
}

Json RunCodeTool::parameters() const {
  return Json{
      {"type", "object"},
      {"properties",
       {{"language", {{"type", "string"}, {"enum", Json::array({"python", "bash"})}, {"description", "The interpreter to run the code with."}}},
        {"code", {{"type", "string"}, {"minLength", 1}, {"description", "The whole program."}}},
        {"timeout_s",
         {{"type", "number"},
          {"minimum", 1},
          {"maximum", options_.max_timeout_s},
          {"default", options_.default_timeout_s},
          {"description", "Wall-clock limit in seconds; the program is killed when it is reached."}}}}},
      {"required", Json::array({"language", "code"})},
      {"additionalProperties", false}};
}

asio::awaitable<ToolOutput> RunCodeTool::invoke(Json arguments, ToolContext /*ctx*/) {
  // The registry has validated the arguments; a direct caller that skipped it still gets a
  // clear message rather than an exception.
  if (!arguments.is_object() || !arguments.contains("language") || !arguments["language"].is_string() ||
      !arguments.contains("code") || !arguments["code"].is_string()) {
    co_return ToolOutput::failure("run_code needs a string 'language' (python or bash) and a string 'code'.");
  }
  const std::string language = arguments["language"].get<std::string>();
  if (language != "python" && language != "bash")
    co_return ToolOutput::failure("run_code: language must be \"python\" or \"bash\", got \"" + language + "\".");

  double timeout_s = options_.default_timeout_s;
  if (auto t = arguments.find("timeout_s"); t != arguments.end() && t->is_number()) timeout_s = t->get<double>();
  timeout_s = std::clamp(timeout_s, 0.1, options_.max_timeout_s);

  SandboxRequest request;
  request.language = language == "python" ? SandboxLanguage::python : SandboxLanguage::bash;
  request.code = arguments["code"].get<std::string>();
  request.limits = options_.limits;
  request.limits.wall_seconds = timeout_s;
  request.allow_unsandboxed = options_.allow_unsandboxed;
  request.bwrap_path = options_.bwrap_path;

  // A cancelled call stops the program too, not only the wait for it: the flag outlives the
  // call in the worker's copy of the lambda.
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  request.cancel = cancel.get();
  auto run = [request = std::move(request), cancel]() -> Result<SandboxResult> {
    try {
      return run_in_sandbox(request);
    } catch (const std::exception& e) {  // e.g. bad_alloc: report it instead of ending the thread
      return make_error(std::string("the sandbox failed: ") + e.what());
    }
  };
  auto [ec, result] = co_await async_run_blocking(workers_.get_executor(), std::move(run),
                                                  asio::as_tuple(asio::use_awaitable));
  if (ec == asio::error::operation_aborted) {
    cancel->store(true, std::memory_order_relaxed);
    co_return ToolOutput::failure("run_code was cancelled; the program's output was discarded.",
                                  Json{{"cancelled", true}});
  }
  if (ec || !result) co_return ToolOutput::failure("run_code failed: " + ec.message());
  if (!result->has_value()) co_return ToolOutput::failure("run_code could not start the program: " + result->error().message);
  co_return format_sandbox_result(result->value(), timeout_s);
}

ToolOutput format_sandbox_result(const SandboxResult& r, double timeout_s) {
  std::string text;
  if (r.term_signal != 0) {
    const char* sig = strsignal(r.term_signal);
    text += "Killed by signal " + std::to_string(r.term_signal) + (sig ? std::string(" (") + sig + ")" : "") + ".\n";
  } else {
    text += "Exit code " + std::to_string(r.exit_code) + ".\n";
  }
  if (r.timed_out)
    text += "Stopped: the time limit of " + format_seconds(timeout_s) + " s was reached.\n";
  else if (!r.killed_for.empty())
    text += "Stopped: " + r.killed_for + ".\n";
  if (r.truncated) text += "Output was truncated: only the first part is shown.\n";
  if (!r.note.empty()) text += "Note: " + r.note + "\n";
  text += "--- stdout ---\n" + (r.stdout_text.empty() ? std::string("(empty)\n") : r.stdout_text);
  if (text.back() != '\n') text += '\n';
  text += "--- stderr ---\n" + (r.stderr_text.empty() ? std::string("(empty)\n") : r.stderr_text);
  if (text.back() != '\n') text += '\n';

  Json structured{{"exit_code", r.exit_code},     {"term_signal", r.term_signal}, {"timed_out", r.timed_out},
                  {"killed_for", r.killed_for},   {"truncated", r.truncated},     {"sandboxed", r.sandboxed},
                  {"wall_seconds", r.wall_seconds}, {"stdout", r.stdout_text},    {"stderr", r.stderr_text},
                  {"limits", r.limits_held}};
  // A program that failed is still a result the model reads; is_error tells the loop and the
  // trace that the call did not succeed.
  bool failed = r.exit_code != 0 || r.term_signal != 0 || r.timed_out || !r.killed_for.empty();
  return ToolOutput{std::move(text), failed, std::move(structured)};
}

}  // namespace scout::tools
