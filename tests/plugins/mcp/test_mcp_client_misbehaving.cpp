// McpClient against servers that misbehave in ways a real process or network makes hard to
// stage on cue — a connection that is gone before a request's wait begins — or that are
// simplest to state as canned answers: JSON of unexpected shapes where Scout reads a server's
// capabilities and tools. The transports here are scripted in memory, so the timing is exact.
#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "plugins/mcp/client.h"
#include "plugins/mcp/mcp_tool.h"

using namespace scout::plugins::mcp;
using Catch::Contains;
namespace asio = boost::asio;

namespace {

// A server whose connection is already gone: every receive() fails at once. Sending still
// works, and suspends once as a real write does.
class GoneTransport final : public Transport {
 public:
  const std::string& name() const override { return name_; }
  asio::awaitable<scout::Result<void>> send(const Message&) override {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return scout::Result<void>{};
  }
  asio::awaitable<scout::Result<Message>> receive() override {
    co_return scout::make_error("MCP server 'gone' closed its output");
  }
  std::string diagnostics() const override { return {}; }
  asio::awaitable<void> close(std::chrono::milliseconds) override { co_return; }

 private:
  std::string name_ = "gone";
};

// A server that answers each request with the result given for its method (an empty object
// for the rest) and sends nothing of its own; every method asked is recorded.
class CannedTransport final : public Transport {
 public:
  CannedTransport(asio::any_io_executor ex, std::map<std::string, Json> results, std::vector<std::string>& asked)
      : results_(std::move(results)), asked_(asked), wake_(ex, asio::steady_timer::time_point::max()) {}
  const std::string& name() const override { return name_; }
  asio::awaitable<scout::Result<void>> send(const Message& message) override {
    if (const auto* r = std::get_if<Request>(&message)) {
      asked_.push_back(r->method);
      const auto it = results_.find(r->method);
      inbox_.push_back(Response{r->id, it == results_.end() ? Json::object() : it->second});
      wake_.cancel();
    }
    co_return scout::Result<void>{};
  }
  asio::awaitable<scout::Result<Message>> receive() override {
    while (inbox_.empty() && !closed_) {
      wake_.expires_at(asio::steady_timer::time_point::max());
      (void)co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (closed_) co_return scout::make_error("MCP server 'canned' closed");
    Message m = std::move(inbox_.front());
    inbox_.erase(inbox_.begin());
    co_return m;
  }
  std::string diagnostics() const override { return {}; }
  asio::awaitable<void> close(std::chrono::milliseconds) override {
    closed_ = true;
    wake_.cancel();
    co_return;
  }

 private:
  std::string name_ = "canned";
  std::map<std::string, Json> results_;
  std::vector<std::string>& asked_;
  std::vector<Message> inbox_;
  asio::steady_timer wake_;
  bool closed_ = false;
};

asio::awaitable<void> initialize_into(McpClient& client, std::optional<scout::Result<ServerInfo>>& info) {
  info.emplace(co_await client.initialize());
}

}  // namespace

TEST_CASE("a request fails as soon as the connection is known to be gone, even when that is learned before its wait",
          "[mcp]") {
  asio::io_context io;
  ClientOptions options;
  options.probe_timeout = std::chrono::minutes(10);
  options.request_timeout = std::chrono::minutes(10);
  McpClient client(io.get_executor(), std::make_unique<GoneTransport>(), options);
  std::optional<scout::Result<ServerInfo>> info;
  asio::co_spawn(io, initialize_into(client, info), asio::detached);
  // Only what is ready to run, never a timer: a request left waiting for its deadline would
  // leave `info` empty here.
  while (io.poll() > 0) io.restart();
  REQUIRE(info.has_value());
  REQUIRE_FALSE(*info);
  CHECK_THAT(info->error().message, Contains("closed its output"));
  io.restart();
  io.run();  // nothing left waiting either
}

TEST_CASE("a server whose capabilities say listChanged with a non-boolean offers no list changes, and is not an error",
          "[mcp]") {
  asio::io_context io;
  std::vector<std::string> asked;
  const Json discovered = Json::parse(R"({"supportedVersions": ["2026-07-28"],
      "capabilities": {"tools": {"listChanged": "yes"}}, "serverInfo": {"name": "odd", "version": "1"}})");
  ClientOptions options;
  options.on_notification = [](const Notification&) {};  // a client that would listen for changes
  auto client = std::make_shared<McpClient>(
      io.get_executor(), std::make_unique<CannedTransport>(io.get_executor(), std::map<std::string, Json>{{"server/discover", discovered}}, asked),
      options);
  std::optional<scout::Result<ServerInfo>> info;
  std::exception_ptr thrown;
  bool ended = false;
  asio::co_spawn(io, initialize_into(*client, info), [&](std::exception_ptr e) {
    thrown = e;
    ended = true;
  });
  while (!ended && io.run_one() > 0) {
  }
  REQUIRE_FALSE(thrown);
  REQUIRE(info.has_value());
  REQUIRE(*info);
  CHECK((*info)->stateless);
  while (io.poll() > 0) {
  }
  CHECK(asked == std::vector<std::string>{"server/discover"});  // no subscriptions/listen
  asio::co_spawn(io, client->close(), asio::detached);
  io.restart();
  io.run();
}

TEST_CASE("a server's tool whose inputSchema has a type that is not a string is offered with a plain object schema",
          "[mcp]") {
  asio::io_context io;
  std::vector<std::string> asked;
  auto client = std::make_shared<McpClient>(io.get_executor(),
                                            std::make_unique<CannedTransport>(io.get_executor(), std::map<std::string, Json>{}, asked));
  McpTool tool;
  tool.name = "odd";
  tool.input_schema = Json::parse(R"({"type": 5, "properties": {"x": {"type": "string"}}})");
  McpToolAdapter adapter(client, tool, "srv__odd");
  scout::tools::Json schema;
  REQUIRE_NOTHROW(schema = adapter.parameters());
  CHECK(schema == scout::tools::Json{{"type", "object"}});
}
