// scout mcp-server end to end: the real executable over stdio, spoken to by Scout's own MCP client,
// and over Streamable HTTP, spoken to by the official TypeScript SDK client
// (tests/reference/mcp_http_client.mjs) and by raw requests from Scout's HTTP client. scout_run
// runs the agent against the replay server (an OpenAI-compatible model server in this process).
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "plugins/mcp/client.h"
#include "tests/common/process.h"
#include "tests/common/scratch.h"
#include "tests/plugins/mcp/mcp_test_support.h"
#include "tests/support/replay_server.h"
#include "tools/http/http_client.h"
#include "tools/http/sse.h"

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace http = scout::tools::http;
using namespace scout::plugins::mcp;
using scout::plugins::mcp::testing::run;
using Catch::Contains;

namespace {

// 32 lowercase hex digits: 128 random bits, as the server makes its session ids.
bool is_session_id(const std::string& text) {
  return text.size() == 32 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

const auto quote = scout::test::shell_quote;
const std::string kKey = "sk-scout-test-0123456789abcdef";
const std::string kScout = std::string(SCOUT_BINARY_DIR) + "/cli/scout";

// The model runs one program, reads its output and answers.
const char* kPowerScript = R"json({"model": "replay-model", "responses": [
  {"reasoning": "Python will know.", "tool_calls": [{"id": "call_p", "name": "run_code",
    "arguments": {"language": "python", "code": "print(2 ** 10)"}}]},
  {"reasoning": "It printed 1024.", "content": "Two to the tenth is 1024."}
]})json";

// A home folder and a config whose remote model is `model_url`; the offline search index does not
// exist, so web_search fails with a message (a tool error the server must pass on as a result).
fs::path setup_home(const std::string& name, const std::string& model_url) {
  const fs::path home = scout::test::fresh_scratch_dir("mcp_server_cli", name);
  scout::test::write_file(home / "scout.toml", "[remote]\nurl = \"" + model_url +
                                                   "\"\nmodel = \"replay-model\"\n[search]\nprovider = \"offline\"\n"
                                                   "index = \"missing.sqlite\"\n[trace]\ndir = \"traces\"\n");
  return home;
}

StdioCommand scout_server(const fs::path& home, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"mcp-server", "--config", (home / "scout.toml").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return StdioCommand{kScout, args,
                      {{"HOME", home.string()},
                       {"XDG_CONFIG_HOME", (home / "config").string()},
                       {"XDG_STATE_HOME", (home / "state").string()},
                       {"OPENAI_API_KEY", kKey}},
                      "scout"};
}

std::string text_of(const CallResult& r) {
  return r.content.size() == 1 && r.content[0].value("type", "") == "text" ? r.content[0].value("text", "") : "";
}

// `scout mcp-server --http 127.0.0.1:0` as a child process in a home of its own, with the port
// it printed; scout_run's model is the replay server playing kPowerScript.
struct HttpScout {
  scout::test::ReplayServer model{kPowerScript};
  const fs::path home;
  asio::io_context io;
  std::unique_ptr<StdioTransport> process;
  std::uint16_t port = 0;

  explicit HttpScout(const std::string& name) : home(setup_home(name, model.base_url())) {
    auto spawned = StdioTransport::spawn(io.get_executor(), scout_server(home, {"--http", "127.0.0.1:0"}));
    REQUIRE(spawned);
    process = std::move(*spawned);
    // Wait for the line naming the port (reading its stderr needs the io_context running).
    const std::string listening = "listening on http://127.0.0.1:";
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string tail;
    while (std::chrono::steady_clock::now() < give_up) {
      io.run_for(std::chrono::milliseconds(20));
      io.restart();
      tail = process->stderr_tail();
      const auto at = tail.find(listening);
      if (at != std::string::npos && tail.find("/mcp", at) != std::string::npos) {
        port = static_cast<std::uint16_t>(std::stoi(tail.substr(at + listening.size())));
        return;
      }
    }
    FAIL("scout mcp-server --http did not say where it listens; its stderr: " << tail);
  }

  std::string url(const std::string& host = "127.0.0.1") const {
    return "http://" + host + ":" + std::to_string(port) + "/mcp";
  }

