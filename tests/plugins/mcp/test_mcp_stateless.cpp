// McpClient and the stateless 2026-07-28 revision: finding a server's revision with
// server/discover (and falling back to initialize for older servers), the _meta envelope and
// the HTTP headers on every request, a retry in a revision the server lists, multi round-trip
// tool calls, x-mcp-header screening and mirroring, and subscriptions/listen. The servers here
// are real HTTP servers on 127.0.0.1 that check what the revision requires of a client the way
// its specification states it, and record what they received.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "plugins/mcp/client.h"
#include "plugins/mcp/http_transport.h"
#include "plugins/mcp/stdio_transport.h"
#include "tests/plugins/mcp/mcp_test_support.h"
#include "tests/support/local_http_server.h"

using namespace scout::plugins::mcp;
using scout::plugins::mcp::testing::close;
using scout::plugins::mcp::testing::first_text;
using scout::plugins::mcp::testing::http_client;
using scout::plugins::mcp::testing::run;
using scout::test::HttpExchange;
using scout::test::LocalHttpServer;
using scout::test::RawConnection;
using Catch::Contains;
namespace asio = boost::asio;

namespace {

const char* kVersionKey = "io.modelcontextprotocol/protocolVersion";

void send(RawConnection& conn, const std::string& bytes) { conn.write(bytes); }

Json rpc_result(const Json& request, Json result) {
  return Json{{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", std::move(result)}};
}

Json rpc_error(const Json& request, int code, const std::string& message, Json data = nullptr) {
  Json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = std::move(data);
  return Json{{"jsonrpc", "2.0"}, {"id", request.contains("id") ? request["id"] : Json(nullptr)}, {"error", error}};
}

// A stateless MCP server: answers server/discover itself, refuses any request whose headers
// and _meta disagree (400, as the revision says), and hands the rest to `answer`. Every POST
// is recorded, with its headers.
struct StatelessServer {
  using Answer = std::function<void(const Json& message, const HttpExchange& request, RawConnection& conn)>;
  std::mutex mutex;
  std::vector<HttpExchange> posts;
  std::atomic<int> gets{0};
  Json capabilities = {{"tools", Json::object()}};
  std::vector<std::string> supported{"2026-07-28"};
  Answer answer;
  LocalHttpServer http{[this](const HttpExchange& req, RawConnection& conn) { handle(req, conn); }};

  explicit StatelessServer(Answer a) : answer(std::move(a)) {}
  std::string url() { return http.url("/mcp"); }

  std::vector<HttpExchange> recorded() {
    std::lock_guard lock(mutex);
    return posts;
  }
  std::vector<Json> bodies() {
    std::vector<Json> out;
    for (const auto& p : recorded()) out.push_back(Json::parse(p.body));
    return out;
  }

  void reply(RawConnection& conn, int status, const Json& body) {
    conn.write(scout::test::http_response(status, "application/json", body.dump()));
  }

  void handle(const HttpExchange& req, RawConnection& conn) {
    if (req.method != "POST") {
      ++gets;
      conn.write(scout::test::http_response(405, "", ""));
      return;
    }
    {
      std::lock_guard lock(mutex);
      posts.push_back(req);
    }
    const Json msg = Json::parse(req.body);
    const Json meta = msg.value("params", Json::object()).value("_meta", Json::object());
    const std::string header_version = req.header("MCP-Protocol-Version");
    if (header_version.empty() || meta.value(kVersionKey, "") != header_version ||
        req.header("Mcp-Method") != msg.value("method", "") || !meta.contains("io.modelcontextprotocol/clientCapabilities"))
      return reply(conn, 400, rpc_error(msg, -32001, "header mismatch or missing _meta"));
    if (std::find(supported.begin(), supported.end(), header_version) == supported.end())
      return reply(conn, 400, rpc_error(msg, -32022, "Unsupported protocol version",
                                        Json{{"supported", supported}, {"requested", header_version}}));
    if (!msg.contains("id")) return send(conn, scout::test::http_response(202, "", ""));
    if (msg["method"] == "server/discover")
      return reply(conn, 200,
                   rpc_result(msg, {{"resultType", "complete"},
                                    {"supportedVersions", supported},
                                    {"capabilities", capabilities},
                                    {"serverInfo", {{"name", "stateless-test"}, {"version", "1"}}}}));
    answer(msg, req, conn);
  }
};

Json text_result(const std::string& text) {
  return Json{{"resultType", "complete"}, {"content", Json::array({Json{{"type", "text"}, {"text", text}}})}};
}

// Runs the io_context until `done` holds or 10 s pass.
asio::awaitable<bool> wait_until(std::function<bool()> done) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < 1000 && !done(); ++i) {
    timer.expires_after(std::chrono::milliseconds(10));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return done();
}

}  // namespace

TEST_CASE("a stateless server is found by server/discover and every request carries the revision, identity and capabilities",
          "[mcp][mcp_stateless]") {
  StatelessServer server([&](const Json& msg, const HttpExchange&, RawConnection& conn) {
    if (msg["method"] == "tools/list") {
      Json tool = {{"name", "add"}, {"inputSchema", {{"type", "object"}}}};
      return server.reply(conn, 200, rpc_result(msg, {{"resultType", "complete"}, {"tools", Json::array({tool})}}));
    }
    server.reply(conn, 200, rpc_result(msg, text_result("3")));
  });
  asio::io_context io;
  ClientOptions options;
  options.client_name = "scout-test";
  options.on_elicitation = [](const std::string&, const Json&) { return Json{{"action", "decline"}}; };
  McpClient client = http_client(io, server.url(), options);
  auto info = run(io, client.initialize());
  REQUIRE(info);
  CHECK(info->stateless);
  CHECK(info->protocol_version == "2026-07-28");
  CHECK(info->name == "stateless-test");
  CHECK(client.name() == "stateless-test");
  auto tools = run(io, client.list_tools());
  REQUIRE(tools);
  REQUIRE(tools->size() == 1);
  auto sum = run(io, client.call_tool("add", Json{{"a", 1}, {"b", 2}}));
  REQUIRE(sum);
  CHECK(first_text(*sum) == "3");
  close(io, client);

  const auto posts = server.recorded();
  REQUIRE(posts.size() == 3);  // discover, tools/list, tools/call: no initialize, no notifications/initialized
  std::vector<std::string> methods;
  for (const auto& p : posts) {
    const Json msg = Json::parse(p.body);
    methods.push_back(msg["method"]);
    const Json meta = msg["params"]["_meta"];
    CHECK(meta[kVersionKey] == "2026-07-28");
    CHECK(p.header("MCP-Protocol-Version") == "2026-07-28");
    CHECK(meta["io.modelcontextprotocol/clientInfo"]["name"] == "scout-test");
    CHECK(meta["io.modelcontextprotocol/clientCapabilities"].contains("elicitation"));
    CHECK(p.header("Mcp-Session-Id").empty());
  }
  CHECK(methods == std::vector<std::string>{"server/discover", "tools/list", "tools/call"});
  CHECK(posts[2].header("Mcp-Name") == "add");
  CHECK(Json::parse(posts[2].body)["params"]["arguments"] == Json{{"a", 1}, {"b", 2}});
  CHECK(server.gets == 0);  // no GET stream in this revision, and no DELETE at close
}

TEST_CASE("a stateless server that refuses the revision is asked again in one it lists; one listing none Scout speaks is refused naming both",
          "[mcp][mcp_stateless]") {
  SECTION("the first request is refused once, then the same revision is accepted") {
    std::atomic<int> refusals{0};
    StatelessServer server([&](const Json& msg, const HttpExchange&, RawConnection& conn) {
      server.reply(conn, 200, rpc_result(msg, {{"tools", Json::array()}}));
    });
    // Refuse the very first request the way a load-balanced fleet mid-upgrade might.
    LocalHttpServer front([&](const HttpExchange& req, RawConnection& conn) {
      if (refusals++ == 0) {
        const Json msg = Json::parse(req.body);
        conn.write(scout::test::http_response(
            400, "application/json",
            rpc_error(msg, -32022, "Unsupported protocol version", Json{{"supported", {"2026-07-28"}}}).dump()));
        return;
      }
      server.handle(req, conn);
    });
    asio::io_context io;
    McpClient client = http_client(io, front.url("/mcp"));
    auto info = run(io, client.initialize());
    REQUIRE(info);
    CHECK(info->stateless);
    CHECK(refusals == 2);
    close(io, client);
  }
  SECTION("a server speaking only a revision Scout does not know") {
    StatelessServer server([&](const Json& msg, const HttpExchange&, RawConnection& conn) {
      server.reply(conn, 200, rpc_result(msg, Json::object()));
    });
    server.supported = {"2099-01-01"};
    asio::io_context io;
    McpClient client = http_client(io, server.url());
    auto info = run(io, client.initialize());
    REQUIRE_FALSE(info);
    CHECK_THAT(info.error().message, Contains("2099-01-01") && Contains("2026-07-28") && Contains("2025-11-25"));
    close(io, client);
  }
}

TEST_CASE("a server from before the stateless revision gets the initialize handshake once the probe fails",
          "[mcp][mcp_stateless]") {
  SECTION("over HTTP, a 400 without a stateless error in it") {
    std::mutex mutex;
    std::vector<HttpExchange> seen;
    LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
      if (req.method != "POST") return send(conn, scout::test::http_response(405, "", ""));
      {
        std::lock_guard lock(mutex);
        seen.push_back(req);
      }
      const Json msg = Json::parse(req.body);
      if (!msg.contains("id")) return send(conn, scout::test::http_response(202, "", ""));
      if (msg["method"] == "initialize")
        return send(conn, scout::test::http_response(
            200, "application/json",
            rpc_result(msg, {{"protocolVersion", "2025-11-25"},
                             {"capabilities", Json::object()},
                             {"serverInfo", {{"name", "legacy"}, {"version", "1"}}}})
                .dump(),
            {{"Mcp-Session-Id", "s-9"}}));
      if (req.header("Mcp-Session-Id").empty())  // what the TypeScript SDK's servers answer
        return send(conn, scout::test::http_response(
            400, "application/json", rpc_error(Json::object(), -32000, "Bad Request: Server not initialized").dump()));
      conn.write(scout::test::http_response(200, "application/json", rpc_result(msg, {{"tools", Json::array()}}).dump()));
    });
    asio::io_context io;
    McpClient client = http_client(io, server.url("/mcp"));
    auto info = run(io, client.initialize());
    REQUIRE(info);
    CHECK_FALSE(info->stateless);
    CHECK(info->protocol_version == "2025-11-25");
    REQUIRE(run(io, client.list_tools()));
    close(io, client);
    std::lock_guard lock(mutex);
    REQUIRE(seen.size() >= 4);  // discover, initialize, notifications/initialized, tools/list
    const Json init = Json::parse(seen[1].body);
    CHECK(init["method"] == "initialize");
    CHECK_FALSE(init["params"].contains("_meta"));
    CHECK(seen[1].header("MCP-Protocol-Version").empty());  // none before one is agreed
    CHECK(seen[1].header("Mcp-Method").empty());
    CHECK(seen[3].header("MCP-Protocol-Version") == "2025-11-25");
    CHECK(seen[3].header("Mcp-Session-Id") == "s-9");
  }
  SECTION("over stdio, a server that never answers the probe") {
    asio::io_context io;
    auto transport = StdioTransport::spawn(
        io.get_executor(),
        StdioCommand{"sh",
                     {"-c",
                      "read probe; read line; echo '{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"protocolVersion\":\"2025-06-18\","
                      "\"capabilities\":{},\"serverInfo\":{\"name\":\"silent\",\"version\":\"0\"}}}'; read n; sleep 5"},
                     {},
                     "silent"});
    REQUIRE(transport);
    ClientOptions options;
    options.probe_timeout = std::chrono::milliseconds(300);
    McpClient client(io.get_executor(), std::move(*transport), options);
    auto info = run(io, client.initialize());
    REQUIRE(info);
    CHECK_FALSE(info->stateless);
    CHECK(info->protocol_version == "2025-06-18");
    close(io, client);
  }
  SECTION("a client set to the stateless revision says why an older server will not do") {
    asio::io_context io;
    auto transport = StdioTransport::spawn(
        io.get_executor(),
        StdioCommand{"sh",
                     {"-c", "read probe; echo '{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"no\"}}'; sleep 5"},
                     {},
                     "old"});
    REQUIRE(transport);
    ClientOptions options;
    options.protocol_version = "2026-07-28";
    McpClient client(io.get_executor(), std::move(*transport), options);
    auto info = run(io, client.initialize());
    REQUIRE_FALSE(info);
    CHECK_THAT(info.error().message, Contains("does not answer server/discover") && Contains("2026-07-28"));
    close(io, client);
  }
}

