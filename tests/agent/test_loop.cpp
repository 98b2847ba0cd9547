// The agent loop driven end to end by a scripted model and real tools through the registry.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "agent/loop.h"
#include "scripted_backend.h"
#include "tests/tools/registry/registry_test_support.h"

namespace {

using namespace scout;
using namespace scout::agent;
using scout::agent::testing::kFail;
using scout::agent::testing::kHang;
using scout::agent::testing::ScriptedBackend;
using scout::tools::Json;
using scout::tools::testing::EchoTool;
using scout::tools::testing::run_to_completion;
using scout::tools::testing::WaitCounters;
using scout::tools::testing::WaitTool;
using scout::tools::testing::when;

Json text_schema() {
  return Json{{"type", "object"},
              {"properties", {{"text", {{"type", "string"}}}}},
              {"required", Json::array({"text"})}};
}

std::string call(const std::string& name, const std::string& arguments_json) {
  return "<tool_call>\n{\"name\": \"" + name + "\", \"arguments\": " + arguments_json + "}\n</tool_call>";
}

std::string temp_trace(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("scout-loop-test-" + name + ".jsonl")).string();
}

std::vector<Json> read_trace(const std::string& path) {
  std::vector<Json> events;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) events.push_back(Json::parse(line));
  return events;
}

struct Fixture {
  asio::io_context io;
  tools::Registry registry;
  std::shared_ptr<WaitCounters> counters = std::make_shared<WaitCounters>();
  TraceWriter trace = TraceWriter::disabled();
  LoopOptions options;

  Fixture() {
    REQUIRE(registry.add(std::make_shared<EchoTool>(text_schema())));
    REQUIRE(registry.add(std::make_shared<WaitTool>(counters)));
  }
  RunResult run(ScriptedBackend& backend, const std::string& task = "What is 2+2?", LoopObserver observer = {},
                std::function<void(Loop&)> setup = {}) {
    Loop loop(io.get_executor(), backend, registry, options, trace, std::move(observer));
    if (setup) setup(loop);
    return run_to_completion(io, loop.run(task));
  }
};

}  // namespace

TEST_CASE("a turn without tool calls is the answer", "[loop]") {
  Fixture f;
  ScriptedBackend backend({"<think>\nTwo and two.\n</think>\n\nThe answer is 4."});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::answered);
  CHECK(r.answer == "The answer is 4.");
  CHECK(r.steps == 1);
  CHECK(r.tool_calls == 0);
  REQUIRE(r.messages.size() == 2);
  CHECK(r.messages[1].reasoning == "\nTwo and two.\n");
  CHECK(r.detail.empty());
}

TEST_CASE("a tool call runs and its result is the model's next observation", "[loop]") {
  Fixture f;
  ScriptedBackend backend({"Let me check." + call("echo", R"({"text": "hello"})"), "It said hello."});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::answered);
  CHECK(r.answer == "It said hello.");
  CHECK(r.steps == 2);
  CHECK(r.tool_calls == 1);
  REQUIRE(backend.requests.size() == 2);
  const auto& seen = backend.requests[1];
  REQUIRE(seen.size() == 3);  // the task, the turn with the call, its result
  CHECK(seen[1].role == Role::assistant);
  REQUIRE(seen[1].tool_calls.size() == 1);
  CHECK(seen[2].role == Role::tool);
  CHECK(seen[2].tool_call_id == seen[1].tool_calls[0].id);
  CHECK(seen[2].name == "echo");
  CHECK(seen[2].content == R"({"text":"hello"})");
}

TEST_CASE("several calls in one turn run concurrently and their results keep the call order", "[loop]") {
  Fixture f;
  ScriptedBackend backend({call("wait", R"({"ms": 300})") + call("echo", R"({"text": "b"})") +
                               call("wait", R"({"ms": 300})"),
                           "done"});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::answered);
  CHECK(f.counters->max_active == 2);  // both waits were in flight together
  const auto& seen = backend.requests[1];
  REQUIRE(seen.size() == 5);
  CHECK(seen[2].content == "waited");
  CHECK(seen[3].content == R"({"text":"b"})");
  CHECK(seen[4].content == "waited");
}