  // Stops it the way a supervisor does: SIGTERM (after closing its stdin, which it ignores).
  std::string stop() {
    run(io, [](StdioTransport& t) -> asio::awaitable<bool> {
      co_await t.close(std::chrono::milliseconds(3000));
      co_return true;
    }(*process));
    return process->exit_status().value_or("still running");
  }
};

struct Exchange {
  std::string method = "POST";
  std::string url;
  std::string body;
  std::vector<http::Header> headers{{"Accept", "application/json, text/event-stream"},
                                    {"Content-Type", "application/json"}};
};

http::Response send(asio::io_context& io, Exchange e) {
  http::Client client(io.get_executor());
  http::Request request;
  request.method = e.method;
  request.url = e.url;
  request.body = e.body;
  request.headers = e.headers;
  http::Options options;
  options.address_policy.allow_private = true;
  options.max_redirects = 0;
  // Any other name resolves to the server too: a DNS-rebinding attack, as the browser would make it.
  options.test_resolver = [](const std::string&) { return std::vector<asio::ip::address>{asio::ip::make_address("127.0.0.1")}; };
  auto r = run(io, client.fetch(request, options));
  INFO((r ? "" : r.error().message));
  REQUIRE(r);
  return *r;
}

Exchange with_header(Exchange e, const std::string& name, const std::string& value) {
  e.headers.emplace_back(name, value);
  return e;
}

std::string rpc(int id, const std::string& method, const std::string& params = "{}") {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method + R"(","params":)" + params + "}";
}

const std::string kInitialize =
    rpc(1, "initialize", R"({"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}})");

}  // namespace

TEST_CASE("scout mcp-server over stdio offers its tools and scout_run to Scout's own MCP client", "[mcp_server][cli]") {
  scout::test::ReplayServer model(kPowerScript);
  const fs::path home = setup_home("stdio", model.base_url());
  asio::io_context io;
  auto transport = StdioTransport::spawn(io.get_executor(), scout_server(home));
  REQUIRE(transport);
  McpClient client(io.get_executor(), std::move(*transport));

  auto info = run(io, client.initialize());
  INFO((info ? "" : info.error().message) << client.stderr_tail());
  REQUIRE(info);
  CHECK(info->name == "scout");
  CHECK(info->protocol_version == "2026-07-28");  // it answers server/discover: no handshake
  CHECK(info->stateless);
  CHECK(info->capabilities.contains("tools"));
  CHECK_THAT(info->instructions, Contains("scout_run") && Contains("run_code"));

  auto tools = run(io, client.list_tools());
  REQUIRE(tools);
  std::set<std::string> names;
  for (const auto& t : *tools) names.insert(t.name);
  CHECK(names == std::set<std::string>{"fetch_url", "run_code", "scout_run", "web_search"});

  auto program = run(io, client.call_tool("run_code", Json{{"language", "python"}, {"code", "print(6 * 7)"}}));
  REQUIRE(program);
  INFO(text_of(*program));
  CHECK_FALSE(program->is_error);
  CHECK_THAT(text_of(*program), Contains("42"));

  auto search = run(io, client.call_tool("web_search", Json{{"query", "otters"}}));  // no index: a tool error
  REQUIRE(search);
  CHECK(search->is_error);
  CHECK_THAT(text_of(*search), Contains("scout index"));

  auto unknown = run(io, client.call_tool("no_such_tool", Json::object()));
  REQUIRE(unknown);
  CHECK(unknown->is_error);
  CHECK_THAT(text_of(*unknown), Contains("Unknown tool 'no_such_tool'"));

  auto answer = run(io, client.call_tool("scout_run", Json{{"task", "What is 2 to the 10th?"}}));
  REQUIRE(answer);
  INFO(text_of(*answer) << client.stderr_tail());
  CHECK_FALSE(answer->is_error);
  CHECK(text_of(*answer) == "Two to the tenth is 1024.");
  REQUIRE(answer->structured);
  CHECK((*answer->structured)["status"] == "answered");
  CHECK((*answer->structured)["tool_calls"] == 1);
  CHECK(model.responses_used() == 2);
  const auto requests = model.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].json()["messages"].back()["content"] == "What is 2 to the 10th?");
  CHECK(fs::exists(home / "traces"));  // each scout_run writes its trace, as scout run does

  scout::plugins::mcp::testing::close(io, client);  // closes its stdin: the server ends at EOF

  // A client of the initialize-based revisions is served the same tools in a session.
  auto again = StdioTransport::spawn(io.get_executor(), scout_server(home));
  REQUIRE(again);
  ClientOptions legacy;
  legacy.protocol_version = "2025-11-25";
  McpClient old_client(io.get_executor(), std::move(*again), legacy);
  auto old_info = run(io, old_client.initialize());
  REQUIRE(old_info);
  CHECK(old_info->protocol_version == "2025-11-25");
  CHECK_FALSE(old_info->stateless);
  auto old_tools = run(io, old_client.list_tools());
  REQUIRE(old_tools);
  CHECK(old_tools->size() == 4);
  scout::plugins::mcp::testing::close(io, old_client);
}

