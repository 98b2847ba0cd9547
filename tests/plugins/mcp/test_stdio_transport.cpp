// The stdio transport against real child processes: messages both ways, and the faults a
// server can commit — garbage on stdout, exiting, ignoring shutdown, not existing.
#include <catch2/catch.hpp>

#include <optional>


#include "plugins/mcp/stdio_transport.h"

#include "tests/tools/registry/registry_test_support.h"

using namespace scout::plugins::mcp;
using scout::tools::testing::run_until_done;
using Catch::Contains;
namespace asio = boost::asio;

namespace {

std::unique_ptr<StdioTransport> start(asio::io_context& io, std::string program, std::vector<std::string> args = {}) {
  auto t = StdioTransport::spawn(io.get_executor(), StdioCommand{std::move(program), std::move(args), {}, ""});
  REQUIRE(t);
  return std::move(*t);
}

template <class T>
asio::awaitable<std::optional<T>> as_optional(asio::awaitable<T> op) {
  co_return co_await std::move(op);
}

asio::awaitable<bool> close_it(StdioTransport& t, std::chrono::milliseconds grace) {
  co_await t.close(grace);
  co_return true;
}

}  // namespace

TEST_CASE("messages go to a server process and come back line by line", "[mcp][stdio]") {
  asio::io_context io;
  auto t = start(io, "cat");  // echoes every line: what is sent comes back
  const Message request = Request{RequestId{std::int64_t{1}}, "tools/list", Json::object()};
  const std::string big(40000, 'x');  // fits the pipe buffers: this test sends before it reads
  const Message note = Notification{"notifications/message", Json{{"data", big}}};
  REQUIRE(*run_until_done(io, as_optional(t->send(request))));
  REQUIRE(*run_until_done(io, as_optional(t->send(note))));
  auto first = *run_until_done(io, as_optional(t->receive()));
  REQUIRE(first);
  CHECK(std::get<Request>(*first).method == "tools/list");
  auto second = *run_until_done(io, as_optional(t->receive()));
  REQUIRE(second);
  CHECK(std::get<Notification>(*second).params->at("data") == big);
  run_until_done(io, close_it(*t, std::chrono::milliseconds(2000)));
  CHECK(t->exit_status() == "exited with status 0");  // cat ends when its stdin closes
}

TEST_CASE("garbage on a server's stdout is an error that quotes it", "[mcp][stdio]") {
  asio::io_context io;
  auto t = start(io, "sh", {"-c", "echo 'Starting server on stdio...'; sleep 30"});
  auto got = *run_until_done(io, as_optional(t->receive()));
  REQUIRE_FALSE(got);
  CHECK_THAT(got.error().message, Contains("MCP server 'sh' wrote") && Contains("not JSON") &&
                                      Contains("Starting server on stdio..."));
  run_until_done(io, close_it(*t, std::chrono::milliseconds(100)));
  CHECK(t->exit_status().has_value());
}

TEST_CASE("a server that exits is reported with its status, and its stderr is kept", "[mcp][stdio]") {
  asio::io_context io;
  auto t = start(io, "sh", {"-c", "echo 'fatal: no API key configured' >&2; exit 3"});
  auto got = *run_until_done(io, as_optional(t->receive()));
  REQUIRE_FALSE(got);
  CHECK_THAT(got.error().message, Contains("closed its output") && Contains("exited with status 3"));
  CHECK_THAT(t->stderr_tail(), Contains("fatal: no API key configured"));
}

TEST_CASE("close() ends a server that ignores its closed stdin and SIGTERM", "[mcp][stdio]") {
  asio::io_context io;
  auto t = start(io, "sh", {"-c", "trap '' TERM; while :; do sleep 1; done"});
  run_until_done(io, close_it(*t, std::chrono::milliseconds(100)));
  CHECK(t->exit_status() == "killed by signal 9");
}

TEST_CASE("a server program that does not exist is a clear error", "[mcp][stdio]") {
  asio::io_context io;
  auto t = StdioTransport::spawn(io.get_executor(), StdioCommand{"/nonexistent/mcp-server", {}, {}, ""});
  REQUIRE_FALSE(t);
  CHECK_THAT(t.error().message, Contains("mcp-server") && Contains("No such file"));
}

TEST_CASE("writing to a server that has exited is an error, not a crash", "[mcp][stdio]") {
  asio::io_context io;
  auto t = start(io, "true");
  auto got = *run_until_done(io, as_optional(t->receive()));
  REQUIRE_FALSE(got);  // its output closed
  const Message ping = Request{RequestId{std::int64_t{1}}, "ping", std::nullopt};
  auto sent = *run_until_done(io, as_optional(t->send(ping)));
  REQUIRE_FALSE(sent);
  CHECK_THAT(sent.error().message, Contains("MCP server 'true': cannot write to it"));
}