TEST_CASE("max_parallel_tools bounds how many calls run at once", "[loop]") {
  Fixture f;
  f.options.max_parallel_tools = 1;
  ScriptedBackend backend({call("wait", R"({"ms": 50})") + call("wait", R"({"ms": 50})"), "done"});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::answered);
  CHECK(f.counters->entered == 2);
  CHECK(f.counters->max_active == 1);
}

TEST_CASE("a malformed tool call is reported to the model, which corrects it", "[loop]") {
  Fixture f;
  ScriptedBackend backend({"<tool_call>\n{\"name\": \"echo\", \"arguments\": {\"text\": \"hi\"}\n</tool_call>",
                           call("echo", R"({"text": "hi"})"), "fixed"});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::answered);
  CHECK(r.steps == 3);
  CHECK(r.tool_calls == 1);
  const auto& seen = backend.requests[1];
  REQUIRE(seen.size() == 3);
  CHECK(seen[2].role == Role::tool);
  CHECK_THAT(seen[2].content, Catch::Contains("not valid JSON"));
}

TEST_CASE("an unknown tool and invalid arguments come back as errors the model can act on", "[loop]") {
  Fixture f;
  ScriptedBackend backend({call("search_the_web", R"({"q": "x"})") + call("echo", R"({"txt": "x"})"), "ok"});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::answered);
  const auto& seen = backend.requests[1];
  REQUIRE(seen.size() == 4);
  CHECK_THAT(seen[2].content, Catch::StartsWith("Error: ") && Catch::Contains("echo"));  // lists known tools
  CHECK_THAT(seen[3].content, Catch::StartsWith("Error: ") && Catch::Contains("text"));
}

TEST_CASE("a long tool result is cut at max_result_chars with a visible marker", "[loop]") {
  Fixture f;
  f.options.max_result_chars = 40;
  const std::string long_text(500, 'x');
  ScriptedBackend backend({call("echo", "{\"text\": \"" + long_text + "\"}"), "ok"});
  auto r = f.run(backend);
  const std::string& seen = backend.requests[1][2].content;
  CHECK(seen.substr(0, 40) == R"({"text":")" + std::string(31, 'x'));
  CHECK_THAT(seen, Catch::Contains("[truncated: showing the first 40 of 511 bytes]"));
}

TEST_CASE("a model that keeps calling tools stops at max_steps", "[loop]") {
  Fixture f;
  f.options.budgets.max_steps = 3;
  const std::string again = call("echo", R"({"text": "again"})");
  ScriptedBackend backend({again, again, again, again});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::max_steps);
  CHECK(r.steps == 3);
  CHECK(r.tool_calls == 3);
  CHECK_THAT(r.detail, Catch::Contains("3 steps"));
}

TEST_CASE("the tool-call budget answers calls beyond it and ends the run when the model insists", "[loop]") {
  Fixture f;
  f.options.budgets.max_tool_calls = 2;
  const std::string three = call("echo", R"({"text": "1"})") + call("echo", R"({"text": "2"})") +
                            call("echo", R"({"text": "3"})");
  ScriptedBackend backend({three, call("echo", R"({"text": "4"})")});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::budget);
  CHECK(r.tool_calls == 2);
  CHECK_THAT(backend.requests[1][4].content, Catch::Contains("budget"));
  CHECK_THAT(r.detail, Catch::Contains("tool-call budget"));
}

TEST_CASE("the generated-token budget caps each turn and ends the run when spent", "[loop]") {
  Fixture f;
  f.options.budgets.max_generated_tokens = 30;
  const std::string again = call("echo", R"({"text": "again"})");  // ~16 tokens by the script's count
  ScriptedBackend backend({again, again, again});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::budget);
  REQUIRE(backend.max_tokens_seen.size() == 2);
  CHECK(backend.max_tokens_seen[0] == 30);
  const std::int64_t first_turn = static_cast<std::int64_t>(again.size() + 3) / 4;  // the script's count
  CHECK(backend.max_tokens_seen[1] == 30 - first_turn);
  CHECK(r.usage.completion_tokens == 30);
  CHECK_THAT(r.detail, Catch::Contains("generated-token budget"));
}

