// MCP tools in Scout's registry: content blocks as observations, structured results checked
// against outputSchema, and calls through the registry to the reference MCP server.
#include <catch2/catch.hpp>

#include <fstream>

#include <boost/asio/io_context.hpp>

#include "plugins/mcp/mcp_tool.h"
#include "plugins/mcp/servers.h"
#include "tools/registry/registry.h"
#include "tests/common/scratch.h"
#include "tests/plugins/mcp/mcp_test_support.h"

using namespace scout::plugins::mcp;
using scout::plugins::mcp::testing::everything_server;
using scout::plugins::mcp::testing::run;
using scout::tools::testing::run_until_done;
using Catch::Contains;
namespace asio = boost::asio;

TEST_CASE("MCP content blocks become the text a model reads", "[mcp]") {
  const Json content = Json::parse(R"([
    {"type": "text", "text": "Here it is:"},
    {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="},
    {"type": "audio", "mimeType": "audio/wav", "data": "UklGRg=="},
    {"type": "resource_link", "name": "Spec", "uri": "https://example.org/spec"},
    {"type": "resource", "resource": {"uri": "file:///a.txt", "mimeType": "text/plain", "text": "alpha"}},
    {"type": "resource", "resource": {"uri": "file:///b.bin", "mimeType": "application/octet-stream", "blob": "AAAA"}},
    {"type": "hologram"}
  ])");
  CHECK(content_to_text(content) ==
        "Here it is:\n[image: image/png, 8 bytes]\n[audio: audio/wav, 4 bytes]\n[resource link: Spec "
        "<https://example.org/spec>]\n[resource file:///a.txt]\nalpha\n[resource file:///b.bin: "
        "application/octet-stream, 3 bytes]\n[hologram content]");
  CHECK(content_to_text(Json::array()).empty());
}

TEST_CASE("the reference MCP server's tools are called through Scout's registry", "[mcp][everything]") {
  asio::io_context io;
  auto transport = StdioTransport::spawn(io.get_executor(), everything_server());
  REQUIRE(transport);
  auto client = std::make_shared<McpClient>(io.get_executor(), std::move(*transport));
  auto info = run(io, client->initialize());
  REQUIRE(info);
  auto tools = run(io, client->list_tools());
  REQUIRE(tools);

  scout::tools::Registry registry;
  for (const McpTool& t : *tools)
    REQUIRE(registry.add(std::make_shared<McpToolAdapter>(client, t, "everything__" + t.name)));
  auto call = [&](const std::string& name, Json arguments) {
    return run_until_done(io, registry.call(name, std::move(arguments), scout::tools::ToolContext{}));
  };

  const auto sum = call("everything__get-sum", Json{{"a", 20}, {"b", 22}});
  CHECK_FALSE(sum.is_error);
  CHECK(sum.text == "The sum of 20 and 22 is 42.");

  const auto weather = call("everything__get-structured-content", Json{{"location", "Chicago"}});
  CHECK_FALSE(weather.is_error);
  REQUIRE(weather.structured);
  CHECK(weather.structured->contains("temperature"));

  // The server's progress notifications reach the caller's progress reporter, as the user sees them.
  std::vector<std::string> progress;
  scout::tools::ToolContext with_progress;
  with_progress.progress = [&](const scout::tools::ToolProgress& p) { progress.push_back(describe_progress(p)); };
  const auto slow = run_until_done(io, registry.call("everything__trigger-long-running-operation",
                                                     Json{{"duration", 1}, {"steps", 2}}, with_progress));
  CHECK_FALSE(slow.is_error);
  CHECK(progress == std::vector<std::string>{"1/2", "2/2"});

  const auto image = call("everything__get-tiny-image", Json::object());
  CHECK_THAT(image.text, Contains("[image: image/png, "));

  const auto links = call("everything__get-resource-links", Json{{"count", 2}});
  CHECK_THAT(links.text, Contains("[resource link: Text Resource 2 <demo://resource/dynamic/text/2>]"));

  // The registry checks arguments against the server's schema before anything is sent.
  const auto bad = call("everything__get-structured-content", Json{{"location", "Atlantis"}});
  CHECK(bad.is_error);
  CHECK_THAT(bad.text, Contains("location"));

  auto description = registry.find("everything__echo")->description();
  CHECK_THAT(description, Contains("(from MCP server 'mcp-servers/everything')"));
  CHECK_FALSE(registry.find("everything__echo")->parameters().contains("$schema"));

  scout::plugins::mcp::testing::close(io, *client);
}

