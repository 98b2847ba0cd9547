// The MCP server side: ServerSession (the protocol, over a registry of test tools), the stdio
// server over pipes, and the Streamable HTTP server's header checks as plain functions. The real
// executable over stdio and HTTP is tested in tests/cli/test_mcp_server_cli.cpp.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "plugins/mcp/http_server.h"
#include "plugins/mcp/server.h"
#include "plugins/mcp/stdio_server.h"
#include "tests/tools/registry/registry_test_support.h"

using namespace scout::plugins::mcp;
using scout::tools::ToolContext;
using scout::tools::ToolOutput;
using scout::tools::ToolProgress;
using scout::tools::testing::EchoTool;
using scout::tools::testing::run_until_done;
using scout::tools::testing::ThrowingTool;
using scout::tools::testing::WaitCounters;
using scout::tools::testing::WaitTool;
using scout::tools::testing::when;
using Catch::Contains;
namespace asio = boost::asio;

namespace {

// Reports three steps of progress, then answers.
class StepsTool final : public scout::tools::Tool {
 public:
  std::string name() const override { return "steps"; }
  std::string description() const override { return "Takes three steps."; }
  scout::tools::Json parameters() const override { return scout::tools::Json{{"type", "object"}}; }
  asio::awaitable<ToolOutput> invoke(scout::tools::Json, ToolContext ctx) override {
    for (int i = 1; i <= 3; ++i)
      if (ctx.progress) ctx.progress(ToolProgress{static_cast<double>(i), 3.0, "step " + std::to_string(i)});
    if (ctx.progress) ctx.progress(ToolProgress{2.0, 3.0, "a report that goes backwards is dropped"});
    co_return ToolOutput::success("walked");
  }
};

struct Fixture {
  asio::io_context io;
  scout::tools::Registry registry;
  std::shared_ptr<WaitCounters> counters = std::make_shared<WaitCounters>();
  ServerOptions options;

