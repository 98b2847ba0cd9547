// scout mcp list / call end to end: the real executable against the reference MCP server and
// against servers that fail.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/common/process.h"
#include "tests/support/local_http_server.h"

using Catch::Contains;

namespace {

const auto quote = scout::test::shell_quote;

std::string everything() {
  return "node " + quote(std::string(SCOUT_REFERENCE_DIR) +
                         "/node_modules/@modelcontextprotocol/server-everything/dist/index.js") +
         " stdio";
}

scout::test::CommandResult scout_mcp(const std::string& args, const std::string& tail = "2>&1") {
  return scout::test::run_command(quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout") + " mcp " + args + " " + tail);
}

}  // namespace

TEST_CASE("scout mcp list prints the reference server's tools with their arguments", "[cli][mcp]") {
  auto r = scout_mcp("list -- " + everything());
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("MCP server mcp-servers/everything") && Contains("(protocol 2025-11-25)"));
  CHECK_THAT(r.output, Contains("get-sum\n") && Contains("- message (string, required): Message to echo"));
  auto json = scout_mcp("list --json -- " + everything(), "2>/dev/null");
  REQUIRE(json.exit_code == 0);
  const auto j = nlohmann::json::parse(json.output);
  REQUIRE(j.is_array());
  CHECK(j.size() >= 10);
}

TEST_CASE("scout mcp call prints what the model would read, with exit codes for each outcome", "[cli][mcp]") {
  auto sum = scout_mcp("call get-sum '{\"a\": 2, \"b\": 40}' -- " + everything(), "2>/dev/null");
  CHECK(sum.exit_code == 0);
  CHECK(sum.output == "The sum of 2 and 40 is 42.\n");

  auto json = scout_mcp("call get-structured-content '{\"location\": \"Chicago\"}' --json -- " + everything(),
                        "2>/dev/null");
  REQUIRE(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.output)["structured"].contains("temperature"));

  auto invalid = scout_mcp("call echo '{}' -- " + everything());
  CHECK(invalid.exit_code == 2);
  CHECK_THAT(invalid.output, Contains("arguments.message: is required"));

  auto unknown = scout_mcp("call no-such-tool -- " + everything());
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.output, Contains("the server has no tool 'no-such-tool'") && Contains("get-sum"));

  auto not_json = scout_mcp("call echo '{nope' -- " + everything());
  CHECK(not_json.exit_code == 2);
}

TEST_CASE("scout mcp call takes the tool's JSON byte for byte: brackets, commas, braces, a leading '-', newlines",
          "[cli][mcp]") {
  auto echo = scout_mcp("call echo " + quote(R"({"message": "[1, 2], {x}\n-y"})") + " -- " + everything(), "2>/dev/null");
  CHECK(echo.exit_code == 0);
  CHECK(echo.output == "Echo: [1, 2], {x}\n-y\n");
  auto array = scout_mcp("call echo '[1, 2]' -- " + everything());
  CHECK(array.exit_code == 2);
  CHECK_THAT(array.output, Contains("must be one JSON object"));
}

TEST_CASE("scout mcp reports servers that cannot start or die, with their stderr", "[cli][mcp][nesting]") {
  auto missing = scout_mcp("list -- /nonexistent/mcp-server");
  CHECK(missing.exit_code == 3);
  CHECK_THAT(missing.output, Contains("cannot start '/nonexistent/mcp-server'"));

  auto dies = scout_mcp("list -- sh -c 'echo \"config file missing\" >&2; exit 4'");
  CHECK(dies.exit_code == 3);
  CHECK_THAT(dies.output, Contains("exited with status 4") && Contains("config file missing"));

  auto garbage = scout_mcp("list -- sh -c 'echo hello world; sleep 5'");
  CHECK(garbage.exit_code == 3);
  CHECK_THAT(garbage.output, Contains("not JSON") && Contains("hello world"));

  // An answer nested 200,000 levels deep: refused as not JSON, never read into a value.
  auto deep = scout_mcp("list -- sh -c 'read line; printf %s \"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":1,\\\"result\\\":\"; "
                        "head -c 200000 /dev/zero | tr \"\\\\0\" \"[\"; head -c 200000 /dev/zero | tr \"\\\\0\" \"]\"; "
                        "echo }; sleep 5'");
  CHECK(deep.exit_code == 3);
  CHECK_THAT(deep.output, Contains("nested deeper than 128 levels"));

  CHECK(scout_mcp("list").exit_code == 2);  // no server command
}

