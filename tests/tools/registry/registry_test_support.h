// Helpers shared by the registry tests: run a coroutine to completion on an io_context, and
// small tools whose behaviour the tests control.
#pragma once

#include <exception>
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tools/registry/tool.h"

namespace scout::tools::testing {

// Spawns `aw` on `io` and runs the io_context: until it has no work left (until_idle), or only
// until `aw` completes, leaving other work pending (for objects that keep a background read,
// like an MCP server's stderr). Returns the result.
template <class T>
T run_awaitable(asio::io_context& io, asio::awaitable<T> aw, bool until_idle) {
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(aw), [&](std::exception_ptr e, T value) {
    error = e;
    out = std::move(value);
  });
  io.restart();
  if (until_idle) {
    io.run();
    io.restart();
  } else {
    while (!out && !error)
      if (io.run_one() == 0) io.restart();
  }
  if (error) std::rethrow_exception(error);
  if (!out) throw std::logic_error("the coroutine did not complete");
  return std::move(*out);
}

template <class T>
T run_to_completion(asio::io_context& io, asio::awaitable<T> aw) {
  return run_awaitable(io, std::move(aw), /*until_idle=*/true);
}

template <class T>
T run_until_done(asio::io_context& io, asio::awaitable<T> aw) {
  return run_awaitable(io, std::move(aw), /*until_idle=*/false);
}

// Calls `action` on `io` once `ready()` holds, checking every millisecond. Lets a test act at
// a known point (e.g. "the tool has started") without guessing durations.
inline void when(asio::io_context& io, std::function<bool()> ready, std::function<void()> action) {
  asio::post(io, [&io, ready = std::move(ready), action = std::move(action)]() mutable {
    if (ready()) {
      action();
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(1));
    timer->async_wait([&io, timer, ready = std::move(ready), action = std::move(action)](
                          boost::system::error_code) mutable { when(io, std::move(ready), std::move(action)); });
  });
}

// Returns its (validated, defaulted) arguments as text and as structured output.
class EchoTool final : public Tool {
 public:
  explicit EchoTool(Json schema, std::string name = "echo") : schema_(std::move(schema)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::string description() const override { return "Returns its arguments."; }
  Json parameters() const override { return schema_; }
  asio::awaitable<ToolOutput> invoke(Json arguments, ToolContext) override {
    co_return ToolOutput::success(arguments.dump(), arguments);
  }

 private:
  Json schema_;
  std::string name_;
};

// Waits `ms` milliseconds on a steady_timer, counting how many calls are inside at once and how
// many saw their wait cancelled.
struct WaitCounters {
  int active = 0;
  int max_active = 0;
  int entered = 0;
  int cancelled = 0;
};

class WaitTool final : public Tool {
 public:
  explicit WaitTool(std::shared_ptr<WaitCounters> counters) : counters_(std::move(counters)) {}
  std::string name() const override { return "wait"; }
  std::string description() const override { return "Waits for a while."; }
  Json parameters() const override {
    return Json{{"type", "object"},
                {"properties", {{"ms", {{"type", "integer"}, {"minimum", 0}}}}},
                {"required", Json::array({"ms"})}};
  }
  asio::awaitable<ToolOutput> invoke(Json arguments, ToolContext) override {
    auto counters = counters_;
    ++counters->entered;
    counters->max_active = std::max(counters->max_active, ++counters->active);
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             std::chrono::milliseconds(arguments["ms"].get<int>()));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    --counters->active;
    if (ec) {
      ++counters->cancelled;
      co_return ToolOutput::failure("wait was interrupted");
    }
    co_return ToolOutput::success("waited");
  }

 private:
  std::shared_ptr<WaitCounters> counters_;
};

// Throws from invoke, as a buggy tool would.
class ThrowingTool final : public Tool {
 public:
  std::string name() const override { return "broken"; }
  std::string description() const override { return "Always throws."; }
  Json parameters() const override { return Json{{"type", "object"}}; }
  asio::awaitable<ToolOutput> invoke(Json, ToolContext) override {
    throw std::runtime_error("internal invariant broken");
    co_return ToolOutput{};
  }
};

}  // namespace scout::tools::testing
