// Shared by the MCP tests: the reference server's command line, and running one client call to
// its end on an io_context that also holds the transport's background stderr read.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include "plugins/mcp/client.h"
#include "plugins/mcp/http_transport.h"
#include "plugins/mcp/stdio_transport.h"
#include "tests/tools/registry/registry_test_support.h"

namespace scout::plugins::mcp::testing {

// @modelcontextprotocol/server-everything over stdio (tests/reference/package.json).
inline StdioCommand everything_server() {
  return StdioCommand{"node",
                      {std::string(SCOUT_REFERENCE_DIR) +
                           "/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
                       "stdio"},
                      {},
                      "everything"};
}

// A client of the Streamable HTTP endpoint at `url`; REQUIREs that the URL is usable.
inline McpClient http_client(asio::io_context& io, const std::string& url, ClientOptions options = {},
                             HttpTransportOptions transport_options = {}) {
  auto transport = HttpTransport::open(io.get_executor(), HttpEndpoint{url, {}, "", "", nullptr}, transport_options);
  REQUIRE(transport);
  return McpClient(io.get_executor(), std::move(*transport), std::move(options));
}

// The first text block of a result ("" when there is none).
inline std::string first_text(const CallResult& r) {
  for (const auto& block : r.content)
    if (block.value("type", "") == "text") return block.value("text", "");
  return {};
}

template <class T>
asio::awaitable<std::optional<T>> as_optional(asio::awaitable<T> op) {
  co_return co_await std::move(op);
}

// Runs one call to its end (Result is not default-constructible, as co_spawn needs).
template <class T>
T run(asio::io_context& io, asio::awaitable<T> op) {
  return *tools::testing::run_until_done(io, as_optional(std::move(op)));
}

inline asio::awaitable<bool> close_client(McpClient& client) {
  co_await client.close();
  co_return true;
}

inline void close(asio::io_context& io, McpClient& client) { tools::testing::run_until_done(io, close_client(client)); }

}  // namespace scout::plugins::mcp::testing
