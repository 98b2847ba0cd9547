// McpClient over Streamable HTTP: against the reference server (server-everything in its
// streamableHttp mode, a real Node process on 127.0.0.1) and against servers of our own that
// answer in JSON, cut their event streams, or misbehave.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>

#include <boost/asio/io_context.hpp>

#include "plugins/mcp/client.h"
#include "plugins/mcp/http_transport.h"
#include "tests/common/process.h"
#include "tests/common/scratch.h"
#include "tests/plugins/mcp/mcp_test_support.h"
#include "tests/support/local_http_server.h"
#include "tools/http/http_client.h"

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

// server-everything listening on a free port; REQUIREs that it came up.
struct EverythingOverHttp {
  int port = scout::test::free_local_port();
  scout::test::BackgroundProcess process{
      "env PORT=" + std::to_string(port) + " node " +
          scout::test::shell_quote(std::string(SCOUT_REFERENCE_DIR) +
                                   "/node_modules/@modelcontextprotocol/server-everything/dist/index.js") +
          " streamableHttp",
      (scout::test::fresh_scratch_dir("mcp_http", "everything") / "server.log").string()};
  EverythingOverHttp() {
    INFO(process.log());
    REQUIRE(process.wait_for_port(port));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/mcp"; }
};

std::string sse_event(const std::string& data, const std::string& id = "") {
  std::string out;
  if (!id.empty()) out += "id: " + id + "\n";
  return out + "event: message\ndata: " + data + "\n\n";
}

std::string sse_head(const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n";
  for (const auto& [k, v] : extra) head += k + ": " + v + "\r\n";
  return head + "Connection: close\r\n\r\n";
}

std::string initialize_result(const Json& request, const std::string& version = "2025-11-25") {
  return Json{{"jsonrpc", "2.0"},
              {"id", request["id"]},
              {"result",
               {{"protocolVersion", version},
                {"capabilities", {{"tools", Json::object()}}},
                {"serverInfo", {{"name", "test-server"}, {"version", "1"}}}}}}
      .dump();
}

}  // namespace

TEST_CASE("the reference MCP server answers over Streamable HTTP with a session", "[mcp][mcp_http][everything]") {
  EverythingOverHttp server;
  asio::io_context io;
  auto transport = HttpTransport::open(io.get_executor(), HttpEndpoint{server.url(), {}, "", "", nullptr});
  REQUIRE(transport);
  HttpTransport* http = transport->get();
  McpClient client(io.get_executor(), std::move(*transport));

  auto info = run(io, client.initialize());
  INFO((info ? "" : info.error().message) << server.process.log());
  REQUIRE(info);
  CHECK(info->name == "mcp-servers/everything");
  CHECK(info->protocol_version == "2025-11-25");
  const std::string session = http->session_id();
  CHECK_FALSE(session.empty());

  auto tools = run(io, client.list_tools());
  REQUIRE(tools);
  CHECK(tools->size() > 5);

  auto echoed = run(io, client.call_tool("echo", Json{{"message", "über HTTP"}}));
  REQUIRE(echoed);
  CHECK(first_text(*echoed) == "Echo: über HTTP");

  auto sum = run(io, client.call_tool("get-sum", Json{{"a", 40}, {"b", 2}}));
  REQUIRE(sum);
  CHECK(first_text(*sum) == "The sum of 40 and 2 is 42.");

  auto structured = run(io, client.call_tool("get-structured-content", Json{{"location", "New York"}}));
  REQUIRE(structured);
  CHECK(structured->structured.has_value());

  // Progress: the server reports each step on the call's own event stream.
  std::vector<Progress> steps;
  auto long_run = run(io, client.call_tool("trigger-long-running-operation", Json{{"duration", 1}, {"steps", 3}},
                                           [&](const Progress& p) { steps.push_back(p); }));
  REQUIRE(long_run);
  CHECK_FALSE(long_run->is_error);
  REQUIRE(steps.size() == 3);
  CHECK(steps.front().progress == 1);
  CHECK(steps.back().progress == 3);
  CHECK(steps.back().total == 3);

  close(io, client);

  // The session was deleted at close: the server no longer knows it.
  asio::io_context probe_io;
  scout::tools::http::Client probe(probe_io.get_executor());
  scout::tools::http::Request req;
  req.method = "POST";
  req.url = server.url();
  req.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"},
                 {"Mcp-Session-Id", session}};
  req.body = R"({"jsonrpc":"2.0","id":9,"method":"tools/list"})";
  scout::tools::http::Options opts;
  opts.address_policy.allow_private = true;
  auto after = run(probe_io, probe.fetch(req, opts));
  REQUIRE(after);
  CHECK(after->status / 100 == 4);
}