TEST_CASE("a tool call that needs input is answered and sent again with a new id and the server's requestState untouched",
          "[mcp][mcp_stateless]") {
  const std::string state = "opaque+/=state {\"n\":1}";
  StatelessServer server([&](const Json& msg, const HttpExchange&, RawConnection& conn) {
    const Json params = msg["params"];
    const std::string tool = params.value("name", "");
    const Json confirm = {{"method", "elicitation/create"},
                          {"params", {{"message", "Sure?"}, {"requestedSchema", {{"type", "object"}}}}}};
    if (tool == "with_state" && !params.contains("inputResponses"))
      return server.reply(conn, 200, rpc_result(msg, {{"resultType", "input_required"},
                                                      {"inputRequests", {{"confirm", confirm}}},
                                                      {"requestState", state}}));
    if (tool == "without_state" && !params.contains("inputResponses"))
      return server.reply(conn, 200, rpc_result(msg, {{"resultType", "input_required"}, {"inputRequests", {{"confirm", confirm}}}}));
    if (tool == "sampling")
      return server.reply(conn, 200, rpc_result(msg, {{"resultType", "input_required"},
                                                      {"inputRequests", {{"llm", {{"method", "sampling/createMessage"}}}}}}));
    if (tool == "forever")
      return server.reply(conn, 200, rpc_result(msg, {{"resultType", "input_required"}, {"requestState", "again"}}));
    server.reply(conn, 200, rpc_result(msg, text_result("done: " + params.value("inputResponses", Json::object()).dump())));
  });
  asio::io_context io;
  ClientOptions options;
  std::vector<std::string> asked;
  options.on_elicitation = [&](const std::string&, const Json& params) {
    asked.push_back(params.value("message", ""));
    return Json{{"action", "accept"}, {"content", {{"confirmed", true}}}};
  };
  McpClient client = http_client(io, server.url(), options);
  REQUIRE(run(io, client.initialize()));

  auto with_state = run(io, client.call_tool("with_state", Json::object()));
  REQUIRE(with_state);
  CHECK_THAT(first_text(*with_state), Contains("\"action\":\"accept\""));
  CHECK(asked == std::vector<std::string>{"Sure?"});
  auto without_state = run(io, client.call_tool("without_state", Json::object()));
  REQUIRE(without_state);
  auto plain = run(io, client.call_tool("plain", Json::object()));
  REQUIRE(plain);
  CHECK(first_text(*plain) == "done: {}");

  const auto bodies = server.bodies();
  std::vector<Json> calls;
  for (const Json& b : bodies)
    if (b["method"] == "tools/call") calls.push_back(b);
  REQUIRE(calls.size() == 5);
  CHECK(calls[1]["params"]["requestState"] == state);  // echoed exactly
  CHECK(calls[1]["params"]["inputResponses"]["confirm"]["content"]["confirmed"] == true);
  CHECK(calls[0]["id"] != calls[1]["id"]);
  CHECK_FALSE(calls[3]["params"].contains("requestState"));  // none given, none sent
  CHECK_FALSE(calls[4]["params"].contains("requestState"));  // another call carries nothing over
  CHECK_FALSE(calls[4]["params"].contains("inputResponses"));

  auto sampling = run(io, client.call_tool("sampling", Json::object()));
  REQUIRE_FALSE(sampling);
  CHECK_THAT(sampling.error().message, Contains("sampling/createMessage") && Contains("does not provide"));
  auto forever = run(io, client.call_tool("forever", Json::object()));
  REQUIRE_FALSE(forever);
  CHECK_THAT(forever.error().message, Contains("after 16 rounds"));
  close(io, client);
}