TEST_CASE("a turn cut because the run's token budget ran out ends the run as budget", "[loop]") {
  Fixture f;
  f.options.budgets.max_generated_tokens = 4;
  ScriptedBackend backend({"This answer is far longer than four tokens."});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::budget);
  CHECK_THAT(r.detail, Catch::Contains("generated-token budget (4 tokens)"));
}

TEST_CASE("a turn cut by the per-turn token cap ends the run as length", "[loop]") {
  Fixture f;
  f.options.budgets.max_turn_tokens = 4;
  ScriptedBackend backend({"This answer is far longer than four tokens."});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::length);
  CHECK_THAT(r.detail, Catch::Contains("4 tokens"));
}

TEST_CASE("stop() during a tool call cancels the tool and ends the run as cancelled", "[loop]") {
  Fixture f;
  ScriptedBackend backend({call("wait", R"({"ms": 600000})"), "never reached"});
  auto r = f.run(backend, "task", {}, [&](Loop& loop) {
    when(f.io, [&] { return f.counters->active == 1; }, [&] { loop.stop(RunStatus::cancelled, "interrupted"); });
  });
  CHECK(r.status == RunStatus::cancelled);
  CHECK(r.detail == "interrupted");
  CHECK(f.counters->cancelled == 1);
  CHECK(backend.requests.size() == 1);
}

TEST_CASE("stop() during generation stops the model and keeps what it wrote", "[loop]") {
  Fixture f;
  ScriptedBackend backend({kHang});
  bool thinking_seen = false;
  auto r = f.run(
      backend, "task",
      [&](const LoopEvent& e) {
        if (e.kind == LoopEvent::Kind::model && e.model->kind == StreamEvent::Kind::thinking_text) thinking_seen = true;
      },
      [&](Loop& loop) { when(f.io, [&] { return thinking_seen; }, [&] { loop.stop(RunStatus::cancelled, "interrupted"); }); });
  CHECK(r.status == RunStatus::cancelled);
  REQUIRE(r.messages.size() == 2);
  CHECK(r.messages[1].reasoning == "working on it");
}

TEST_CASE("the wall-time budget stops a run that would never end", "[loop]") {
  Fixture f;
  f.options.budgets.max_wall = std::chrono::milliseconds(50);
  ScriptedBackend backend({kHang});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::budget);
  CHECK_THAT(r.detail, Catch::Contains("wall-time"));
}

TEST_CASE("a backend failure ends the run with its message", "[loop]") {
  Fixture f;
  ScriptedBackend backend({call("echo", R"({"text": "x"})"), kFail});
  auto r = f.run(backend);
  CHECK(r.status == RunStatus::backend_error);
  CHECK(r.detail == "scripted backend failure");
  CHECK(r.steps == 1);
}

TEST_CASE("every event of a run is in the trace, one JSON object per line", "[loop][trace]") {
  Fixture f;
  const std::string path = temp_trace("events");
  auto trace = TraceWriter::open(path);
  REQUIRE(trace);
  f.trace = std::move(*trace);
  ScriptedBackend backend({"<think>Look it up.</think>" + call("echo", R"({"text": "x"})"), "Done."});
  auto r = f.run(backend);
  REQUIRE(r.status == RunStatus::answered);
  f.trace = TraceWriter::disabled();  // closes the file
  std::vector<std::string> types;
  for (auto& e : read_trace(path)) {
    types.push_back(e["type"]);
    CHECK(e.contains("t_ms"));
  }
  CHECK(types == std::vector<std::string>{"run_start", "turn_start", "thinking", "turn_end", "tool_call",
                                          "tool_result", "turn_start", "answer", "turn_end", "run_end"});
  const auto events = read_trace(path);
  CHECK(events.front()["task"] == "What is 2+2?");
  CHECK(events[2]["text"] == "Look it up.");
  CHECK(events[5]["text"] == R"({"text":"x"})");
  CHECK(events.back()["status"] == "answered");
  CHECK(events.back()["answer"] == "Done.");
  std::filesystem::remove(path);
}