  Fixture() {
    REQUIRE(registry.add(std::make_shared<EchoTool>(
        Json{{"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}, {"required", {"text"}}})));
    REQUIRE(registry.add(std::make_shared<WaitTool>(counters)));
    REQUIRE(registry.add(std::make_shared<ThrowingTool>()));
    REQUIRE(registry.add(std::make_shared<StepsTool>()));
    options.version = "1.2.3";
    options.instructions = "Test tools.";
  }

  std::optional<Response> send(ServerSession& session, Request request, NotifyFn notify = {}) {
    return run_until_done(io, session.handle_request(std::move(request), std::move(notify)));
  }

  // A session that has been through the handshake.
  std::unique_ptr<ServerSession> ready_session() {
    auto session = std::make_unique<ServerSession>(registry, options);
    auto r = send(*session, Request{RequestId{std::int64_t{0}}, "initialize",
                                    Json{{"protocolVersion", "2025-11-25"}, {"capabilities", Json::object()}}});
    REQUIRE(r);
    REQUIRE(r->ok());
    session->handle_notification(Notification{"notifications/initialized", std::nullopt});
    return session;
  }
};

Request call_request(std::int64_t id, const std::string& tool, Json arguments) {
  return Request{RequestId{id}, "tools/call", Json{{"name", tool}, {"arguments", std::move(arguments)}}};
}

std::string result_text(const Response& r) { return r.result()["content"][0]["text"].get<std::string>(); }

// Runs a stdio server over pipes on `input` (then end of input) and returns the lines it wrote,
// parsed.
std::vector<Json> serve_stdio(Fixture& f, const std::string& input) {
  int in[2], out[2];
  REQUIRE(pipe2(in, O_CLOEXEC) == 0);
  REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  // Written from a thread, so that input larger than a pipe's buffer cannot block the test.
  std::thread writer([&input, fd = in[1]] {
    for (std::size_t done = 0; done < input.size();) {
      const ssize_t n = write(fd, input.data() + done, input.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    close(fd);  // the end of input comes while calls are in flight
  });
  {
    StdioServer server(f.io.get_executor(), std::make_shared<ServerSession>(f.registry, f.options), in[0], out[1]);
    run_until_done(f.io, [](StdioServer& s) -> asio::awaitable<bool> {
      co_await s.run();
      co_return true;
    }(server));
  }  // closes the output
  writer.join();
  std::string output;
  char buf[4096];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) output.append(buf, static_cast<std::size_t>(n));
  close(out[0]);
  std::vector<Json> lines;
  std::istringstream stream(output);
  for (std::string line; std::getline(stream, line);) lines.push_back(Json::parse(line));
  return lines;
}


}  // namespace

TEST_CASE("an MCP server session answers initialize with the client's revision when it speaks it, else its newest",
          "[mcp_server]") {
  Fixture f;
  for (const auto& [asked, answered] : std::map<std::string, std::string>{{"2025-11-25", "2025-11-25"},
                                                                          {"2025-06-18", "2025-06-18"},
                                                                          {"2025-03-26", "2025-03-26"},
                                                                          {"2024-11-05", "2025-11-25"},
                                                                          {"2099-01-01", "2025-11-25"}}) {
    ServerSession session(f.registry, f.options);
    auto r = f.send(session, Request{RequestId{std::string("init")}, "initialize",
                                     Json{{"protocolVersion", asked}, {"capabilities", Json::object()},
                                          {"clientInfo", {{"name", "test"}, {"version", "0"}}}}});
    REQUIRE(r);
    REQUIRE(r->ok());
    INFO(asked);
    CHECK(r->result()["protocolVersion"] == answered);
    CHECK(session.protocol_version() == answered);
    CHECK(r->result()["capabilities"] == Json{{"tools", {{"listChanged", false}}}, {"logging", Json::object()}});
    CHECK(r->result()["serverInfo"] == Json{{"name", "scout"}, {"version", "1.2.3"}});
    CHECK(r->result()["instructions"] == "Test tools.");
  }
}

TEST_CASE("an MCP server session refuses requests before initialize, a second initialize and one without a version",
          "[mcp_server]") {
  Fixture f;
  ServerSession session(f.registry, f.options);
  auto early = f.send(session, Request{RequestId{std::int64_t{1}}, "tools/list", std::nullopt});
  REQUIRE(early);
  REQUIRE_FALSE(early->ok());
  CHECK(early->error().code == error_code::invalid_request);
  CHECK_THAT(early->error().message, Contains("initialize"));
  auto ping = f.send(session, Request{RequestId{std::int64_t{2}}, "ping", std::nullopt});
  REQUIRE(ping);
  CHECK(ping->ok());  // ping is allowed at any time

  auto no_version = f.send(session, Request{RequestId{std::int64_t{3}}, "initialize", Json::object()});
  REQUIRE(no_version);
  REQUIRE_FALSE(no_version->ok());
  CHECK(no_version->error().code == error_code::invalid_params);
  CHECK_FALSE(session.initialized());

  auto first = f.send(session, Request{RequestId{std::int64_t{4}}, "initialize", Json{{"protocolVersion", "2025-06-18"}}});
  REQUIRE(first);
  CHECK(first->ok());
  auto second = f.send(session, Request{RequestId{std::int64_t{5}}, "initialize", Json{{"protocolVersion", "2025-06-18"}}});
  REQUIRE(second);
  REQUIRE_FALSE(second->ok());
  CHECK(second->error().code == error_code::invalid_request);
}

TEST_CASE("tools/list gives every registry tool with its name, description and input schema, a page at a time",
          "[mcp_server]") {
  Fixture f;
  auto session = f.ready_session();
  auto all = f.send(*session, Request{RequestId{std::int64_t{1}}, "tools/list", std::nullopt});
  REQUIRE(all);
  REQUIRE(all->ok());
  const Json& tools = all->result()["tools"];
  REQUIRE(tools.size() == 4);
  CHECK(tools[0]["name"] == "broken");  // the registry's order: by name
  CHECK(tools[1]["name"] == "echo");
  CHECK(tools[1]["description"] == "Returns its arguments.");
  CHECK(tools[1]["inputSchema"]["required"] == Json::array({"text"}));
  CHECK_FALSE(all->result().contains("nextCursor"));

  f.options.page_size = 3;
  auto paged = f.ready_session();
  auto page1 = f.send(*paged, Request{RequestId{std::int64_t{2}}, "tools/list", Json::object()});
  REQUIRE(page1);
  REQUIRE(page1->result()["tools"].size() == 3);
  REQUIRE(page1->result()["nextCursor"].is_string());
  auto page2 = f.send(*paged, Request{RequestId{std::int64_t{3}}, "tools/list",
                                      Json{{"cursor", page1->result()["nextCursor"]}}});
  REQUIRE(page2);
  REQUIRE(page2->result()["tools"].size() == 1);
  CHECK(page2->result()["tools"][0]["name"] == "wait");
  CHECK_FALSE(page2->result().contains("nextCursor"));

  auto bad = f.send(*paged, Request{RequestId{std::int64_t{4}}, "tools/list", Json{{"cursor", "not-a-cursor"}}});
  REQUIRE(bad);
  REQUIRE_FALSE(bad->ok());
  CHECK(bad->error().code == error_code::invalid_params);
}

TEST_CASE("tools/call returns the tool's text and structured content, and every failure as a result with isError",
          "[mcp_server]") {
  Fixture f;
  auto session = f.ready_session();
  auto ok = f.send(*session, call_request(1, "echo", Json{{"text", "hi"}}));
  REQUIRE(ok);
  REQUIRE(ok->ok());
  CHECK(ok->result()["isError"] == false);
  CHECK(ok->result()["content"] == Json::array({{{"type", "text"}, {"text", "{\"text\":\"hi\"}"}}}));
  CHECK(ok->result()["structuredContent"] == Json{{"text", "hi"}});

  // The spec's "tool execution errors": results the calling model can read, not JSON-RPC errors.
  auto unknown = f.send(*session, call_request(2, "no_such_tool", Json::object()));
  REQUIRE(unknown);
  REQUIRE(unknown->ok());
  CHECK(unknown->result()["isError"] == true);
  CHECK_THAT(result_text(*unknown), Contains("Unknown tool 'no_such_tool'") && Contains("echo"));

  auto invalid = f.send(*session, call_request(3, "echo", Json{{"text", 7}}));
  REQUIRE(invalid);
  REQUIRE(invalid->ok());
  CHECK(invalid->result()["isError"] == true);
  CHECK_THAT(result_text(*invalid), Contains("Invalid arguments for tool 'echo'"));

  auto thrown = f.send(*session, call_request(4, "broken", Json::object()));
  REQUIRE(thrown);
  CHECK(thrown->result()["isError"] == true);
  CHECK_THAT(result_text(*thrown), Contains("internal invariant broken"));

  // A call without a tool name is malformed: that one is a protocol error.
  auto nameless = f.send(*session, Request{RequestId{std::int64_t{5}}, "tools/call", Json{{"arguments", Json::object()}}});
  REQUIRE(nameless);
  REQUIRE_FALSE(nameless->ok());
  CHECK(nameless->error().code == error_code::invalid_params);
}

TEST_CASE("an MCP server session answers ping with {}, unknown methods with -32601 and bad log levels with -32602",
          "[mcp_server]") {
  Fixture f;
  auto session = f.ready_session();
  auto ping = f.send(*session, Request{RequestId{std::string("p")}, "ping", std::nullopt});
  REQUIRE(ping);
  CHECK(ping->result() == Json::object());
  CHECK(std::get<std::string>(ping->id) == "p");

  auto unknown = f.send(*session, Request{RequestId{std::int64_t{1}}, "resources/list", std::nullopt});
  REQUIRE(unknown);
  REQUIRE_FALSE(unknown->ok());
  CHECK(unknown->error().code == error_code::method_not_found);

  for (const char* level : {"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}) {
    auto r = f.send(*session, Request{RequestId{std::int64_t{2}}, "logging/setLevel", Json{{"level", level}}});
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(session->log_level() == level);
  }
  auto bad = f.send(*session, Request{RequestId{std::int64_t{3}}, "logging/setLevel", Json{{"level", "loud"}}});
  REQUIRE(bad);
  REQUIRE_FALSE(bad->ok());
  CHECK(bad->error().code == error_code::invalid_params);
}

TEST_CASE("notifications/cancelled cancels the call in flight, which then gets no response", "[mcp_server]") {
  Fixture f;
  auto session = f.ready_session();
  when(f.io, [&] { return f.counters->entered == 1; }, [&] {
    CHECK(session->calls_in_flight() == 1);
    session->handle_notification(
        Notification{"notifications/cancelled", Json{{"requestId", "slow"}, {"reason", "the user gave up"}}});
  });
  auto r = f.send(*session, Request{RequestId{std::string("slow")}, "tools/call",
                                    Json{{"name", "wait"}, {"arguments", {{"ms", 600000}}}}});
  CHECK_FALSE(r);
  CHECK(f.counters->cancelled == 1);
  CHECK(session->calls_in_flight() == 0);

  // A cancellation naming no call in flight changes nothing.
  session->handle_notification(Notification{"notifications/cancelled", Json{{"requestId", 99}}});
  auto next = f.send(*session, call_request(7, "wait", Json{{"ms", 0}}));
  REQUIRE(next);
  CHECK(next->result()["isError"] == false);
}

TEST_CASE("cancel_all answers every call in flight with a result saying it was cancelled", "[mcp_server]") {
  Fixture f;
  auto session = f.ready_session();
  std::vector<std::optional<Response>> answers(2);
  for (int i = 0; i < 2; ++i) {
    asio::co_spawn(f.io, session->handle_request(call_request(i, "wait", Json{{"ms", 600000}}), {}),
                   [&answers, i](std::exception_ptr, std::optional<Response> r) { answers[i] = std::move(r); });
  }
  when(f.io, [&] { return f.counters->entered == 2; }, [&] {
    CHECK(f.counters->max_active == 2);  // the two calls run at once
    session->cancel_all();
  });
  f.io.restart();  // the handshake ran the io_context out of work, which stops it
  f.io.run();
  for (const auto& a : answers) {
    REQUIRE(a);
    CHECK(a->result()["isError"] == true);
    CHECK_THAT(result_text(*a), Contains("cancelled"));
  }
}

TEST_CASE("a call with a progressToken sends the tool's progress as notifications/progress before its response",
          "[mcp_server]") {
  Fixture f;
  auto session = f.ready_session();
  std::vector<Notification> notes;
  auto r = f.send(*session,
                  Request{RequestId{std::int64_t{1}}, "tools/call",
                          Json{{"name", "steps"}, {"arguments", Json::object()}, {"_meta", {{"progressToken", "tok"}}}}},
                  [&](const Notification& n) { notes.push_back(n); });
  REQUIRE(r);
  CHECK(result_text(*r) == "walked");
  REQUIRE(notes.size() == 3);  // the report that went backwards is dropped
  for (int i = 0; i < 3; ++i) {
    CHECK(notes[i].method == "notifications/progress");
    CHECK((*notes[i].params)["progressToken"] == "tok");
    CHECK((*notes[i].params)["progress"] == i + 1);
    CHECK((*notes[i].params)["total"] == 3);
    CHECK((*notes[i].params)["message"] == "step " + std::to_string(i + 1));
  }

  notes.clear();  // without a token, no notifications
  auto quiet = f.send(*session, call_request(2, "steps", Json::object()), [&](const Notification& n) { notes.push_back(n); });
  REQUIRE(quiet);
  CHECK(notes.empty());
}

namespace {

// The stateless revision's envelope, added to `params`.
Json with_meta(Json params, const std::string& version = "2026-07-28", bool capabilities = true) {
  Json meta = {{"io.modelcontextprotocol/protocolVersion", version},
               {"io.modelcontextprotocol/clientInfo", {{"name", "t"}, {"version", "1"}}}};
  if (capabilities) meta["io.modelcontextprotocol/clientCapabilities"] = Json::object();
  params["_meta"] = meta;
  return params;
}

}  // namespace

TEST_CASE("a session serves stateless requests without initialize: discover, tools, and the revision's refusals",
          "[mcp_server][mcp_stateless]") {
  Fixture f;
  ServerSession session(f.registry, f.options);
  auto discover = f.send(session, Request{RequestId{std::int64_t{1}}, "server/discover", with_meta(Json::object())});
  REQUIRE(discover);
  REQUIRE(discover->ok());
  const Json d = discover->result();
  CHECK(d["resultType"] == "complete");
  CHECK(d["supportedVersions"] == Json::array({"2026-07-28"}));
  CHECK(d["capabilities"].contains("tools"));
  CHECK(d["serverInfo"]["version"] == "1.2.3");
  CHECK(d["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "scout");
  CHECK(d["instructions"] == "Test tools.");

  auto list = f.send(session, Request{RequestId{std::int64_t{2}}, "tools/list", with_meta(Json::object())});
  REQUIRE(list);
  REQUIRE(list->ok());
  CHECK(list->result()["resultType"] == "complete");
  CHECK(list->result()["tools"].size() == 4);
  auto call = f.send(session, Request{RequestId{std::int64_t{3}}, "tools/call",
                                      with_meta(Json{{"name", "echo"}, {"arguments", {{"text", "hi"}}}})});
  REQUIRE(call);
  REQUIRE(call->ok());
  CHECK(call->result()["resultType"] == "complete");
  CHECK(result_text(*call) == "{\"text\":\"hi\"}");
  CHECK_FALSE(session.initialized());  // none of it needed a handshake

  auto old = f.send(session, Request{RequestId{std::int64_t{4}}, "tools/list", with_meta(Json::object(), "2099-01-01")});
  REQUIRE(old);
  REQUIRE_FALSE(old->ok());
  CHECK(old->error().code == -32022);
  CHECK(old->error().data->at("supported") == Json::array({"2026-07-28"}));
  CHECK(old->error().data->at("requested") == "2099-01-01");
  auto bare = f.send(session, Request{RequestId{std::int64_t{5}}, "tools/list", with_meta(Json::object(), "2026-07-28", false)});
  REQUIRE(bare);
  CHECK(bare->error().code == -32602);
  for (const char* gone : {"initialize", "ping", "logging/setLevel", "resources/list"}) {
    auto r = f.send(session, Request{RequestId{std::int64_t{6}}, gone, with_meta(Json::object())});
    REQUIRE(r);
    REQUIRE_FALSE(r->ok());
    CHECK(r->error().code == -32601);
  }
}

TEST_CASE("subscriptions/listen is acknowledged first and stays open until cancelled, without a response",
          "[mcp_server][mcp_stateless]") {
  Fixture f;
  ServerSession session(f.registry, f.options);
  std::vector<Notification> sent;
  when(f.io, [&] { return !sent.empty(); }, [&] {
    CHECK(session.calls_in_flight() == 1);
    session.handle_notification(Notification{"notifications/cancelled", Json{{"requestId", "sub-1"}}});
  });
  auto r = f.send(session,
                  Request{RequestId{std::string("sub-1")}, "subscriptions/listen",
                          with_meta(Json{{"notifications", {{"toolsListChanged", true}, {"promptsListChanged", true}}}})},
                  [&](const Notification& n) { sent.push_back(n); });
  CHECK_FALSE(r);
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].method == "notifications/subscriptions/acknowledged");
  CHECK((*sent[0].params)["_meta"]["io.modelcontextprotocol/subscriptionId"] == "sub-1");
  CHECK((*sent[0].params)["notifications"] == Json{{"toolsListChanged", true}});  // prompts: none to offer
  CHECK(session.calls_in_flight() == 0);
}

TEST_CASE("subscriptions/listen with a toolsListChanged that is not a boolean is acknowledged, honoring nothing",
          "[mcp_server][mcp_stateless]") {
  Fixture f;
  ServerSession session(f.registry, f.options);
  std::vector<Notification> sent;
  when(f.io, [&] { return !sent.empty(); }, [&] {
    session.handle_notification(Notification{"notifications/cancelled", Json{{"requestId", 7}}});
  });
  std::optional<Response> r;
  REQUIRE_NOTHROW(r = f.send(session,
                             Request{RequestId{std::int64_t{7}}, "subscriptions/listen",
                                     with_meta(Json{{"notifications", {{"toolsListChanged", "yes"}}}})},
                             [&](const Notification& n) { sent.push_back(n); }));
  CHECK_FALSE(r);
  REQUIRE(sent.size() == 1);
  CHECK((*sent[0].params)["notifications"] == Json::object());
  CHECK(session.calls_in_flight() == 0);
}

TEST_CASE("the stdio server answers each line, reports malformed lines with a null id, and finishes calls at the end",
          "[mcp_server]") {
  Fixture f;
  const std::string input =
      R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}})"
      "\n"
      R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
      "\n"
      "this is not JSON\n"
      R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"wait","arguments":{"ms":50}}})"
      "\r\n"
      R"({"jsonrpc":"1.0","id":3,"method":"ping"})"
      "\n"
      R"({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a\nb"}}})"
      "\n";
  const std::vector<Json> lines = serve_stdio(f, input);
  REQUIRE(lines.size() == 5);
  std::map<std::string, Json> by_id;
  std::vector<Json> without_id;
  for (const auto& j : lines) {
    CHECK(j["jsonrpc"] == "2.0");
    if (j["id"].is_null()) {
      without_id.push_back(j);
    } else {
      by_id[j["id"].dump()] = j;
    }
  }
  CHECK(by_id["1"]["result"]["protocolVersion"] == "2025-06-18");
  CHECK(by_id["2"]["result"]["content"][0]["text"] == "waited");  // answered although the input had ended
  CHECK(by_id["4"]["result"]["structuredContent"]["text"] == "a\nb");
  REQUIRE(without_id.size() == 2);
  CHECK(without_id[0]["error"]["code"] == error_code::parse_error);
  CHECK(without_id[1]["error"]["code"] == error_code::invalid_request);
}

