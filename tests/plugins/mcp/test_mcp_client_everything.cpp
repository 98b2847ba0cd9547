// McpClient against the reference MCP server (@modelcontextprotocol/server-everything, npm) over
// stdio: the handshake, listing its tools, calling several, an error result, a timeout that
// cancels the request, and a server that dies mid-session.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include "plugins/mcp/client.h"
#include "tests/plugins/mcp/mcp_test_support.h"

using namespace scout::plugins::mcp;
using scout::plugins::mcp::testing::close;
using scout::plugins::mcp::testing::everything_server;
using scout::plugins::mcp::testing::first_text;
using scout::plugins::mcp::testing::run;
using Catch::Contains;
namespace asio = boost::asio;

TEST_CASE("the reference MCP server initializes, lists its tools and answers calls over stdio", "[mcp][everything]") {
  asio::io_context io;
  auto transport = StdioTransport::spawn(io.get_executor(), everything_server());
  REQUIRE(transport);
  std::vector<std::string> notifications;
  ClientOptions options;
  options.on_notification = [&](const Notification& n) { notifications.push_back(n.method); };
  McpClient client(io.get_executor(), std::move(*transport), options);

  auto info = run(io, client.initialize());
  INFO((info ? "" : info.error().message) << client.stderr_tail());
  REQUIRE(info);
  CHECK(info->name == "mcp-servers/everything");
  CHECK(info->protocol_version == "2025-11-25");
  CHECK(info->capabilities.contains("tools"));

  auto tools = run(io, client.list_tools());
  REQUIRE(tools);
  std::vector<std::string> names;
  for (const auto& t : *tools) names.push_back(t.name);
  CHECK_THAT(names, Catch::VectorContains(std::string("echo")));
  CHECK_THAT(names, Catch::VectorContains(std::string("get-sum")));
  const auto echo = std::find_if(tools->begin(), tools->end(), [](const McpTool& t) { return t.name == "echo"; });
  REQUIRE(echo != tools->end());
  CHECK(echo->input_schema["properties"].contains("message"));
  const auto structured =
      std::find_if(tools->begin(), tools->end(), [](const McpTool& t) { return t.name == "get-structured-content"; });
  REQUIRE(structured != tools->end());
  CHECK(structured->output_schema.has_value());

  auto echoed = run(io, client.call_tool("echo", Json{{"message", "hello ü"}}));
  REQUIRE(echoed);
  CHECK_FALSE(echoed->is_error);
  CHECK(first_text(*echoed) == "Echo: hello ü");

  auto sum = run(io, client.call_tool("get-sum", Json{{"a", 2}, {"b", 3}}));
  REQUIRE(sum);
  CHECK(first_text(*sum) == "The sum of 2 and 3 is 5.");

  // Bad arguments: the server answers with an error result (isError), not a protocol error.
  auto bad = run(io, client.call_tool("echo", Json::object()));
  REQUIRE(bad);
  CHECK(bad->is_error);
  CHECK_THAT(first_text(*bad), Contains("message"));

  // An unknown tool is refused by the server one way or the other, never a hang.
  auto unknown = run(io, client.call_tool("no-such-tool", Json::object()));
  CHECK((!unknown || unknown->is_error));

  close(io, client);
}

TEST_CASE("a request the server does not answer in time is cancelled with a clear error", "[mcp][everything]") {
  asio::io_context io;
  auto transport = StdioTransport::spawn(io.get_executor(), everything_server());
  REQUIRE(transport);
  ClientOptions options;
  options.request_timeout = std::chrono::milliseconds(1500);
  McpClient client(io.get_executor(), std::move(*transport), options);
  REQUIRE(run(io, client.initialize()));
  // A 10-second operation against a 1.5-second deadline.
  auto slow = run(io, client.call_tool("trigger-long-running-operation", Json{{"duration", 10}, {"steps", 2}}));
  REQUIRE_FALSE(slow);
  CHECK_THAT(slow.error().message, Contains("did not answer tools/call within"));
  // The session is still usable afterwards.
  auto sum = run(io, client.call_tool("get-sum", Json{{"a", 1}, {"b", 1}}));
  REQUIRE(sum);
  CHECK(first_text(*sum) == "The sum of 1 and 1 is 2.");
  close(io, client);
}

// What a server from before the stateless revision says to Scout's server/discover probe (the
// first request, id 1), in sh.
const std::string kRefuseProbe =
    "read line; echo '{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"Method not found\"}}'; ";

TEST_CASE("a server that dies mid-session fails its requests with its name, status and stderr", "[mcp]") {
  asio::io_context io;
  // Answers initialize, then exits with a message on stderr when the next request arrives.
  auto transport = StdioTransport::spawn(
      io.get_executor(),
      StdioCommand{"sh",
                   {"-c", kRefuseProbe +
                    "read line; echo '{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"protocolVersion\":\"2025-06-18\","
                    "\"capabilities\":{},\"serverInfo\":{\"name\":\"fragile\",\"version\":\"0\"}}}'; "
                    "read line; read line; echo 'panic: out of cheese' >&2; exit 7"},
                   {},
                   "fragile"});
  REQUIRE(transport);
  McpClient client(io.get_executor(), std::move(*transport));
  auto info = run(io, client.initialize());
  REQUIRE(info);
  CHECK(info->protocol_version == "2025-06-18");
  auto tools = run(io, client.list_tools());
  REQUIRE_FALSE(tools);
  CHECK_THAT(tools.error().message, Contains("MCP server 'fragile'") && Contains("exited with status 7") &&
                                        Contains("panic: out of cheese"));
  // Later requests fail at once with the same reason.
  auto again = run(io, client.call_tool("x", Json::object()));
  REQUIRE_FALSE(again);
  CHECK_THAT(again.error().message, Contains("exited with status 7"));
}

TEST_CASE("a server that speaks another protocol revision is refused, naming both", "[mcp]") {
  asio::io_context io;
  auto transport = StdioTransport::spawn(
      io.get_executor(),
      StdioCommand{"sh",
                   {"-c", kRefuseProbe +
                    "read line; echo '{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"protocolVersion\":\"2024-01-01\","
                    "\"capabilities\":{},\"serverInfo\":{\"name\":\"old\",\"version\":\"0\"}}}'; sleep 5"},
                   {},
                   "old"});
  REQUIRE(transport);
  McpClient client(io.get_executor(), std::move(*transport));
  auto info = run(io, client.initialize());
  REQUIRE_FALSE(info);
  CHECK_THAT(info.error().message, Contains("'2024-01-01'") && Contains("2025-11-25") && Contains("2025-06-18"));
  close(io, client);
}