TEST_CASE("tools with broken x-mcp-header annotations are left out with a warning, and annotated arguments ride in headers",
          "[mcp][mcp_stateless]") {
  StatelessServer server([&](const Json& msg, const HttpExchange&, RawConnection& conn) {
    if (msg["method"] == "tools/list") {
      const Json good = {{"name", "query"},
                         {"inputSchema",
                          {{"type", "object"},
                           {"properties",
                            {{"region", {{"type", "string"}, {"x-mcp-header", "Region"}}}, {"sql", {{"type", "string"}}}}}}}};
      const Json bad = {{"name", "scored"},
                        {"inputSchema", {{"type", "object"}, {"properties", {{"score", {{"type", "number"}, {"x-mcp-header", "Score"}}}}}}}};
      return server.reply(conn, 200, rpc_result(msg, {{"tools", Json::array({good, bad})}}));
    }
    server.reply(conn, 200, rpc_result(msg, text_result("ok")));
  });
  asio::io_context io;
  ClientOptions options;
  std::vector<std::string> warnings;
  options.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  McpClient client = http_client(io, server.url(), options);
  REQUIRE(run(io, client.initialize()));
  auto tools = run(io, client.list_tools());
  REQUIRE(tools);
  REQUIRE(tools->size() == 1);
  CHECK(tools->front().name == "query");
  REQUIRE(warnings.size() == 1);
  CHECK_THAT(warnings[0], Contains("'scored'") && Contains("number"));
  REQUIRE(run(io, client.call_tool("query", Json{{"region", "eu west"}, {"sql", "SELECT 1"}})));
  close(io, client);
  const auto posts = server.recorded();
  const auto& call = posts.back();
  CHECK(call.header("Mcp-Param-Region") == "eu west");
  CHECK(call.header("Mcp-Param-Sql").empty());
}

