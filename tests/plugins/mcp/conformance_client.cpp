// The client the official MCP conformance suite (@modelcontextprotocol/conformance) launches:
//   MCP_CONFORMANCE_SCENARIO=NAME scout_mcp_conformance_client [ARGS…] SERVER_URL
// It does with Scout's McpClient over Streamable HTTP what each scenario expects of a client,
// the way the official SDKs' example clients do, and exits 0 when every step worked.
// scripts/mcp-conformance.sh runs the suite against it.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "plugins/mcp/client.h"
#include "plugins/mcp/elicitation.h"
#include "plugins/mcp/http_transport.h"
#include "plugins/mcp/oauth.h"

namespace asio = boost::asio;
using namespace scout::plugins::mcp;

namespace {

// The tool each tools scenario's server offers, and its arguments.
std::optional<std::pair<std::string, Json>> call_for(const std::string& scenario) {
  if (scenario == "tools_call") return std::pair{std::string("add_numbers"), Json{{"a", 5}, {"b", 3}}};
  if (scenario == "elicitation-sep1034-client-defaults")
    return std::pair{std::string("test_client_elicitation_defaults"), Json::object()};
  if (scenario == "sse-retry") return std::pair{std::string("test_reconnection"), Json::object()};
  if (scenario.rfind("auth/", 0) == 0) return std::pair{std::string("test-tool"), Json::object()};
  return std::nullopt;
}

asio::awaitable<int> drive(McpClient& client, std::string scenario) {
  int status = 0;
  auto fail = [&](const std::string& what, const std::string& why) {
    std::cerr << "conformance client: " << what << " failed: " << why << "\n";
    status = 1;
  };
  if (auto info = co_await client.initialize(); !info) {
    fail("initialize", info.error().message);
  } else {
    std::cerr << "initialized: " << info->name << " (protocol " << info->protocol_version << ")\n";
    if (auto tools = co_await client.list_tools(); !tools) fail("tools/list", tools.error().message);
    if (const auto call = call_for(scenario)) {
      auto result = co_await client.call_tool(call->first, call->second);
      if (!result) fail("tools/call " + call->first, result.error().message);
      else std::cerr << "tools/call " << call->first << ": " << result->content.dump() << "\n";
    }
  }
  co_await client.close();
  co_return status;
}

}  // namespace

int main(int argc, char** argv) {
  const char* scenario_env = std::getenv("MCP_CONFORMANCE_SCENARIO");
  if (argc < 2 || !scenario_env) {
    std::cerr << "usage: MCP_CONFORMANCE_SCENARIO=NAME " << argv[0] << " SERVER_URL\n";
    return 2;
  }
  const std::string scenario = scenario_env;
  const std::string url = argv[argc - 1];
  asio::io_context io;
  HttpEndpoint endpoint{url, {}, "conformance", "", nullptr};
  if (scenario.rfind("auth/", 0) == 0) {
    // The suite's authorization server approves at once: the headless authorizer reads its
    // redirect. Pre-registered credentials, when a scenario has them, come in its context.
    OAuthClientConfig oauth;
    oauth.client_name = "scout-conformance-client";
    oauth.client_metadata_url = "https://conformance-test.local/client-metadata.json";
    if (const char* context = std::getenv("MCP_CONFORMANCE_CONTEXT")) {
      const Json c = Json::parse(context, nullptr, false);
      if (c.is_object()) {
        oauth.client_id = c.value("client_id", "");
        oauth.client_secret = c.value("client_secret", "");
      }
    }
    endpoint.oauth = std::make_shared<OAuthSession>(io.get_executor(), url, oauth, headless_authorizer(io.get_executor()));
  }
  auto transport = HttpTransport::open(io.get_executor(), std::move(endpoint));
  if (!transport) {
    std::cerr << "conformance client: " << transport.error().message << "\n";
    return 1;
  }
  ClientOptions options;
  options.request_timeout = std::chrono::seconds(20);
  options.client_name = "scout-conformance-client";
  // Accept every question with nothing typed: what is sent is the schema's defaults.
  options.on_elicitation = [](const std::string&, const Json& params) {
    Json content = Json::object();
    apply_elicitation_defaults(params.value("requestedSchema", Json::object()), content);
    return Json{{"action", "accept"}, {"content", content}};
  };
  McpClient client(io.get_executor(), std::move(*transport), options);
  std::optional<int> status;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { status = co_await drive(client, scenario); }, asio::detached);
  while (!status && io.run_one()) {
  }
  return status.value_or(1);
}