TEST_CASE("the official MCP TypeScript SDK client connects to scout mcp-server --http and follows scout_run's progress",
          "[mcp_server][cli]") {
  HttpScout server("sdk");
  auto r = scout::test::run_command("node " + quote(std::string(SCOUT_REFERENCE_DIR) + "/mcp_http_client.mjs") + " " +
                                    quote(server.url()) + " scout_run " +
                                    quote(R"({"task": "What is 2 to the 10th?", "effort": "low"})") + " 2>&1");
  INFO(r.output << "\nscout's stderr: " << server.process->stderr_tail());
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.output.substr(r.output.rfind('{', r.output.find("\"sessionId\""))));
  CHECK(is_session_id(j["sessionId"].get<std::string>()));
  CHECK(j["protocolVersion"] == "2025-11-25");
  CHECK(j["server"]["name"] == "scout");
  CHECK(j["capabilities"].contains("tools"));
  CHECK(j["capabilities"].contains("logging"));
  CHECK_THAT(j["instructions"].get<std::string>(), Contains("scout_run"));
  CHECK(j["tools"].size() == 4);
  for (const auto& t : j["tools"]) CHECK(t["inputSchema"]["type"] == "object");
  CHECK(j["ping"] == nlohmann::json::object());
  CHECK(j["setLevel"] == nlohmann::json::object());
  CHECK(j["call"]["isError"] == false);
  CHECK(j["call"]["content"][0]["text"] == "Two to the tenth is 1024.");
  std::vector<std::string> steps;
  for (const auto& p : j["progress"]) steps.push_back(p["message"].get<std::string>());
  CHECK(steps == std::vector<std::string>{"step 1: thinking", "step 1: calling run_code", "step 2: thinking",
                                          "step 2: answering"});
  CHECK(j["errors"].empty());
  CHECK(server.model.requests().at(0).json()["reasoning_effort"] == "low");
  CHECK(server.stop() == "exited with status 0");
}

