// The registry's policies, each shown on a small test tool: lookup, validation before the
// call, defaults, deadlines, cancellation, concurrency and error containment. No assertion
// depends on how long anything took.
#include <catch2/catch.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "tests/tools/registry/registry_test_support.h"
#include "tools/registry/registry.h"

using namespace scout::tools;
using namespace scout::tools::testing;
using namespace std::chrono_literals;

namespace {

Json echo_schema() {
  return Json::parse(R"({
    "type": "object",
    "properties": {
      "text": {"type": "string"},
      "times": {"type": "integer", "minimum": 1, "default": 1}
    },
    "required": ["text"],
    "additionalProperties": false
  })");
}

Registry make_registry(std::shared_ptr<WaitCounters> counters = std::make_shared<WaitCounters>()) {
  Registry r;
  REQUIRE(r.add(std::make_shared<EchoTool>(echo_schema())));
  REQUIRE(r.add(std::make_shared<WaitTool>(counters)));
  REQUIRE(r.add(std::make_shared<ThrowingTool>()));
  return r;
}

}  // namespace

TEST_CASE("A valid call reaches the tool and returns its output", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(io, r.call("echo", Json{{"text", "hi"}, {"times", 2}}, {}));
  CHECK_FALSE(out.is_error);
  REQUIRE(out.structured);
  CHECK((*out.structured)["text"] == "hi");
  CHECK((*out.structured)["times"] == 2);
}

TEST_CASE("Defaults are applied before the tool sees the arguments", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(io, r.call("echo", Json{{"text", "hi"}}, {}));
  REQUIRE_FALSE(out.is_error);
  CHECK(out.text == R"({"text":"hi","times":1})");
}

TEST_CASE("Invalid arguments are refused before the tool runs, naming each field", "[registry]") {
  asio::io_context io;
  auto counters = std::make_shared<WaitCounters>();
  Registry r = make_registry(counters);

  ToolOutput out = run_to_completion(io, r.call("echo", Json{{"text", 5}, {"loud", true}}, {}));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Invalid arguments for tool 'echo'") &&
                           Catch::Contains("arguments.text: expected a string") &&
                           Catch::Contains("arguments.loud: is not a known property"));
  REQUIRE(out.structured);
  CHECK((*out.structured)["invalid_arguments"] == Json::array({"arguments.text", "arguments.loud"}));

  ToolOutput wait = run_to_completion(io, r.call("wait", Json{{"ms", -1}}, {}));
  CHECK(wait.is_error);
  CHECK_THAT(wait.text, Catch::Contains("arguments.ms: must be at least 0"));
  CHECK(counters->entered == 0);
}

TEST_CASE("Arguments that are not an object are refused", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(io, r.call("echo", Json("text"), {}));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("arguments: expected an object"));
}

TEST_CASE("An unknown tool is refused with the names of the known tools", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(io, r.call("web_search", Json::object(), {}));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Unknown tool 'web_search'") && Catch::Contains("broken, echo, wait"));
}

TEST_CASE("Registering two tools with the same name is an error", "[registry]") {
  Registry r;
  REQUIRE(r.add(std::make_shared<EchoTool>(echo_schema())));
  auto again = r.add(std::make_shared<EchoTool>(echo_schema()));
  REQUIRE_FALSE(again);
  CHECK_THAT(again.error().message, Catch::Contains("already registered"));
  CHECK(r.list().size() == 1);
}

TEST_CASE("Tools with bad names or non-object schemas are not registered", "[registry]") {
  Registry r;
  CHECK_FALSE(r.add(std::make_shared<EchoTool>(echo_schema(), "has space")));
  CHECK_FALSE(r.add(std::make_shared<EchoTool>(echo_schema(), "")));
  CHECK_FALSE(r.add(std::make_shared<EchoTool>(Json{{"type", "string"}}, "stringy")));
  CHECK_FALSE(r.add(nullptr));
  CHECK(r.list().empty());
}

TEST_CASE("The list gives every tool's name, description and schema, sorted by name", "[registry]") {
  Registry r = make_registry();
  auto tools = r.list();
  REQUIRE(tools.size() == 3);
  CHECK(tools[0].name == "broken");
  CHECK(tools[1].name == "echo");
  CHECK(tools[1].description == "Returns its arguments.");
  CHECK(tools[1].parameters == echo_schema());
  CHECK(tools[2].name == "wait");
  CHECK(r.find("echo") != nullptr);
  CHECK(r.find("nope") == nullptr);
}

