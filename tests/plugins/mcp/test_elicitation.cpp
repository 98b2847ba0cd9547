// Elicitation: defaults filled in, answers typed from the terminal, refusals — and a real
// server (server-everything) asking through a tools/call.
#include <catch2/catch.hpp>

#include <sstream>

#include <boost/asio/io_context.hpp>

#include "plugins/mcp/client.h"
#include "plugins/mcp/elicitation.h"
#include "tests/plugins/mcp/mcp_test_support.h"

using namespace scout::plugins::mcp;
using scout::plugins::mcp::testing::close;
using scout::plugins::mcp::testing::everything_server;
using scout::plugins::mcp::testing::run;
using Catch::Contains;
namespace asio = boost::asio;

namespace {

// The schema the conformance suite's SEP-1034 scenario sends.
Json defaults_schema() {
  return Json::parse(R"({"type":"object","properties":{
    "name":{"type":"string","default":"John Doe"},
    "age":{"type":"integer","default":30},
    "score":{"type":"number","default":95.5},
    "status":{"type":"string","enum":["active","inactive","pending"],"default":"active"},
    "verified":{"type":"boolean","default":true}},"required":[]})");
}

}  // namespace

TEST_CASE("accepted elicitation content gets every default the schema gives, typed as the schema says", "[mcp][elicitation]") {
  Json content = Json{{"age", 41}};
  const auto problems = apply_elicitation_defaults(defaults_schema(), content);
  CHECK(problems.empty());
  CHECK(content == Json::parse(R"({"age":41,"name":"John Doe","score":95.5,"status":"active","verified":true})"));

  Json wrong = Json{{"age", "forty"}};
  const auto bad = apply_elicitation_defaults(defaults_schema(), wrong);
  REQUIRE(bad.size() == 1);
  CHECK_THAT(bad[0], Contains("content.age"));
}

TEST_CASE("a server's elicitation of any shape is answered on the terminal, never thrown on", "[mcp][elicitation]") {
  for (const char* params : {R"([1, 2])", R"({"message": 3, "mode": 4, "requestedSchema": []})",
                             R"({"requestedSchema": {"properties": {"a": {"type": 5, "title": [], "description": {}},
                                 "b": {"type": "array", "items": "x"}}, "required": "a"}})"}) {
    INFO(params);
    std::istringstream in("1\ny\n\ny\n");
    std::ostringstream out;
    Json result;
    REQUIRE_NOTHROW(result = ask_on_terminal("odd", Json::parse(params), in, out));
    CHECK(result["action"] == "accept");
  }
}

TEST_CASE("a terminal user answers field by field, keeps defaults with an empty line and confirms", "[mcp][elicitation]") {
  const Json params = {{"message", "Who are you?"}, {"requestedSchema", defaults_schema()}};
  SECTION("answers, defaults and a choice by number") {
    std::istringstream in("Ada\n\n\n3\nn\ny\n");  // name, age default, score default, status #3, verified no, send
    std::ostringstream out;
    const Json result = ask_on_terminal("people", params, in, out);
    CHECK_THAT(out.str(), Contains("MCP server 'people' asks: Who are you?") && Contains("[John Doe]") &&
                              Contains("1=active, 2=inactive, 3=pending"));
    CHECK(result["action"] == "accept");
    CHECK(result["content"] ==
          Json::parse(R"({"name":"Ada","status":"pending","verified":false,"age":30,"score":95.5})"));
  }
  SECTION("a bad answer is asked again") {
    std::istringstream in("\nforty\n41\n\n\n\n\n");
    std::ostringstream out;
    const Json result = ask_on_terminal("people", params, in, out);
    CHECK_THAT(out.str(), Contains("(give a whole number)"));
    CHECK(result["content"]["age"] == 41);
  }
  SECTION("declining at the confirmation sends nothing") {
    std::istringstream in("\n\n\n\n\nn\n");
    std::ostringstream out;
    CHECK(ask_on_terminal("people", params, in, out) == Json{{"action", "decline"}});
  }
  SECTION("end of input cancels") {
    std::istringstream in("Ada\n");
    std::ostringstream out;
    CHECK(ask_on_terminal("people", params, in, out) == Json{{"action", "cancel"}});
  }
}

TEST_CASE("a real server's elicitation reaches the handler and its answer reaches the tool", "[mcp][elicitation][everything]") {
  asio::io_context io;
  auto transport = StdioTransport::spawn(io.get_executor(), everything_server());
  REQUIRE(transport);
  Json asked;
  ClientOptions options;
  options.on_elicitation = [&](const std::string& server, const Json& params) {
    CHECK(server == "mcp-servers/everything");
    asked = params;
    Json content = Json{{"name", "Grace"}};
    apply_elicitation_defaults(params["requestedSchema"], content);
    return Json{{"action", "accept"}, {"content", content}};
  };
  McpClient client(io.get_executor(), std::move(*transport), options);
  REQUIRE(run(io, client.initialize()));
  // server-everything offers this tool only to clients that declared elicitation.
  auto tools = run(io, client.list_tools());
  REQUIRE(tools);
  REQUIRE(std::any_of(tools->begin(), tools->end(), [](const McpTool& t) { return t.name == "trigger-elicitation-request"; }));
  auto result = run(io, client.call_tool("trigger-elicitation-request", Json::object()));
  REQUIRE(result);
  CHECK_FALSE(result->is_error);
  CHECK(asked["requestedSchema"]["properties"].contains("name"));
  CHECK_THAT(result->content.dump(), Contains("Grace"));
  close(io, client);
}

TEST_CASE("without a handler a server's elicitation is declined, not left waiting", "[mcp][elicitation]") {
  // A server that asks during tools/call and returns whatever answer it got as the tool's text.
  const std::string script = R"(
import json, sys
def send(m): print(json.dumps(m), flush=True)
for line in sys.stdin:
    m = json.loads(line)
    if m.get("method") == "initialize":
        send({"jsonrpc": "2.0", "id": m["id"], "result": {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
              "serverInfo": {"name": "asker", "version": "1"}, "caps_seen": m["params"]["capabilities"]}})
    elif m.get("method") == "tools/call":
        send({"jsonrpc": "2.0", "id": "e1", "method": "elicitation/create",
              "params": {"message": "Name?", "requestedSchema": {"type": "object", "properties": {"n": {"type": "string"}}}}})
        answer = json.loads(sys.stdin.readline())
        send({"jsonrpc": "2.0", "id": m["id"], "result": {"content": [{"type": "text", "text": json.dumps(answer)}]}})
)";
  asio::io_context io;
  auto transport = StdioTransport::spawn(io.get_executor(), StdioCommand{"/usr/bin/python3", {"-c", script}, {}, "asker"});
  REQUIRE(transport);
  McpClient client(io.get_executor(), std::move(*transport));
  REQUIRE(run(io, client.initialize()));
  auto result = run(io, client.call_tool("anything", Json::object()));
  REQUIRE(result);
  const Json answer = Json::parse(result->content[0]["text"].get<std::string>());
  CHECK(answer["id"] == "e1");
  CHECK(answer["result"] == Json{{"action", "decline"}});
  close(io, client);
}