TEST_CASE("scout mcp-server --http refuses foreign hosts and origins, missing or ended sessions and unfit requests",
          "[mcp_server][cli]") {
  HttpScout server("refusals");
  asio::io_context& io = server.io;
  const std::string url = server.url();

  // DNS rebinding: a page on evil.example.com whose name now resolves to 127.0.0.1.
  CHECK(send(io, with_header({"POST", server.url("evil.example.com"), kInitialize}, "Origin", "http://evil.example.com"))
            .status == 403);
  CHECK(send(io, {"POST", server.url("evil.example.com"), kInitialize}).status == 403);
  CHECK(send(io, with_header({"POST", url, kInitialize}, "Origin", "http://evil.example.com")).status == 403);
  CHECK(send(io, with_header({"POST", url, kInitialize}, "Origin", "http://localhost:5173")).status == 200);
  CHECK(send(io, {"POST", server.url("localhost"), kInitialize}).status == 200);

  auto init = send(io, {"POST", url, kInitialize});
  REQUIRE(init.status == 200);
  CHECK(init.header("Content-Type") == "application/json");
  const std::string session(init.header("Mcp-Session-Id"));
  CHECK(is_session_id(session));
  CHECK(nlohmann::json::parse(init.body)["result"]["protocolVersion"] == "2025-11-25");
  auto in_session = [&](Exchange e) { return with_header(std::move(e), "Mcp-Session-Id", session); };

  CHECK(send(io, in_session({"POST", url, R"({"jsonrpc":"2.0","method":"notifications/initialized"})"})).status == 202);
  auto listed = send(io, in_session({"POST", url, rpc(2, "tools/list")}));
  CHECK(listed.status == 200);
  CHECK(nlohmann::json::parse(listed.body)["result"]["tools"].size() == 4);

  CHECK(send(io, {"POST", url, rpc(3, "tools/list")}).status == 400);  // no session id
  CHECK(send(io, with_header({"POST", url, rpc(4, "tools/list")}, "Mcp-Session-Id", "0123")).status == 404);
  Exchange json_only{"POST", url, rpc(5, "tools/list"), {{"Accept", "application/json"}, {"Content-Type", "application/json"}}};
  CHECK(send(io, in_session(json_only)).status == 406);
  Exchange text_body{"POST", url, rpc(6, "tools/list"),
                     {{"Accept", "application/json, text/event-stream"}, {"Content-Type", "text/plain"}}};
  CHECK(send(io, in_session(text_body)).status == 415);
  CHECK(send(io, with_header(in_session({"POST", url, rpc(7, "ping")}), "MCP-Protocol-Version", "2024-01-01")).status ==
        400);
  CHECK(send(io, with_header(in_session({"POST", url, rpc(8, "ping")}), "MCP-Protocol-Version", "2025-03-26")).status ==
        200);
  auto not_json = send(io, in_session({"POST", url, "{nope"}));
  CHECK(not_json.status == 400);
  CHECK(nlohmann::json::parse(not_json.body)["error"]["code"] == -32700);
  CHECK(send(io, in_session({"POST", url, std::string(5u << 20, ' ')})).status == 413);
  CHECK(send(io, in_session({"POST", server.url().substr(0, server.url().size() - 3) + "other", rpc(9, "ping")})).status ==
        404);
  CHECK(send(io, in_session({"PUT", url, rpc(10, "ping")})).status == 405);
  CHECK(send(io, {"GET", url, "", {{"Accept", "text/event-stream"}}}).status == 400);  // GET needs a session too

  CHECK(send(io, in_session({"DELETE", url, ""})).status == 200);
  CHECK(send(io, in_session({"POST", url, rpc(11, "tools/list")})).status == 404);
  CHECK(server.stop() == "exited with status 0");
}

namespace {

// Sends `bytes` as they are (a request Scout's own client would never write) and returns the
// response's status line, or "" when none came within 10 s.
std::string raw_status_line(std::uint16_t port, const std::string& bytes) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  std::string response;
  socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, [&](boost::system::error_code ec) {
    if (ec) return;
    asio::async_write(socket, asio::buffer(bytes), [&](boost::system::error_code ec, std::size_t) {
      if (ec) return;
      asio::async_read_until(socket, asio::dynamic_buffer(response), "\r\n", [](boost::system::error_code, std::size_t) {});
    });
  });
  io.run_for(std::chrono::seconds(10));
  const auto end = response.find("\r\n");
  return end == std::string::npos ? "" : response.substr(0, end);
}

}  // namespace

TEST_CASE("scout mcp-server --http answers hostile requests with 400s and keeps serving: deep nesting, two Host lines",
          "[mcp_server][cli][nesting]") {
  HttpScout server("hostile");
  // No session needed to reach the parser: the body is read before the session is looked up.
  // Valid JSON, which the parser alone survives: copying the value it builds recursed once per level.
  const std::string deep = R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":)" + std::string(200000, '[') +
                           std::string(200000, ']') + "}}";
  auto refused = send(server.io, {"POST", server.url(), deep});
  CHECK(refused.status == 400);
  const auto error = nlohmann::json::parse(refused.body)["error"];
  CHECK(error["code"] == -32700);
  CHECK_THAT(error["message"].get<std::string>(), Contains("nested deeper than 128 levels"));

  const std::string host = "127.0.0.1:" + std::to_string(server.port);
  auto request = [&](const std::string& host_lines) {
    return "POST /mcp HTTP/1.1\r\n" + host_lines +
           "Accept: application/json, text/event-stream\r\nContent-Type: application/json\r\n"
           "Connection: close\r\nContent-Length: " + std::to_string(kInitialize.size()) + "\r\n\r\n" + kInitialize;
  };
  CHECK(raw_status_line(server.port, request("Host: " + host + "\r\nHost: evil.example.com\r\n")) ==
        "HTTP/1.1 400 Bad Request");
  CHECK(raw_status_line(server.port, request("Host: " + host + "\r\nHost: " + host + "\r\n")) ==
        "HTTP/1.1 400 Bad Request");
  CHECK(raw_status_line(server.port, request("")) == "HTTP/1.1 400 Bad Request");
  CHECK(raw_status_line(server.port, request("Host: " + host + "\r\n")) == "HTTP/1.1 200 OK");
  CHECK(server.stop() == "exited with status 0");
}