TEST_CASE("a request to an HTTP server that runs past its deadline is cancelled and the session goes on",
          "[mcp][mcp_http][everything]") {
  EverythingOverHttp server;
  asio::io_context io;
  ClientOptions options;
  options.request_timeout = std::chrono::milliseconds(1500);
  McpClient client = http_client(io, server.url(), options);
  REQUIRE(run(io, client.initialize()));
  auto slow = run(io, client.call_tool("trigger-long-running-operation", Json{{"duration", 10}, {"steps", 2}}));
  REQUIRE_FALSE(slow);
  CHECK_THAT(slow.error().message, Contains("did not answer tools/call within 1.5"));
  auto echoed = run(io, client.call_tool("echo", Json{{"message", "still here"}}));
  REQUIRE(echoed);
  CHECK(first_text(*echoed) == "Echo: still here");
  close(io, client);
}

TEST_CASE("an HTTP server that answers in plain JSON and has no GET stream works", "[mcp][mcp_http]") {
  std::atomic<int> gets{0};
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    if (req.method == "GET") {
      ++gets;
      conn.write(scout::test::http_response(405, "text/plain", "no stream here"));
      return;
    }
    const Json msg = Json::parse(req.body);
    if (!msg.contains("id")) {
      conn.write(scout::test::http_response(202, "", ""));
      return;
    }
    const std::string method = msg["method"];
    std::string body;
    if (method == "initialize") {
      body = initialize_result(msg, "2025-03-26");  // an older revision Scout still speaks
    } else if (method == "tools/list") {
      Json tool = {{"name", "add"}, {"inputSchema", {{"type", "object"}}}};
      body = Json{{"jsonrpc", "2.0"}, {"id", msg["id"]}, {"result", {{"tools", Json::array({tool})}}}}.dump();
    } else {
      Json block = {{"type", "text"}, {"text", "3"}};
      body = Json{{"jsonrpc", "2.0"}, {"id", msg["id"]}, {"result", {{"content", Json::array({block})}}}}.dump();
    }
    conn.write(scout::test::http_response(200, "application/json", body));
  });
  asio::io_context io;
  McpClient client = http_client(io, server.url("/mcp"));
  auto info = run(io, client.initialize());
  REQUIRE(info);
  CHECK(info->protocol_version == "2025-03-26");
  auto tools = run(io, client.list_tools());
  REQUIRE(tools);
  REQUIRE(tools->size() == 1);
  auto added = run(io, client.call_tool("add", Json{{"a", 1}, {"b", 2}}));
  REQUIRE(added);
  CHECK(first_text(*added) == "3");
  close(io, client);
  CHECK(gets.load() == 1);  // a 405 means no GET stream: not asked again
}