TEST_CASE("configured servers join the registry, filtered by allow and deny, and a sandboxed one sees only its env",
          "[mcp][everything][sandbox]") {
  setenv("SCOUT_TEST_HOST_SECRET", "do-not-leak", 1);
  const std::string everything_js = everything_server().args.front();
  auto server = [&](std::string name, std::string command) {
    McpServerConfig c;
    c.name = std::move(name);
    c.command = std::move(command);
    if (c.command == "node") c.args = {everything_js, "stdio"};
    return c;
  };
  McpServerConfig plain = server("plain", "node");
  plain.allow = {"get-*", "echo"};
  plain.deny = {"get-env"};
  McpServerConfig boxed = server("boxed", "node");
  boxed.env = {{"MY_SETTING", "on"}};
  boxed.sandbox = true;
  boxed.sandbox_paths = {std::string(SCOUT_REFERENCE_DIR) + "/node_modules"};
  boxed.allow = {"get-env", "get-sum"};
  McpServerConfig broken = server("broken", "/nonexistent/server");
  asio::io_context io;
  scout::tools::Registry registry;
  std::vector<std::string> reports;
  auto clients = run(io, connect_servers(io.get_executor(), {plain, boxed, broken}, registry,
                                         [&](const std::string& r) { reports.push_back(r); }));
  REQUIRE(clients.size() == 2);
  REQUIRE(reports.size() == 1);
  CHECK_THAT(reports[0], Contains("MCP server 'broken' is unavailable"));

  std::vector<std::string> names;
  for (const auto& t : registry.list()) names.push_back(t.name);
  CHECK_THAT(names, Catch::VectorContains(std::string("plain__echo")));
  CHECK_THAT(names, Catch::VectorContains(std::string("plain__get-sum")));
  CHECK_FALSE(std::count(names.begin(), names.end(), "plain__get-env"));            // denied
  CHECK_FALSE(std::count(names.begin(), names.end(), "plain__trigger-long-running-operation"));  // not allowed
  CHECK(std::count(names.begin(), names.end(), "boxed__get-env") == 1);

  const auto sum = run_until_done(io, registry.call("boxed__get-sum", Json{{"a", 1}, {"b", 2}}, {}));
  CHECK(sum.text == "The sum of 1 and 2 is 3.");
  const auto env = run_until_done(io, registry.call("boxed__get-env", Json::object(), {}));
  CHECK_THAT(env.text, Contains("MY_SETTING") && Contains("/sandbox"));
  CHECK_THAT(env.text, !Contains("SCOUT_TEST_HOST_SECRET") && !Contains("do-not-leak"));
  for (auto& c : clients) run_until_done(io, scout::plugins::mcp::testing::close_client(*c));
}