TEST_CASE("a listed tool whose name is not a string is dropped, and the rest of the list still arrives",
          "[mcp][mcp_stateless]") {
  StatelessServer server([&](const Json& msg, const HttpExchange&, RawConnection& conn) {
    const Json object_schema = {{"type", "object"}};
    if (msg["method"] == "tools/list")
      return server.reply(conn, 200,
                          rpc_result(msg, {{"tools", Json::array({Json{{"name", 5}, {"inputSchema", object_schema}},
                                                                  Json{{"name", "ok"}, {"inputSchema", object_schema}}})}}));
    server.reply(conn, 200, rpc_result(msg, text_result("ok")));
  });
  asio::io_context io;
  ClientOptions options;
  options.request_timeout = std::chrono::seconds(20);  // only a guard: the answer comes at once
  McpClient client = http_client(io, server.url(), options);
  REQUIRE(run(io, client.initialize()));
  auto tools = run(io, client.list_tools());
  REQUIRE(tools);
  REQUIRE(tools->size() == 1);
  CHECK(tools->front().name == "ok");
  close(io, client);
}

TEST_CASE("a stateless server's list changes arrive on the subscriptions/listen stream Scout keeps open",
          "[mcp][mcp_stateless]") {
  std::atomic<bool> listened{false};
  StatelessServer server([&](const Json& msg, const HttpExchange&, RawConnection& conn) {
    if (msg["method"] == "subscriptions/listen") {
      listened = true;
      const Json ack = {{"jsonrpc", "2.0"},
                        {"method", "notifications/subscriptions/acknowledged"},
                        {"params", {{"notifications", msg["params"]["notifications"]}}}};
      const Json changed = {{"jsonrpc", "2.0"}, {"method", "notifications/tools/list_changed"}, {"params", Json::object()}};
      conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n");
      conn.write("data: " + ack.dump() + "\n\n");
      conn.sleep_for(std::chrono::milliseconds(50));
      conn.write("data: " + changed.dump() + "\n\n");
      conn.wait_closed(std::chrono::seconds(20));  // open until the client goes
      return;
    }
    server.reply(conn, 200, rpc_result(msg, {{"tools", Json::array()}}));
  });
  server.capabilities = {{"tools", {{"listChanged", true}}}};
  asio::io_context io;
  ClientOptions options;
  std::mutex mutex;
  std::vector<std::string> notes;
  options.on_notification = [&](const Notification& n) {
    std::lock_guard lock(mutex);
    notes.push_back(n.method);
  };
  McpClient client = http_client(io, server.url(), options);
  REQUIRE(run(io, client.initialize()));
  const bool arrived = run(io, wait_until([&] {
                             std::lock_guard lock(mutex);
                             return std::find(notes.begin(), notes.end(), "notifications/tools/list_changed") != notes.end();
                           }));
  CHECK(arrived);
  close(io, client);
  REQUIRE(listened);
  Json listen;
  for (const Json& b : server.bodies())
    if (b["method"] == "subscriptions/listen") listen = b;
  CHECK(listen["params"]["notifications"]["toolsListChanged"] == true);
  CHECK(listen["params"]["_meta"][kVersionKey] == "2026-07-28");
}