TEST_CASE("an event stream cut before its answer is resumed with a GET carrying Last-Event-ID after the server's retry time",
          "[mcp][mcp_http]") {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> resumes;  // (Last-Event-ID, Mcp-Session-Id) of each GET
  Json pending_call;
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    if (req.method == "GET") {
      std::unique_lock lock(mutex);
      resumes.emplace_back(req.header("Last-Event-ID"), req.header("Mcp-Session-Id"));
      if (req.header("Last-Event-ID").empty() || pending_call.is_null()) {
        lock.unlock();
        conn.write(scout::test::http_response(405, "", ""));
        return;
      }
      const Json block = {{"type", "text"}, {"text", "resumed"}};
      const Json answer = {{"jsonrpc", "2.0"}, {"id", pending_call["id"]}, {"result", {{"content", Json::array({block})}}}};
      lock.unlock();
      conn.write(sse_head() + sse_event(answer.dump(), "event-2"));
      return;
    }
    if (req.method == "DELETE") {
      conn.write(scout::test::http_response(200, "", ""));
      return;
    }
    const Json msg = Json::parse(req.body);
    if (!msg.contains("id")) {
      conn.write(scout::test::http_response(202, "", ""));
      return;
    }
    if (msg["method"] == "initialize") {
      conn.write(scout::test::http_response(200, "application/json", initialize_result(msg), {{"Mcp-Session-Id", "s-1"}}));
      return;
    }
    // tools/call: a priming event with an id and a retry time, then the stream is cut.
    {
      std::lock_guard lock(mutex);
      pending_call = msg;
    }
    conn.write(sse_head() + "id: event-1\nretry: 300\ndata: \n\n");
    conn.sleep_for(std::chrono::milliseconds(50));
    conn.close();
  });
  asio::io_context io;
  McpClient client = http_client(io, server.url("/mcp"));
  REQUIRE(run(io, client.initialize()));
  auto result = run(io, client.call_tool("test_reconnection", Json::object()));
  REQUIRE(result);
  CHECK(first_text(*result) == "resumed");
  close(io, client);
  std::lock_guard lock(mutex);
  CHECK(std::find(resumes.begin(), resumes.end(), std::pair<std::string, std::string>{"event-1", "s-1"}) != resumes.end());
}

TEST_CASE("HTTP failures name the server, the status and what it said", "[mcp][mcp_http]") {
  asio::io_context io;
  SECTION("a server error") {
    LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
      conn.write(scout::test::http_response(500, "text/plain", "database on fire"));
    });
    McpClient client = http_client(io, server.url("/mcp"));
    auto info = run(io, client.initialize());
    REQUIRE_FALSE(info);
    CHECK_THAT(info.error().message, Contains("HTTP 500") && Contains("database on fire") && Contains("initialize"));
    close(io, client);
  }
  SECTION("a server that wants authorization") {
    LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
      conn.write(scout::test::http_response(401, "", "", {{"WWW-Authenticate", "Bearer"}}));
    });
    McpClient client = http_client(io, server.url("/mcp"));
    auto info = run(io, client.initialize());
    REQUIRE_FALSE(info);
    CHECK_THAT(info.error().message, Contains("HTTP 401") && Contains("authorization"));
    close(io, client);
  }
  SECTION("garbage on the event stream") {
    LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
      conn.write(sse_head() + "data: this is not json\n\n");
    });
    McpClient client = http_client(io, server.url("/mcp"));
    auto info = run(io, client.initialize());
    REQUIRE_FALSE(info);
    CHECK_THAT(info.error().message, Contains("malformed message"));
    close(io, client);
  }
  SECTION("a stream cut before the answer, with nothing to resume from") {
    LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
      conn.write(sse_head());
      conn.close();
    });
    McpClient client = http_client(io, server.url("/mcp"));
    auto info = run(io, client.initialize());
    REQUIRE_FALSE(info);
    CHECK_THAT(info.error().message, Contains("closed the event stream") && Contains("no event ID"));
    close(io, client);
  }
  SECTION("nobody listening") {
    const int port = scout::test::free_local_port();
    McpClient client = http_client(io, "http://127.0.0.1:" + std::to_string(port) + "/mcp");
    auto info = run(io, client.initialize());
    REQUIRE_FALSE(info);
    CHECK_THAT(info.error().message, Contains("could not reach MCP server '127.0.0.1:" + std::to_string(port) + "/mcp'"));
    close(io, client);
  }
  SECTION("a URL that is not one") {
    auto transport = HttpTransport::open(io.get_executor(), HttpEndpoint{"ftp://example.com/mcp", {}, "", "", nullptr});
    REQUIRE_FALSE(transport);
    CHECK_THAT(transport.error().message, Contains("ftp://example.com/mcp"));
  }
}