TEST_CASE("the stdio server answers a line nested 200,000 levels deep with a parse error and serves the next one",
          "[mcp_server][nesting]") {
  Fixture f;
  const std::string input = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":)" + std::string(200000, '[') +
                            std::string(200000, ']') + "}}\n" + R"({"jsonrpc":"2.0","id":2,"method":"server/discover","params":{}})" + "\n";
  const std::vector<Json> lines = serve_stdio(f, input);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["id"].is_null());
  CHECK(lines[0]["error"]["code"] == error_code::parse_error);
  CHECK_THAT(lines[0]["error"]["message"].get<std::string>(), Contains("nested deeper than 128 levels"));
  CHECK(lines[1]["id"] == 2);
}

TEST_CASE("the stdio server ends an open subscriptions/listen at the end of input instead of waiting for it forever",
          "[mcp_server][mcp_stateless]") {
  Fixture f;
  const Json listen = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "subscriptions/listen"},
                      {"params", with_meta(Json{{"notifications", {{"toolsListChanged", true}}}})}};
  const Json list = {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}, {"params", with_meta(Json::object())}};
  const std::string input = listen.dump() + "\n" + list.dump() + "\n";
  const std::vector<Json> lines = serve_stdio(f, input);
  REQUIRE(lines.size() == 2);  // the acknowledgement and tools/list's answer; the listen itself none
  CHECK(lines[0]["method"] == "notifications/subscriptions/acknowledged");
  CHECK(lines[1]["id"] == 2);
  CHECK(lines[1]["result"]["tools"].size() == 4);
}