TEST_CASE("scout tools lists configured MCP servers' tools, and --check reports each server's health", "[cli][mcp]") {
  const std::string dir = std::string(SCOUT_BINARY_DIR) + "/test-scratch/mcp-cli";
  scout::test::run_command("mkdir -p " + quote(dir));
  const std::string config = dir + "/scout.toml";
  scout::test::run_command("printf '%s\\n' '[[plugins.mcp]]' 'name = \"everything\"' 'command = \"node\"' "
                           "'args = [\"" + std::string(SCOUT_REFERENCE_DIR) +
                           "/node_modules/@modelcontextprotocol/server-everything/dist/index.js\", \"stdio\"]' "
                           "'[[plugins.mcp]]' 'name = \"broken\"' 'command = \"/nonexistent/mcp-server\"' > " +
                           quote(config));
  const std::string scout = quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout");
  auto list = scout::test::run_command(scout + " tools --config " + quote(config) + " 2>&1");
  INFO(list.output);
  CHECK(list.exit_code == 0);
  CHECK_THAT(list.output, Contains("everything__get-sum\n") && Contains("(from MCP server 'mcp-servers/everything')"));
  CHECK_THAT(list.output, Contains("web_search\n"));  // with the built-in tools
  CHECK_THAT(list.output, Contains("MCP server 'broken' is unavailable"));

  auto check = scout::test::run_command(scout + " tools --check --config " + quote(config) + " 2>&1 >/dev/null");
  INFO(check.output);
  CHECK(check.exit_code == 1);
  CHECK_THAT(check.output, Contains("everything: ok, 13 tools (mcp-servers/everything)"));
  CHECK_THAT(check.output, Contains("broken: unavailable: MCP server 'broken' is unavailable"));
}

TEST_CASE("scout mcp talks to a Streamable HTTP server given by URL", "[cli][mcp][mcp_http]") {
  const int port = scout::test::free_local_port();
  scout::test::BackgroundProcess server(
      "env PORT=" + std::to_string(port) + " " + everything().substr(0, everything().size() - 5) + "streamableHttp",
      std::string(SCOUT_BINARY_DIR) + "/test-scratch-mcp-http-cli.log");
  INFO(server.log());
  REQUIRE(server.wait_for_port(port));
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/mcp";
  auto listed = scout_mcp("list " + url);
  INFO(listed.output);
  CHECK(listed.exit_code == 0);
  CHECK_THAT(listed.output, Contains("MCP server mcp-servers/everything") && Contains("get-sum\n"));
  auto sum = scout_mcp("call " + url + " get-sum '{\"a\": 20, \"b\": 22}' --header 'X-Trace: cli-test'", "2>/dev/null");
  CHECK(sum.exit_code == 0);
  CHECK(sum.output == "The sum of 20 and 22 is 42.\n");
  auto both = scout_mcp("list " + url + " -- " + everything());
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.output, Contains("give the server as a URL or as a command"));
  auto bad_header = scout_mcp("list " + url + " --header NoColon");
  CHECK(bad_header.exit_code == 2);
  CHECK_THAT(bad_header.output, Contains("'Name: value'"));
  auto nobody = scout_mcp("list http://127.0.0.1:" + std::to_string(scout::test::free_local_port()) + "/mcp");
  CHECK(nobody.exit_code == 3);
  CHECK_THAT(nobody.output, Contains("could not reach MCP server"));
}

TEST_CASE("scout mcp --oauth refuses a server whose metadata sends the token elsewhere, before any sign-in", "[cli][mcp][oauth]") {
  scout::test::LocalHttpServer server([](const scout::test::HttpExchange& req, scout::test::RawConnection& conn) {
    if (req.target == "/.well-known/oauth-protected-resource/mcp")
      conn.write(scout::test::http_response(200, "application/json",
                                            R"({"resource":"https://evil.example.com/mcp","authorization_servers":["https://evil.example.com"]})"));
    else if (req.target == "/mcp")
      conn.write(scout::test::http_response(401, "", "", {{"WWW-Authenticate", "Bearer"}}));
    else
      conn.write(scout::test::http_response(404, "text/plain", "no"));
  });
  auto r = scout_mcp("list " + server.url("/mcp") + " --oauth");
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.output, Contains("needs authorization") && Contains("another resource"));
  CHECK_THAT(r.output, !Contains("Open this address"));
  auto without = scout_mcp("list " + server.url("/mcp"));
  CHECK(without.exit_code == 3);
  CHECK_THAT(without.output, Contains("HTTP 401") && Contains("requires authorization"));
}