TEST_CASE("scout mcp-server --http answers tools/call with an event stream of progress and the result, events with ids",
          "[mcp_server][cli]") {
  HttpScout server("stream");
  asio::io_context& io = server.io;
  auto init = send(io, {"POST", server.url(), kInitialize});
  REQUIRE(init.status == 200);
  const std::string session(init.header("Mcp-Session-Id"));

  auto call = send(io, with_header({"POST", server.url(),
                                    rpc(2, "tools/call",
                                        R"({"name":"scout_run","arguments":{"task":"2**10?"},"_meta":{"progressToken":7}})")},
                                   "Mcp-Session-Id", session));
  REQUIRE(call.status == 200);
  CHECK(call.header("Content-Type") == "text/event-stream");
  http::SseParser parser;
  const auto events = parser.feed(call.body);
  REQUIRE(events.size() >= 2);
  std::set<std::string> ids;
  for (const auto& e : events) {
    CHECK_FALSE(e.id.empty());
    ids.insert(e.id);
  }
  CHECK(ids.size() == events.size());
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    const auto note = nlohmann::json::parse(events[i].data);
    CHECK(note["method"] == "notifications/progress");
    CHECK(note["params"]["progressToken"] == 7);
  }
  const auto last = nlohmann::json::parse(events.back().data);
  CHECK(last["id"] == 2);
  CHECK(last["result"]["content"][0]["text"] == "Two to the tenth is 1024.");

  // A plain tool over the same stream kind: no progress, just the result.
  auto direct = send(io, with_header({"POST", server.url(),
                                      rpc(3, "tools/call",
                                          R"j({"name":"run_code","arguments":{"language":"python","code":"print(6*7)"}})j")},
                                     "Mcp-Session-Id", session));
  REQUIRE(direct.status == 200);
  http::SseParser direct_parser;
  const auto direct_events = direct_parser.feed(direct.body);
  REQUIRE(direct_events.size() == 1);
  CHECK_THAT(nlohmann::json::parse(direct_events[0].data)["result"]["content"][0]["text"].get<std::string>(),
             Contains("42"));
  CHECK(server.stop() == "exited with status 0");
}

namespace {

// A stateless request: the envelope in params._meta and the headers that mirror it.
Exchange stateless(const std::string& url, int id, const std::string& method, nlohmann::json params = nlohmann::json::object(),
                   const std::string& version = "2026-07-28") {
  params["_meta"] = {{"io.modelcontextprotocol/protocolVersion", version},
                     {"io.modelcontextprotocol/clientCapabilities", nlohmann::json::object()}};
  Exchange e{"POST", url, nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump()};
  e.headers.emplace_back("MCP-Protocol-Version", version);
  e.headers.emplace_back("Mcp-Method", method);
  if (params.contains("name")) e.headers.emplace_back("Mcp-Name", params["name"].get<std::string>());
  return e;
}

nlohmann::json body_of(const http::Response& r) { return nlohmann::json::parse(r.body, nullptr, false); }

}  // namespace

