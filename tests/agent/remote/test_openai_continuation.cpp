// Searching inside the thinking on a remote server that continues a partial assistant message:
// the stream is closed right after the model's <search>…</search>, the real offline index
// answers, and the next request sends the turn so far (with the result) for the server to go on,
// marked the way each server family expects.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "agent/config.h"
#include "agent/loop.h"
#include "agent/toolset.h"
#include "tests/agent/remote/remote_test_support.h"
#include "tests/tools/registry/registry_test_support.h"
#include "tools/search/offline_index.h"

namespace scout::agent::remote {
namespace {

using scout::tools::testing::run_to_completion;

std::unique_ptr<tools::Registry> offline_search(const std::filesystem::path& dir) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "australia.md") << "# Australia\n\nThe capital of Australia is Canberra.\n";
  auto index = OfflineIndex::create(dir / "index.sqlite");
  REQUIRE(index);
  REQUIRE(index->add_file(dir / "australia.md"));
  auto config = parse_config("[search]\nprovider = \"offline\"\nindex = \"" + (dir / "index.sqlite").string() + "\"\n",
                             dir / "config.toml", [](const std::string&) { return std::nullopt; });
  REQUIRE(config);
  auto registry = build_toolset(*config, std::vector<std::string>{"web_search"});
  REQUIRE(registry);
  return std::move(*registry);
}

}  // namespace

TEST_CASE("a remote turn pauses on an in-thought search and the server continues the partial message",
          "[remote][thought]") {
  const auto dir = std::filesystem::temp_directory_path() / ("scout-remote-thought-" + std::to_string(::getpid()));
  auto registry = offline_search(dir);
  using Continuation = OpenAiOptions::Continuation;
  for (const Continuation style : {Continuation::final_message, Continuation::vllm, Continuation::deepseek}) {
    test::ReplayServer server(R"({"chunk_chars": 6, "responses": [
      {"reasoning": "I should check.\n<search>capital of Australia</search>\nNever read: the stream was closed.",
       "content": "never"},
      {"reasoning": "\nSo it is Canberra.", "content": "Canberra."}
    ]})");
    OpenAiOptions options = testing::options_for(server.base_url());
    options.continuation = style;
    asio::io_context io;
    OpenAiBackend backend(io.get_executor(), options);
    TraceWriter trace = TraceWriter::disabled();
    Loop loop(io.get_executor(), backend, *registry, LoopOptions{}, trace);
    auto r = run_to_completion(io, loop.run("What is the capital of Australia?"));

    INFO(static_cast<int>(style) << " " << r.detail);
    REQUIRE(r.status == RunStatus::answered);
    CHECK(r.answer == "Canberra.");
    CHECK(r.steps == 1);
    CHECK(r.thought_calls == 1);
    const Message& turn = r.messages.back();
    CHECK(turn.reasoning.find("Never read") == std::string::npos);
    CHECK(turn.reasoning.find("<search>capital of Australia</search>\n<result>\n") != std::string::npos);
    CHECK(turn.reasoning.find("\nSo it is Canberra.") != std::string::npos);

    const auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    const auto first = requests[0].json();
    const auto second = requests[1].json();
    CHECK(first["messages"][0]["content"].get<std::string>().find("<search>") != std::string::npos);  // taught
    const auto& last = second["messages"].back();
    CHECK(last["role"] == "assistant");
    const std::string partial = last["content"].get<std::string>();
    CHECK(partial.rfind("<think>\nI should check.\n<search>capital of Australia</search>\n<result>\n", 0) == 0);
    CHECK(partial.find("is Canberra.") != std::string::npos);  // the search hit's snippet
    CHECK(partial.size() >= 10);
    CHECK(partial.substr(partial.size() - 10) == "</result>\n");
    CHECK(second["messages"].size() == first["messages"].size() + 1);
    CHECK(second.contains("continue_final_message") == (style == Continuation::vllm));
    CHECK(second.contains("add_generation_prompt") == (style == Continuation::vllm));
    CHECK(last.contains("prefix") == (style == Continuation::deepseek));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a server that writes its thinking inline is read as thinking until </think> after a resume",
          "[remote][thought]") {
  const auto dir = std::filesystem::temp_directory_path() / ("scout-remote-inline-" + std::to_string(::getpid()));
  auto registry = offline_search(dir);
  test::ReplayServer server(R"({"chunk_chars": 4, "responses": [
    {"content": "<think>\nLook it up.\n<search>capital of Australia</search>\nnever read"},
    {"content": "\nCanberra, then.\n</think>\n\nCanberra."}
  ]})");
  OpenAiOptions options = testing::options_for(server.base_url());
  options.continuation = OpenAiOptions::Continuation::final_message;
  asio::io_context io;
  OpenAiBackend backend(io.get_executor(), options);
  TraceWriter trace = TraceWriter::disabled();
  Loop loop(io.get_executor(), backend, *registry, LoopOptions{}, trace);
  auto r = run_to_completion(io, loop.run("Capital of Australia?"));
  INFO(r.detail);
  REQUIRE(r.status == RunStatus::answered);
  CHECK(r.answer == "Canberra.");
  const Message& turn = r.messages.back();
  CHECK(turn.reasoning.find("\nLook it up.\n<search>capital of Australia</search>\n<result>\n") == 0);
  CHECK(turn.reasoning.find("</result>\n\nCanberra, then.\n") != std::string::npos);
  CHECK(turn.reasoning.find("never read") == std::string::npos);
  CHECK(r.messages.size() == 3);  // system, user, the one turn: no issue was reported back
  std::filesystem::remove_all(dir);
}

}  // namespace scout::agent::remote