TEST_CASE("a server that announces a changed tool list has its new tools join the registry", "[mcp]") {
  // Offers "grow"; calling it adds "second" and announces the change.
  const std::string script = R"(
import json, sys
def send(m): print(json.dumps(m), flush=True)
tools = [{"name": "grow", "inputSchema": {"type": "object"}}]
for line in sys.stdin:
    m = json.loads(line)
    method = m.get("method")
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": m["id"], "result": {"protocolVersion": "2025-11-25",
              "capabilities": {"tools": {"listChanged": True}}, "serverInfo": {"name": "grower", "version": "1"}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": m["id"], "result": {"tools": tools}})
    elif method == "tools/call":
        tools.append({"name": "second", "inputSchema": {"type": "object"}})
        send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
        send({"jsonrpc": "2.0", "id": m["id"], "result": {"content": [{"type": "text", "text": "grown"}]}})
)";
  McpServerConfig grower;
  grower.name = "grower";
  grower.command = "/usr/bin/python3";
  grower.args = {"-c", script};
  asio::io_context io;
  scout::tools::Registry registry;
  ClientOptions base;
  base.probe_timeout = std::chrono::milliseconds(300);  // it ignores server/discover, as older servers may
  auto clients = run(io, connect_servers(io.get_executor(), {grower}, registry, [](const std::string&) {}, base));
  REQUIRE(clients.size() == 1);
  CHECK(registry.list().size() == 1);
  CHECK(run_until_done(io, registry.call("grower__grow", Json::object(), {})).text == "grown");
  for (int i = 0; i < 1000 && !registry.find("grower__second"); ++i) io.run_for(std::chrono::milliseconds(10));
  CHECK(registry.find("grower__second"));
  CHECK(registry.list().size() == 2);
  for (auto& c : clients) run_until_done(io, scout::plugins::mcp::testing::close_client(*c));
}

TEST_CASE("a server found to speak only initialize is remembered, and the next run goes straight to the handshake",
          "[mcp][mcp_stateless]") {
  // Like servers that ignore requests before initialize (no answer at all); with STRICT set it
  // exits on one instead, so a probe would lose it.
  const std::string script = R"(
import json, os, sys
def send(m): print(json.dumps(m), flush=True)
for line in sys.stdin:
    m = json.loads(line)
    method = m.get("method")
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": m["id"], "result": {"protocolVersion": "2025-11-25",
              "capabilities": {"tools": {}}, "serverInfo": {"name": "old", "version": "1"}}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": m["id"], "result": {"tools": [{"name": "t", "inputSchema": {"type": "object"}}]}})
    elif "id" in m and os.environ.get("STRICT"):
        sys.exit(3)
)";
  const auto dir = scout::test::fresh_scratch_dir("mcp_tool", "era");
  McpServerConfig old;
  old.name = "old";
  old.command = "/usr/bin/python3";
  old.args = {"-c", script};
  old.era_file = (dir / "mcp-era" / "old.json").string();
  asio::io_context io;
  auto connect = [&](McpServerConfig config, std::chrono::milliseconds probe_timeout, std::vector<std::string>& reports) {
    scout::tools::Registry registry;
    ClientOptions base;
    base.probe_timeout = probe_timeout;
    auto clients = run(io, connect_servers(io.get_executor(), {config}, registry,
                                           [&](const std::string& r) { reports.push_back(r); }, base));
    const std::size_t count = clients.size();
    for (auto& c : clients) run_until_done(io, scout::plugins::mcp::testing::close_client(*c));
    return count;
  };
  std::vector<std::string> reports;
  CHECK(connect(old, std::chrono::milliseconds(300), reports) == 1);  // the probe goes unanswered
  REQUIRE(reports.size() == 1);
  CHECK_THAT(reports[0], Contains("did not answer server/discover") && Contains("protocol = \"2025-11-25\""));
  reports.clear();
  std::ifstream saved(old.era_file);
  REQUIRE(saved);
  CHECK(Json::parse(saved)["era"] == "initialize");

  McpServerConfig strict = old;
  strict.env = {{"STRICT", "1"}};  // not part of what identifies the server
  CHECK(connect(strict, std::chrono::seconds(30), reports) == 1);
  CHECK(reports.empty());

  // Another command line under the same name is not taken for the same server.
  McpServerConfig changed = strict;
  changed.args.push_back("--flag");
  std::vector<std::string> changed_reports;
  CHECK(connect(changed, std::chrono::seconds(30), changed_reports) == 0);  // probed, and it exits on the probe
}
