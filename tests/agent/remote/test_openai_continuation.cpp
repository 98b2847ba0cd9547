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

TEST_CASE("a remote turn pauses on an in-thought search and resumes through the server's continuation",
          "[remote][thought]") {
  const auto dir = std::filesystem::temp_directory_path() / ("scout-remote-thought-" + std::to_string(::getpid()));
  auto registry = offline_search(dir);
  using Continuation = OpenAiOptions::Continuation;
  for (const Continuation style : {Continuation::completions, Continuation::deepseek}) {
    // The first turn streams its reasoning apart (reasoning_content); the continuation comes as
    // raw text (POST /completions: still inside the thinking) or as a chat delta (DeepSeek).
    const std::string rest = style == Continuation::completions
                                 ? R"({"content": "\nSo it is Canberra.\n</think>\n\nCanberra."})"
                                 : R"({"reasoning": "\nSo it is Canberra.", "content": "Canberra."})";
    test::ReplayServer server(R"({"chunk_chars": 6, "responses": [
      {"reasoning": "I should check.\n<search>capital of Australia</search>\nNever read: the stream was closed.",
       "content": "never"},
      )" + rest + "]}");
    OpenAiOptions options = testing::options_for(server.base_url());
    options.continuation = style;
    options.format = ChatFormat(ChatFormat::Kind::qwen3);
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
    CHECK(requests[0].target == "/v1/chat/completions");
    CHECK(first["messages"][0]["content"].get<std::string>().find("<search>") != std::string::npos);  // taught
    const std::string partial_reasoning = "I should check.\n<search>capital of Australia</search>\n<result>\n";
    if (style == Continuation::completions) {
      // Scout's own rendering of the conversation, left inside the open think block.
      CHECK(requests[1].target == "/v1/completions");
      const std::string prompt = second["prompt"].get<std::string>();
      CHECK(prompt.rfind("<|im_start|>system\n", 0) == 0);
      CHECK(prompt.find("<|im_start|>user\nWhat is the capital of Australia?<|im_end|>\n<|im_start|>assistant\n<think>\n" +
                        partial_reasoning) != std::string::npos);
      CHECK(prompt.find("is Canberra.") != std::string::npos);  // the search hit's snippet
      CHECK(prompt.substr(prompt.size() - 10) == "</result>\n");
      CHECK(second["stop"] == nlohmann::json::array({"<|im_end|>", "<|endoftext|>"}));
    } else {
      CHECK(requests[1].target == "/v1/chat/completions");
      const auto& last = second["messages"].back();
      CHECK(last["role"] == "assistant");
      CHECK(last["prefix"] == true);
      const std::string partial = last["content"].get<std::string>();
      CHECK(partial.rfind("<think>\n" + partial_reasoning, 0) == 0);
      CHECK(partial.substr(partial.size() - 10) == "</result>\n");
      CHECK(second["messages"].size() == first["messages"].size() + 1);
    }
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
  options.continuation = OpenAiOptions::Continuation::completions;
  options.format = ChatFormat(ChatFormat::Kind::qwen3);
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