TEST_CASE("listen addresses are HOST:PORT, [IPV6]:PORT, :PORT or PORT", "[mcp_server]") {
  auto a = parse_listen_address("127.0.0.1:8931");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 8931);
  auto v6 = parse_listen_address("[::1]:80");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 80);
  auto bare = parse_listen_address("9000");
  REQUIRE(bare);
  CHECK(bare->host == "127.0.0.1");
  CHECK(bare->port == 9000);
  auto colon = parse_listen_address(":0");
  REQUIRE(colon);
  CHECK(colon->port == 0);
  auto named = parse_listen_address("localhost:1");
  REQUIRE(named);
  CHECK(named->host == "localhost");
  CHECK_FALSE(parse_listen_address("127.0.0.1:"));
  CHECK_FALSE(parse_listen_address("127.0.0.1:65536"));
  CHECK_FALSE(parse_listen_address("::1:80"));
  CHECK_FALSE(parse_listen_address("[::1]80"));
  CHECK_FALSE(parse_listen_address("host:http"));
}

TEST_CASE("a server bound to loopback answers only to Host headers naming it with its port", "[mcp_server]") {
  const auto allowed = allowed_host_headers("127.0.0.1", 8931, true);
  for (const char* host : {"127.0.0.1:8931", "localhost:8931", "LOCALHOST:8931", "[::1]:8931"})
    CHECK(host_header_allowed(host, allowed));
  for (const char* host : {"evil.example.com", "evil.example.com:8931", "127.0.0.1", "127.0.0.1:80", "localhost:8932",
                           "", "127.0.0.1:8931.evil.example"})
    CHECK_FALSE(host_header_allowed(host, allowed));
  const auto own = allowed_host_headers("127.0.0.2", 80, true);
  CHECK(host_header_allowed("127.0.0.2:80", own));
  CHECK(host_header_allowed("127.0.0.2", own));
  CHECK(host_header_allowed("localhost", own));
  // Bound to a public address, the Host is not checked (the operator was warned).
  CHECK(allowed_host_headers("0.0.0.0", 8931, false).empty());
  CHECK(host_header_allowed("anything.example", {}));
}

TEST_CASE("the Origin check lets loopback origins and listed ones through", "[mcp_server]") {
  const std::vector<std::string> listed{"https://app.example/"};
  for (const char* origin : {"http://localhost", "http://localhost:5173", "https://127.0.0.1:8443", "http://[::1]:3000",
                             "HTTP://LOCALHOST:1", "https://app.example", "https://APP.example/"})
    CHECK(origin_allowed(origin, listed));
  for (const char* origin : {"http://evil.example.com", "null", "http://localhost.evil.example", "http://127.0.0.1.nip.io",
                             "file://", "http://user@localhost", "https://app.example:444", "http://[::1]x"})
    CHECK_FALSE(origin_allowed(origin, listed));
}

TEST_CASE("an Accept header lists a media type when one of its entries names it exactly", "[mcp_server]") {
  CHECK(accept_lists("application/json, text/event-stream", "text/event-stream"));
  CHECK(accept_lists("text/event-stream;q=0.9,application/json", "application/json"));
  CHECK(accept_lists("Application/JSON", "application/json"));
  CHECK_FALSE(accept_lists("application/json", "text/event-stream"));
  CHECK_FALSE(accept_lists("*/*", "application/json"));
  CHECK_FALSE(accept_lists("", "application/json"));
}
