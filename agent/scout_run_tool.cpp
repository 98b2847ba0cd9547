#include "agent/scout_run_tool.h"

#include <exception>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "agent/loop.h"

namespace scout::agent {

namespace {

asio::awaitable<void> run_task(Loop* loop, std::string task, std::optional<RunResult>* out) {
  *out = co_await loop->run(std::move(task));
}

tools::Json sources_json(const std::vector<Source>& sources) {
  tools::Json out = tools::Json::array();
  for (const auto& s : sources) out.push_back({{"url", s.url}, {"title", s.title}});
  return out;
}

}  // namespace

ScoutRunTool::ScoutRunTool(Prepare prepare, std::shared_ptr<const tools::Registry> tools, OpenTrace open_trace)
    : prepare_(std::move(prepare)), tools_(std::move(tools)), open_trace_(std::move(open_trace)) {}

std::string ScoutRunTool::description() const {
  std::string names;
  for (const auto& t : tools_->list()) names += (names.empty() ? "" : ", ") + t.name;
  return "Hands a whole research task to Scout's agent, which plans with its reasoning model, calls its own tools (" +
         (names.empty() ? std::string("none") : names) +
         ") as many times as it needs, and returns its final answer. Use it for questions that need several "
         "searches, reading pages or running code; it can take minutes.";
}

tools::Json ScoutRunTool::parameters() const {
  return tools::Json{
      {"type", "object"},
      {"properties",
       {{"task", {{"type", "string"}, {"minLength", 1}, {"description", "The task or question, in full sentences."}}},
        {"effort",
         {{"type", "string"},
          {"enum", {"low", "medium", "high"}},
          {"description", "How long the model may think each turn (default: the server's configuration)."}}}}},
      {"required", {"task"}},
      {"additionalProperties", false}};
}

asio::awaitable<tools::ToolOutput> ScoutRunTool::invoke(tools::Json arguments, tools::ToolContext ctx) {
  const std::string task = arguments.value("task", "");
  const std::string effort = arguments.value("effort", "");
  auto setup = prepare_(effort);
  if (!setup) co_return tools::ToolOutput::failure("scout_run could not set up the run: " + setup.error().message);
  auto trace = open_trace_();
  if (!trace) co_return tools::ToolOutput::failure("scout_run could not open the run's trace: " + trace.error().message);

  int reports = 0;
  auto report = [&](std::string message) {
    if (ctx.progress) ctx.progress(tools::ToolProgress{static_cast<double>(++reports), std::nullopt, std::move(message)});
  };
  bool answering = false;
  auto observer = [&](const LoopEvent& e) {
    const std::string step = "step " + std::to_string(e.step) + ": ";
    if (e.kind == LoopEvent::Kind::turn_start) {
      answering = false;
      report(step + "thinking");
    } else if (e.kind == LoopEvent::Kind::tool_start && e.call) {
      report(step + "calling " + e.call->name);
    } else if (e.kind == LoopEvent::Kind::model && e.model && e.model->kind == StreamEvent::Kind::answer_text &&
               !answering) {
      answering = true;
      report(step + "answering");
    }
  };

  auto executor = co_await asio::this_coro::executor;
  Loop loop(executor, *setup->backend, *tools_, setup->options, *trace, observer);
  std::optional<RunResult> result;
  std::exception_ptr failure;
  bool finished = false;
  asio::steady_timer done(executor, asio::steady_timer::time_point::max());
  asio::co_spawn(executor, run_task(&loop, task, &result), [&](std::exception_ptr e) {
    failure = e;
    finished = true;
    done.cancel();
  });

  // Wait for the run. A cancellation of this call wakes the wait early: stop the run, then wait
  // for it to end (the loop's frame lives here, so it must finish before we return).
  co_await asio::this_coro::throw_if_cancelled(false);
  while (!finished) {
    co_await done.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!finished) {
      loop.stop(RunStatus::cancelled, "the caller cancelled the scout_run call");
      co_await asio::this_coro::reset_cancellation_state();
    }
  }
  if (failure || !result) co_return tools::ToolOutput::failure("scout_run: the run ended unexpectedly (internal error)");

  const RunResult& r = *result;
  tools::Json structured = {{"status", run_status_name(r.status)},
                            {"steps", r.steps},
                            {"tool_calls", r.tool_calls},
                            {"sources", sources_json(r.sources)},
                            {"trace", trace->path().empty() ? tools::Json(nullptr) : tools::Json(trace->path())}};
  if (r.status == RunStatus::answered && !r.answer.empty())
    co_return tools::ToolOutput::success(r.answer, std::move(structured));
  std::string text = "The run ended without an answer (" + std::string(run_status_name(r.status)) + ")" +
                     (r.detail.empty() ? std::string() : ": " + r.detail) + ".";
  if (!r.answer.empty()) text += "\nIts last text: " + r.answer;
  co_return tools::ToolOutput::failure(std::move(text), std::move(structured));
}

}  // namespace scout::agent
