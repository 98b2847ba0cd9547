#include "tools/registry/registry.h"

#include <cstdio>
#include <exception>
#include <variant>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tools/registry/json_schema.h"

namespace scout::tools {
namespace {

using Clock = ToolContext::Clock;

std::string seconds_text(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::chrono::duration<double>(d).count());
  return buf;
}

// Runs the tool and turns anything it throws into an error output, so nothing escapes to the
// agent's loop. A cancelled Asio operation inside the tool throws operation_aborted; that ends
// up here too, and the caller replaces the message with "timed out" or "cancelled".
asio::awaitable<ToolOutput> invoke_guarded(std::shared_ptr<Tool> tool, Json arguments, ToolContext ctx) {
  try {
    co_return co_await tool->invoke(std::move(arguments), ctx);
  } catch (const std::exception& e) {
    co_return ToolOutput::failure("Tool '" + tool->name() + "' failed: " + e.what());
  } catch (...) {
    co_return ToolOutput::failure("Tool '" + tool->name() + "' failed with an unknown error.");
  }
}

asio::awaitable<void> sleep_until(Clock::time_point when) {
  asio::steady_timer timer(co_await asio::this_coro::executor, when);
  co_await timer.async_wait(asio::use_awaitable);
}

// One call, running in its own coroutine so that its cancellation state is the caller's
// (bound by Registry::call). The tool races a timer at the deadline; whichever side loses is
// cancelled, and awaitable operator || waits for it to finish, so the tool's frame is gone
// before the result is returned.
asio::awaitable<ToolOutput> run_with_deadline(std::shared_ptr<Tool> tool, Json arguments,
                                              Clock::time_point deadline,
                                              std::function<void(const ToolProgress&)> progress) {
  using namespace asio::experimental::awaitable_operators;
  // The outcome is reported as a value below; an exception on resumption would lose it.
  co_await asio::this_coro::throw_if_cancelled(false);

  const std::string name = tool->name();
  const Clock::time_point start = Clock::now();
  ToolContext tool_ctx;
  tool_ctx.deadline = deadline;
  tool_ctx.progress = std::move(progress);

  ToolOutput out;
  bool timed_out = false;
  if (deadline == Clock::time_point::max()) {
    out = co_await invoke_guarded(tool, std::move(arguments), tool_ctx);
  } else if (start >= deadline) {
    timed_out = true;
  } else {
    auto raced = co_await (invoke_guarded(tool, std::move(arguments), tool_ctx) || sleep_until(deadline));
    if (raced.index() == 0) out = std::move(std::get<0>(raced));
    else timed_out = true;
  }

  if (timed_out) {
    co_return ToolOutput::failure(
        "Tool '" + name + "' timed out: it did not finish within its time limit of " +
            seconds_text(deadline > start ? deadline - start : Clock::duration::zero()) +
            " s and was cancelled. Try a smaller request.",
        Json{{"timed_out", true}});
  }
  auto cs = co_await asio::this_coro::cancellation_state;
  if (cs.cancelled() != asio::cancellation_type::none) {
    co_return ToolOutput::failure("Tool '" + name + "' was cancelled before it finished.",
                                  Json{{"cancelled", true}});
  }
  co_return out;
}

}  // namespace

bool is_valid_tool_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<void> Registry::add(std::shared_ptr<Tool> tool) {
  if (!tool) return make_error("cannot register a null tool");
  std::string name = tool->name();
  if (!is_valid_tool_name(name))
    return make_error("tool name '" + name +
                      "' is invalid: use 1 to 64 letters, digits, '_' or '-'");
  if (tools_.count(name)) return make_error("a tool named '" + name + "' is already registered");
  Json schema = tool->parameters();
  if (!schema.is_object() || schema.value("type", std::string()) != "object")
    return make_error("tool '" + name + "' has a parameters schema that is not of type \"object\"");
  tools_.emplace(std::move(name), std::move(tool));
  return {};
}

std::vector<ToolInfo> Registry::list() const {
  std::vector<ToolInfo> out;
  out.reserve(tools_.size());
  for (const auto& [name, tool] : tools_)
    out.push_back({name, tool->description(), tool->parameters(), tool->origin()});
  return out;
}

std::shared_ptr<Tool> Registry::find(std::string_view name) const {
  auto it = tools_.find(name);
  return it == tools_.end() ? nullptr : it->second;
}

std::string describe_progress(const ToolProgress& p) {
  auto number = [](double v) {
    std::string text = std::to_string(v);
    text.erase(text.find_last_not_of('0') + 1);
    if (!text.empty() && text.back() == '.') text.pop_back();
    return text;
  };
  std::string text = p.message.empty() || p.total ? number(p.progress) : "";
  if (p.total) text += "/" + number(*p.total);
  if (!p.message.empty()) text += (text.empty() ? "" : ": ") + p.message;
  return text;
}

std::string Registry::known_names() const {
  std::string out;
  for (const auto& [name, tool] : tools_) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "(none)" : out;
}

asio::awaitable<ToolOutput> Registry::call(std::string name, Json arguments, ToolContext ctx) const {
  std::shared_ptr<Tool> tool = find(name);
  if (!tool) {
    co_return ToolOutput::failure("Unknown tool '" + name + "'. Available tools: " + known_names() + ".");
  }

  // Models sometimes send null for a tool without parameters; that means "no arguments".
  if (arguments.is_null()) arguments = Json::object();
  std::vector<SchemaViolation> violations = validate_and_apply_defaults(tool->parameters(), arguments);
  if (!violations.empty()) {
    std::string text = "Invalid arguments for tool '" + name + "':";
    Json paths = Json::array();
    for (const auto& v : violations) {
      text += "\n- " + v.message;
      paths.push_back(v.path);
    }
    text += "\nFix these and call the tool again.";
    co_return ToolOutput::failure(std::move(text), Json{{"invalid_arguments", std::move(paths)}});
  }

  auto ex = co_await asio::this_coro::executor;
  auto run = run_with_deadline(std::move(tool), std::move(arguments), ctx.deadline, std::move(ctx.progress));
  // With a caller's slot, that slot drives cancellation; otherwise use_awaitable forwards this
  // coroutine's own cancellation state to the spawned call.
  if (ctx.cancel.is_connected()) {
    co_return co_await asio::co_spawn(ex, std::move(run), asio::bind_cancellation_slot(ctx.cancel, asio::use_awaitable));
  }
  co_return co_await asio::co_spawn(ex, std::move(run), asio::use_awaitable);
}

}  // namespace scout::tools
