// The replay server itself: a real client (the official OpenAI npm package) reads its streams,
// and the scout_replay_server executable serves a script for tests of the scout command.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "tests/common/process.h"
#include "tests/support/replay_server.h"
#include "tools/http/http_client.h"

namespace scout::test {
namespace {

using json = nlohmann::json;
namespace http = tools::http;

// A GET or POST with Scout's own HTTP client.
http::Response fetch(const std::string& url, const std::string& body = "") {
  boost::asio::io_context io;
  http::Client client(io.get_executor());
  http::Request request;
  request.url = url;
  if (!body.empty()) {
    request.method = "POST";
    request.body = body;
    request.headers.emplace_back("Content-Type", "application/json");
  }
  http::Options options;
  options.address_policy.allow_private = true;
  std::optional<http::Response> out;
  boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
    auto r = co_await client.fetch(request, options);
    if (r) out = std::move(*r);
  }, boost::asio::detached);
  io.run();
  REQUIRE(out.has_value());
  return *out;
}

const char* kTurnScript = R"({"model": "replay-qwen3", "chunk_chars": 3, "responses": [
  {"reasoning": "Look it up.", "content": "Searching now.",
   "tool_calls": [{"id": "call_w", "name": "web_search", "arguments": {"query": "Paris weather"}},
                  {"id": "call_x", "name": "web_search", "arguments": {"query": "Paris forecast"}}],
   "usage": {"prompt_tokens": 42, "completion_tokens": 17, "total_tokens": 59}},
  {"content": "It is sunny in Paris.", "finish_reason": "stop"}
]})";

TEST_CASE("the official OpenAI client streams turns and tool calls from the replay server", "[remote]") {
  ReplayServer server(kTurnScript);
  const auto run = run_command("cd " + shell_quote(SCOUT_REFERENCE_DIR) + " && node openai_client_stream.mjs " +
                               shell_quote(server.base_url()) + " replay-qwen3 2>&1");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  const json out = json::parse(run.output);
  CHECK(out["models"] == json::array({"replay-qwen3"}));

  const json& raw = out["raw"];
  CHECK(raw["reasoning"] == "Look it up.");
  CHECK(raw["content"] == "Searching now.");
  CHECK(raw["finish_reason"] == "tool_calls");
  CHECK(raw["usage"]["prompt_tokens"] == 42);
  CHECK(raw["chunks"].get<int>() > 10);
  REQUIRE(raw["tool_calls"].size() == 2);
  CHECK(raw["tool_calls"][0]["id"] == "call_w");
  CHECK(json::parse(raw["tool_calls"][0]["arguments"].get<std::string>()) == json{{"query", "Paris weather"}});
  CHECK(raw["tool_calls"][1]["id"] == "call_x");

  const json& helper = out["helper"];
  CHECK(helper["content"] == "It is sunny in Paris.");
  CHECK(helper["finish_reason"] == "stop");
  CHECK(helper["tool_calls"].empty());

  // What the official client sent is what the server recorded.
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].header("Authorization") == "Bearer sk-reference-client");
  CHECK(requests[0].json()["stream_options"]["include_usage"] == true);
  CHECK(requests[0].json()["tools"][0]["function"]["name"] == "web_search");
}

TEST_CASE("the replay server lists its model and says when its script has run out", "[remote]") {
  ReplayServer server(R"({"model": "m1", "responses": [{"content": "only one"}]})");
  const http::Response models = fetch(server.base_url() + "/models");
  CHECK(models.status == 200);
  CHECK(json::parse(models.body)["data"][0]["id"] == "m1");

  const std::string body = R"({"model": "m1", "messages": [{"role": "user", "content": "hi"}]})";
  const http::Response first = fetch(server.base_url() + "/chat/completions", body);
  CHECK(first.status == 200);
  CHECK(json::parse(first.body)["choices"][0]["message"]["content"] == "only one");  // not streamed: one object

  const http::Response second = fetch(server.base_url() + "/chat/completions", body);
  CHECK(second.status == 400);
  CHECK_THAT(second.body, Catch::Contains("no response left for request 2"));
  CHECK(server.responses_used() == 1);
  CHECK(server.requests().size() == 2);
}

TEST_CASE("a malformed replay script is refused with the reason", "[remote]") {
  CHECK_THROWS_WITH(ReplayServer("{"), Catch::Contains("not JSON"));
  CHECK_THROWS_WITH(ReplayServer(R"([{"content": 5}])"), Catch::Contains("response 1") && Catch::Contains("content"));
  CHECK_THROWS_WITH(ReplayServer(R"([{"cut_after_chunks": -1}])"), Catch::Contains("cut_after_chunks"));
}

TEST_CASE("the replay server executable writes its port, logs requests and stops when stdin closes", "[remote]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("scout_replay_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  const auto script = dir / "script.json", port_file = dir / "port", log = dir / "requests.jsonl";
  std::ofstream(script) << kTurnScript;

  int to_child[2];
  REQUIRE(::pipe(to_child) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(to_child[0], STDIN_FILENO);
    ::close(to_child[0]);
    ::close(to_child[1]);
    ::execl(SCOUT_REPLAY_SERVER, SCOUT_REPLAY_SERVER, "--script", script.c_str(), "--port-file", port_file.c_str(),
            "--request-log", log.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(to_child[0]);

  // Wait for the port (a hang guard of 30 s, not a timing assertion).
  std::string port;
  for (int i = 0; i < 3000 && port.empty(); ++i) {
    std::ifstream(port_file) >> port;
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE_FALSE(port.empty());
  const http::Response models = fetch("http://127.0.0.1:" + port + "/v1/models");
  CHECK(json::parse(models.body)["data"][0]["id"] == "replay-qwen3");
  const http::Response turn = fetch("http://127.0.0.1:" + port + "/v1/chat/completions",
                                    R"({"model": "replay-qwen3", "stream": true, "messages": []})");
  CHECK(turn.status == 200);
  CHECK_THAT(turn.body, Catch::Contains("data: [DONE]"));

  ::close(to_child[1]);  // the server's stdin closes: it stops
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);

  std::ifstream log_in(log);
  std::string line;
  REQUIRE(std::getline(log_in, line));
  const json logged = json::parse(line);
  CHECK(logged["target"] == "/v1/chat/completions");
  CHECK(logged["body"]["stream"] == true);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace scout::test
