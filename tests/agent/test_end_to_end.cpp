// The whole loop end to end: a scripted model, and the real tools as `scout run` builds them from
// a config — web_search over a real offline index, run_code in the real bubblewrap sandbox,
// fetch_url against a real HTTP server on 127.0.0.1.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "agent/config.h"
#include "agent/loop.h"
#include "agent/toolset.h"
#include "scripted_backend.h"
#include "tests/support/local_http_server.h"
#include "tests/tools/registry/registry_test_support.h"
#include "tools/search/offline_index.h"

namespace {

using namespace scout;
using namespace scout::agent;
using scout::agent::testing::ScriptedBackend;
using scout::tools::testing::run_to_completion;

std::string call(const std::string& name, const nlohmann::ordered_json& arguments) {
  return "<tool_call>\n" + nlohmann::ordered_json{{"name", name}, {"arguments", arguments}}.dump() + "\n</tool_call>";
}

std::filesystem::path scratch(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("scout-e2e-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("a scripted model searches, runs code, fetches a page and answers with real tools", "[loop][e2e]") {
  const auto dir = scratch("tools");
  {
    std::ofstream(dir / "taskgroup.md") << "# asyncio.TaskGroup\n\nTaskGroup was added in Python 3.11 as a safer "
                                            "alternative to gather for structured concurrency.\n";
    std::ofstream(dir / "other.md") << "# Lists\n\nLists are mutable sequences.\n";
  }
  {
    auto index = OfflineIndex::create(dir / "index.sqlite");
    REQUIRE(index);
    REQUIRE(index->add_file(dir / "taskgroup.md"));
    REQUIRE(index->add_file(dir / "other.md"));
  }
  test::LocalHttpServer server([](const test::HttpExchange& req, test::RawConnection& conn) {
    if (req.target == "/release-notes")
      conn.write(test::http_response(200, "text/html; charset=utf-8",
                                     "<html><head><title>What's New In Python 3.11</title></head><body>"
                                     "<nav>menu</nav><p>asyncio.TaskGroup is new.</p></body></html>"));
    else
      conn.write(test::http_response(404, "text/plain", "not here"));
  });

  const std::string toml = "[search]\nprovider = \"offline\"\nindex = \"" + (dir / "index.sqlite").string() +
                           "\"\n[fetch]\nallow_private_addresses = true\n";
  auto config = parse_config(toml, dir / "config.toml", [](const std::string&) { return std::nullopt; });
  REQUIRE(config);
  auto registry = build_toolset(*config);
  REQUIRE(registry);

  ScriptedBackend backend({
      "<think>\nSearch the docs and check the arithmetic.\n</think>\n\n" +
          call("web_search", {{"query", "TaskGroup added"}}) +
          call("run_code", {{"language", "python"}, {"code", "print(3 * 11 + 9)"}}),
      call("fetch_url", {{"url", server.url("/release-notes")}}),
      "TaskGroup arrived in Python 3.11 (42 is just arithmetic).",
  });
  asio::io_context io;
  TraceWriter trace = TraceWriter::disabled();
  Loop loop(io.get_executor(), backend, **registry, LoopOptions{}, trace);
  auto r = run_to_completion(io, loop.run("When was asyncio.TaskGroup added?"));

  CHECK(r.status == RunStatus::answered);
  CHECK(r.steps == 3);
  CHECK(r.tool_calls == 3);
  REQUIRE(backend.requests.size() == 3);
  const auto& after_first = backend.requests[1];
  REQUIRE(after_first.size() == 4);
  CHECK(after_first[2].name == "web_search");
  CHECK_THAT(after_first[2].content, Catch::Contains("asyncio.TaskGroup") && Catch::Contains("taskgroup.md"));
  CHECK(after_first[3].name == "run_code");
  CHECK_THAT(after_first[3].content, Catch::Contains("42"));
  const auto& after_second = backend.requests[2];
  REQUIRE(after_second.size() == 6);
  CHECK(after_second[5].name == "fetch_url");
  CHECK_THAT(after_second[5].content, Catch::Contains("What's New In Python 3.11") &&
                                          Catch::Contains("asyncio.TaskGroup is new."));
  CHECK(r.answer == "TaskGroup arrived in Python 3.11 (42 is just arithmetic).");
  // The sources a --cite would list: the search hit, then the fetched page; run_code adds none.
  REQUIRE(r.sources.size() == 2);
  CHECK(r.sources[0].url == "file://" + (dir / "taskgroup.md").string());
  CHECK(r.sources[1].url == server.url("/release-notes"));
  CHECK(r.sources[1].title == "What's New In Python 3.11");
  std::filesystem::remove_all(dir);
}

TEST_CASE("fetch_url refuses a loopback page the model asks for under the default policy", "[loop][e2e]") {
  test::LocalHttpServer server([](const test::HttpExchange&, test::RawConnection& conn) {
    conn.write(test::http_response(200, "text/plain", "internal secret"));
  });
  auto config = parse_config("", "config.toml", [](const std::string&) { return std::nullopt; });
  REQUIRE(config);
  auto registry = build_toolset(*config, std::vector<std::string>{"fetch_url"});
  REQUIRE(registry);
  ScriptedBackend backend({call("fetch_url", {{"url", server.url("/admin")}}), "I could not read it."});
  asio::io_context io;
  TraceWriter trace = TraceWriter::disabled();
  Loop loop(io.get_executor(), backend, **registry, LoopOptions{}, trace);
  auto r = run_to_completion(io, loop.run("Read the admin page"));
  CHECK(r.status == RunStatus::answered);
  REQUIRE(backend.requests.size() == 2);
  CHECK_THAT(backend.requests[1][2].content, Catch::StartsWith("Error: ") && !Catch::Contains("internal secret"));
  CHECK(server.requests_served() == 0);
}