TEST_CASE("A tool that throws is reported as a tool error", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(io, r.call("broken", Json::object(), {}));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Tool 'broken' failed") && Catch::Contains("internal invariant broken"));
}

TEST_CASE("A null argument value counts as no arguments", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(io, r.call("broken", Json(), {}));
  CHECK_THAT(out.text, Catch::Contains("internal invariant broken"));  // validation passed
}

TEST_CASE("A tool that overruns its deadline is cancelled and reported as timed out", "[registry]") {
  asio::io_context io;
  auto counters = std::make_shared<WaitCounters>();
  Registry r = make_registry(counters);
  ToolContext ctx;
  ctx.deadline = ToolContext::Clock::now() + 50ms;
  ToolOutput out = run_to_completion(io, r.call("wait", Json{{"ms", 600000}}, ctx));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Tool 'wait' timed out"));
  REQUIRE(out.structured);
  CHECK((*out.structured)["timed_out"] == true);
  CHECK(counters->entered == 1);
  CHECK(counters->cancelled == 1);  // the tool's own wait was cancelled, not abandoned
  CHECK(counters->active == 0);
}

TEST_CASE("A call whose deadline has already passed does not start the tool", "[registry]") {
  asio::io_context io;
  auto counters = std::make_shared<WaitCounters>();
  Registry r = make_registry(counters);
  ToolContext ctx;
  ctx.deadline = ToolContext::Clock::now() - 1s;
  ToolOutput out = run_to_completion(io, r.call("wait", Json{{"ms", 1}}, ctx));
  CHECK_THAT(out.text, Catch::Contains("timed out"));
  CHECK(counters->entered == 0);
}

TEST_CASE("A tool that finishes before its deadline returns its own output", "[registry]") {
  asio::io_context io;
  auto counters = std::make_shared<WaitCounters>();
  Registry r = make_registry(counters);
  ToolContext ctx;
  ctx.deadline = ToolContext::Clock::now() + 600s;
  ToolOutput out = run_to_completion(io, r.call("wait", Json{{"ms", 1}}, ctx));
  CHECK_FALSE(out.is_error);
  CHECK(out.text == "waited");
  CHECK(counters->cancelled == 0);
}

TEST_CASE("Emitting on the caller's cancellation slot cancels the tool", "[registry]") {
  asio::io_context io;
  auto counters = std::make_shared<WaitCounters>();
  Registry r = make_registry(counters);
  asio::cancellation_signal signal;
  ToolContext ctx;
  ctx.deadline = ToolContext::Clock::now() + 600s;
  ctx.cancel = signal.slot();
  when(io, [&] { return counters->entered == 1; }, [&] { signal.emit(asio::cancellation_type::terminal); });
  ToolOutput out = run_to_completion(io, r.call("wait", Json{{"ms", 600000}}, ctx));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Tool 'wait' was cancelled"));
  REQUIRE(out.structured);
  CHECK((*out.structured)["cancelled"] == true);
  CHECK(counters->cancelled == 1);
}

TEST_CASE("Cancelling the awaiting coroutine cancels the tool", "[registry]") {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context io;
  auto counters = std::make_shared<WaitCounters>();
  Registry r = make_registry(counters);
  auto race = [&]() -> asio::awaitable<int> {
    asio::steady_timer soon(co_await asio::this_coro::executor, 10ms);
    // Arguments built in their own statement: GCC 12 rejects braced temporaries holding string
    // literals inside a co_await expression ("array used as initializer").
    Json args = {{"ms", 600000}};
    auto winner = co_await (r.call("wait", std::move(args), {}) || soon.async_wait(asio::use_awaitable));
    co_return static_cast<int>(winner.index());
  };
  CHECK(run_to_completion(io, race()) == 1);
  CHECK(counters->entered == 1);
  CHECK(counters->cancelled == 1);
  CHECK(counters->active == 0);
}

TEST_CASE("Two calls awaited together run concurrently", "[registry]") {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context io;
  auto counters = std::make_shared<WaitCounters>();
  Registry r = make_registry(counters);
  auto both = [&]() -> asio::awaitable<std::pair<ToolOutput, ToolOutput>> {
    Json args = {{"ms", 50}};  // in its own statement: see the previous test
    auto [a, b] = co_await (r.call("wait", args, {}) && r.call("wait", args, {}));
    co_return std::pair{std::move(a), std::move(b)};
  };
  auto [a, b] = run_to_completion(io, both());
  CHECK(a.text == "waited");
  CHECK(b.text == "waited");
  CHECK(counters->entered == 2);
  CHECK(counters->max_active == 2);  // the second call entered before the first left
}