TEST_CASE("scout mcp-server --http serves the stateless revision without a session, checking its headers against the body",
          "[mcp_server][cli][mcp_stateless]") {
  HttpScout server("stateless");
  asio::io_context& io = server.io;
  const std::string url = server.url();

  auto discover = send(io, stateless(url, 1, "server/discover"));
  REQUIRE(discover.status == 200);
  CHECK(discover.header("Mcp-Session-Id").empty());
  CHECK(body_of(discover)["result"]["supportedVersions"] == nlohmann::json::array({"2026-07-28"}));

  auto list = send(io, stateless(url, 2, "tools/list"));
  REQUIRE(list.status == 200);
  CHECK(body_of(list)["result"]["tools"].size() == 4);
  auto call = send(io, stateless(url, 3, "tools/call", {{"name", "run_code"}, {"arguments", {{"language", "python"}, {"code", "print(6*7)"}}}}));
  REQUIRE(call.status == 200);
  CHECK(call.header("Content-Type") == "text/event-stream");
  http::SseParser parser;
  const auto events = parser.feed(call.body);
  REQUIRE(events.size() == 1);
  const auto answer = nlohmann::json::parse(events[0].data);
  CHECK(answer["id"] == 3);
  CHECK(answer["result"]["resultType"] == "complete");
  CHECK_THAT(answer["result"]["content"][0]["text"].get<std::string>(), Contains("42"));

  // Headers that disagree with the body, or are missing: 400 and HeaderMismatch, with the id.
  auto mismatched = stateless(url, 4, "tools/list");
  mismatched.headers.back().second = "tools/call";  // Mcp-Method
  auto r = send(io, mismatched);
  CHECK(r.status == 400);
  CHECK(body_of(r)["error"]["code"] == -32020);
  CHECK(body_of(r)["id"] == 4);
  auto wrong_name = stateless(url, 5, "tools/call", {{"name", "run_code"}, {"arguments", nlohmann::json::object()}});
  wrong_name.headers.back().second = "fetch_url";  // Mcp-Name
  CHECK(body_of(send(io, wrong_name))["error"]["code"] == -32020);
  auto no_version = stateless(url, 6, "tools/list");
  std::erase_if(no_version.headers, [](const http::Header& h) { return h.first == "MCP-Protocol-Version"; });
  r = send(io, no_version);
  CHECK(r.status == 400);
  CHECK(body_of(r)["error"]["code"] == -32020);
  // A revision it does not speak, a missing envelope key, a method gone from this revision.
  r = send(io, stateless(url, 7, "tools/list", nlohmann::json::object(), "2099-01-01"));
  CHECK(r.status == 400);
  CHECK(body_of(r)["error"]["code"] == -32022);
  CHECK(body_of(r)["error"]["data"]["supported"] == nlohmann::json::array({"2026-07-28"}));
  auto bare = stateless(url, 8, "tools/list");
  bare.body = rpc(8, "tools/list", R"({"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}})");
  r = send(io, bare);
  CHECK(r.status == 400);
  CHECK(body_of(r)["error"]["code"] == -32602);
  r = send(io, stateless(url, 9, "ping"));
  CHECK(r.status == 404);
  CHECK(body_of(r)["error"]["code"] == -32601);

  // Scout's own client finds the revision by itself and lists the tools.
  asio::io_context client_io;
  McpClient client = scout::plugins::mcp::testing::http_client(client_io, url);
  auto info = run(client_io, client.initialize());
  REQUIRE(info);
  CHECK(info->stateless);
  auto tools = run(client_io, client.list_tools());
  REQUIRE(tools);
  CHECK(tools->size() == 4);
  scout::plugins::mcp::testing::close(client_io, client);

  // The initialize-based revisions still work on the same endpoint, in a session.
  auto init = send(io, {"POST", url, kInitialize});
  REQUIRE(init.status == 200);
  CHECK(is_session_id(std::string(init.header("Mcp-Session-Id"))));
  CHECK(server.stop() == "exited with status 0");
}

TEST_CASE("scout mcp-server reports a bad --http address with exit 2 and an unreadable config with exit 3",
          "[mcp_server][cli]") {
  auto bad = scout::test::run_command(quote(kScout) + " mcp-server --http 127.0.0.1:http 2>&1 </dev/null");
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.output, Contains("no valid port"));
  auto missing = scout::test::run_command(quote(kScout) + " mcp-server --config /nonexistent/scout.toml 2>&1 </dev/null");
  CHECK(missing.exit_code == 3);
}