TEST_CASE("what a server was found to speak is reported once, and a server known to speak initialize is not probed",
          "[mcp][mcp_stateless]") {
  // Answers the first request as initialize only if it is one; anything else gets nothing.
  const std::string answers_only_initialize =
      "read line; case \"$line\" in *'\"initialize\"'*) echo '{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":"
      "\"2025-06-18\",\"capabilities\":{},\"serverInfo\":{\"name\":\"py\",\"version\":\"0\"}}}';; esac; read n; sleep 5";
  asio::io_context io;
  std::vector<std::string> found;
  SECTION("known: no probe, so a server that ignores unknown requests costs nothing") {
    auto transport = StdioTransport::spawn(io.get_executor(), StdioCommand{"sh", {"-c", answers_only_initialize}, {}, "py"});
    REQUIRE(transport);
    ClientOptions options;
    options.known_era = "initialize";
    options.probe_timeout = std::chrono::seconds(60);  // a probe would stall the test
    options.on_era_found = [&](const std::string& era) { found.push_back(era); };
    McpClient client(io.get_executor(), std::move(*transport), options);
    auto info = run(io, client.initialize());
    REQUIRE(info);
    CHECK(info->protocol_version == "2025-06-18");
    CHECK(found.empty());  // nothing new to remember
    close(io, client);
  }
  SECTION("not known: probed, and the finding reported") {
    StatelessServer server([&](const Json& msg, const HttpExchange&, RawConnection& conn) {
      server.reply(conn, 200, rpc_result(msg, {{"tools", Json::array()}}));
    });
    ClientOptions options;
    options.on_era_found = [&](const std::string& era) { found.push_back(era); };
    McpClient client = http_client(io, server.url(), options);
    REQUIRE(run(io, client.initialize()));
    CHECK(found == std::vector<std::string>{"stateless"});
    close(io, client);
  }
  SECTION("known, but the server has changed: the failed handshake is followed by a probe") {
    StatelessServer server([&](const Json& msg, const HttpExchange&, RawConnection& conn) {
      server.reply(conn, 200, rpc_result(msg, {{"tools", Json::array()}}));
    });
    ClientOptions options;
    options.known_era = "initialize";
    options.on_era_found = [&](const std::string& era) { found.push_back(era); };
    McpClient client = http_client(io, server.url(), options);
    auto info = run(io, client.initialize());
    REQUIRE(info);
    CHECK(info->stateless);
    CHECK(found == std::vector<std::string>{"stateless"});
    const auto bodies = server.bodies();
    REQUIRE(bodies.size() >= 2);
    CHECK(bodies[0]["method"] == "initialize");
    CHECK(bodies[1]["method"] == "server/discover");
    close(io, client);
  }
}
