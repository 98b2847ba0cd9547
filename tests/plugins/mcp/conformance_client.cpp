// The client the official MCP conformance suite (@modelcontextprotocol/conformance) launches:
//   MCP_CONFORMANCE_SCENARIO=NAME scout_mcp_conformance_client [ARGS…] SERVER_URL
// It does with Scout's McpClient over Streamable HTTP what each scenario expects of a client,
// the way the official SDKs' example clients do, and exits 0 when every step worked.
// scripts/mcp-conformance.sh runs the suite against it.
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

// Scenarios whose server checks how the client calls each tool it offers.
bool calls_every_tool(const std::string& scenario) {
  return scenario == "sep-2322-client-request-state" || scenario == "http-standard-headers" ||
         scenario == "http-invalid-tool-headers";
}

// Arguments that satisfy a schema's required properties, as a model would fill them in.
Json sample_arguments(const Json& schema) {
  Json args = Json::object();
  const Json properties = schema.value("properties", Json::object());
  for (const Json& name : schema.value("required", Json::array())) {
    if (!name.is_string()) continue;
    const Json property = properties.value(name.get<std::string>(), Json::object());
    const std::string type = property.value("type", Json("string")).is_string() ? property.value("type", "string") : "string";
    args[name.get<std::string>()] = type == "integer" ? Json(1)
                                    : type == "number"  ? Json(1.5)
                                    : type == "boolean" ? Json(true)
                                    : type == "object"  ? Json::object()
                                    : type == "array"   ? Json::array()
                                                        : Json("sample");
  }
  return args;
}

asio::awaitable<int> drive(McpClient& client, std::string scenario, Json context) {
  int status = 0;
  auto fail = [&](const std::string& what, const std::string& why) {
    std::cerr << "conformance client: " << what << " failed: " << why << "\n";
    status = 1;
  };
  std::vector<std::pair<std::string, Json>> calls;
  if (auto info = co_await client.initialize(); !info) {
    fail("initialize", info.error().message);
  } else {
    std::cerr << "initialized: " << info->name << " (protocol " << info->protocol_version
              << (info->stateless ? ", stateless" : "") << ")\n";
    auto tools = co_await client.list_tools();
    if (!tools) fail("tools/list", tools.error().message);
    // The calls the scenario's context asks for, else what the scenario is known to expect.
    if (context.contains("toolCalls") && context["toolCalls"].is_array()) {
      for (const Json& c : context["toolCalls"])
        calls.emplace_back(c.value("name", ""), c.value("arguments", Json::object()));
    } else if (const auto call = call_for(scenario)) {
      calls.push_back(*call);
    } else if (tools && calls_every_tool(scenario)) {
      for (const McpTool& t : *tools) calls.emplace_back(t.name, sample_arguments(t.input_schema));
    } else if (tools && scenario == "json-schema-2020-12-preservation") {
      // Hand the focal tool's schema back as received: what the client kept of it.
      for (const McpTool& t : *tools)
        if (t.name == "json_schema_2020_12_tool") calls.emplace_back("json_schema_echo", Json{{"schema", t.input_schema}});
    }
    for (const auto& [name, arguments] : calls) {
      auto result = co_await client.call_tool(name, arguments);
      if (!result) fail("tools/call " + name, result.error().message);
      else std::cerr << "tools/call " << name << ": " << result->content.dump() << "\n";
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
  Json context = Json::object();
  if (const char* text = std::getenv("MCP_CONFORMANCE_CONTEXT")) {
    context = Json::parse(text, nullptr, false);
    if (!context.is_object()) context = Json::object();
  }
  HttpEndpoint endpoint{url, {}, "conformance", "", nullptr};
  if (scenario.rfind("auth/", 0) == 0) {
    // The suite's authorization server approves at once: the headless authorizer reads its
    // redirect. Pre-registered credentials, when a scenario has them, come in its context.
    OAuthClientConfig oauth;
    oauth.client_name = "scout-conformance-client";
    oauth.client_metadata_url = "https://conformance-test.local/client-metadata.json";
    oauth.client_id = context.value("client_id", "");
    oauth.client_secret = context.value("client_secret", "");
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
  options.on_warning = [](const std::string& what) { std::cerr << "warning: " << what << "\n"; };
  options.on_elicitation = [](const std::string&, const Json& params) {
    Json content = Json::object();
    apply_elicitation_defaults(params.value("requestedSchema", Json::object()), content);
    return Json{{"action", "accept"}, {"content", content}};
  };
  McpClient client(io.get_executor(), std::move(*transport), options);
  std::optional<int> status;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { status = co_await drive(client, scenario, context); }, asio::detached);
  while (!status && io.run_one()) {
  }
  return status.value_or(1);
}
