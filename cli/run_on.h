// Running one coroutine to its end on an io_context that may hold other work (an MCP server's
// stderr read, a sandboxed program's worker), so io_context::run() would not return in time.
#pragma once

#include <optional>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace scout::cli {

// The coroutine's result, or nothing if the io_context ran out of work first. Either way the
// io_context is left ready to run more: running out of work stops it (say, when the only MCP
// server exited), and a stopped io_context's run() returns at once, doing nothing.
template <class T>
std::optional<T> run_on(boost::asio::io_context& io, boost::asio::awaitable<T> op) {
  std::optional<T> out;
  boost::asio::co_spawn(
      io,
      [](boost::asio::awaitable<T> inner, std::optional<T>& result) -> boost::asio::awaitable<void> {
        result.emplace(co_await std::move(inner));
      }(std::move(op), out),
      boost::asio::detached);
  if (io.stopped()) io.restart();
  while (!out && io.run_one()) {
  }
  if (io.stopped()) io.restart();
  return out;
}

}  // namespace scout::cli
