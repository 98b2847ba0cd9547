// run_code end to end: through the registry, on a real io_context, into the bubblewrap sandbox.
#include <catch2/catch.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "tests/tools/registry/registry_test_support.h"
#include "tools/registry/registry.h"
#include "tools/registry/run_code_tool.h"

using namespace scout::tools;
using namespace scout::tools::testing;
using namespace std::chrono_literals;

namespace {

Registry make_registry() {
  RunCodeOptions options;
  options.default_timeout_s = 10;
  options.max_timeout_s = 30;
  options.limits.cpu_seconds = 10;
  options.limits.output_cap_bytes = 4096;
  Registry r;
  REQUIRE(r.add(std::make_shared<RunCodeTool>(options)));
  return r;
}

}  // namespace

TEST_CASE("run_code runs a Python hello world and reports exit code and output", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(
      io, r.call("run_code", Json{{"language", "python"}, {"code", "print('hello from run_code')"}}, {}));
  INFO(out.text);
  CHECK_FALSE(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Exit code 0.") && Catch::Contains("--- stdout ---\nhello from run_code\n") &&
                           Catch::Contains("--- stderr ---\n(empty)"));
  REQUIRE(out.structured);
  CHECK((*out.structured)["exit_code"] == 0);
  CHECK((*out.structured)["sandboxed"] == true);
  // Which limits held (a cgroup or not, tmpfs sizes, the filter) is kept for the trace.
  CHECK_THAT((*out.structured)["limits"].get<std::string>(), Catch::Contains("system-call filter"));
}

TEST_CASE("run_code reports a failing Bash program with its exit code and stderr", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out =
      run_to_completion(io, r.call("run_code", Json{{"language", "bash"}, {"code", "echo oops >&2; exit 4"}}, {}));
  INFO(out.text);
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Exit code 4.") && Catch::Contains("--- stderr ---\noops\n"));
}

TEST_CASE("run_code rejects an unsupported language before running anything", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(io, r.call("run_code", Json{{"language", "ruby"}, {"code", "puts 1"}}, {}));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("arguments.language") && Catch::Contains("\"python\", \"bash\"") &&
                           Catch::Contains("\"ruby\""));
  REQUIRE(out.structured);
  CHECK(out.structured->contains("invalid_arguments"));
}

TEST_CASE("run_code rejects empty code", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(io, r.call("run_code", Json{{"language", "python"}, {"code", ""}}, {}));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("arguments.code: must be at least 1 character long"));
}

TEST_CASE("run_code rejects a timeout above its maximum", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(
      io, r.call("run_code", Json{{"language", "bash"}, {"code", "true"}, {"timeout_s", 3600}}, {}));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("arguments.timeout_s: must be at most 30"));
}

TEST_CASE("run_code stops a program at its timeout and says which limit ended it", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(
      io, r.call("run_code", Json{{"language", "bash"}, {"code", "echo started; sleep 60"}, {"timeout_s", 1}}, {}));
  INFO(out.text);
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("Stopped: the time limit of 1 s was reached.") &&
                           Catch::Contains("started"));
  REQUIRE(out.structured);
  CHECK((*out.structured)["timed_out"] == true);
}

TEST_CASE("run_code marks output cut at the cap as truncated", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  ToolOutput out = run_to_completion(
      io, r.call("run_code", Json{{"language", "python"}, {"code", "print('x' * 20000)"}}, {}));
  INFO(out.text);
  CHECK_THAT(out.text, Catch::Contains("Output was truncated"));
  REQUIRE(out.structured);
  CHECK((*out.structured)["truncated"] == true);
}

TEST_CASE("run_code cancelled by the caller reports cancellation", "[registry]") {
  asio::io_context io;
  Registry r = make_registry();
  asio::cancellation_signal signal;
  ToolContext ctx;
  ctx.cancel = signal.slot();
  asio::steady_timer cancel_soon(io, 100ms);
  cancel_soon.async_wait([&](boost::system::error_code) { signal.emit(asio::cancellation_type::terminal); });
  ToolOutput out = run_to_completion(
      io, r.call("run_code", Json{{"language", "bash"}, {"code", "sleep 2"}, {"timeout_s", 5}}, ctx));
  INFO(out.text);
  CHECK(out.is_error);
  CHECK_THAT(out.text, Catch::Contains("cancelled"));
}

TEST_CASE("run_code invoked directly without a registry also reports cancellation", "[registry]") {
  asio::io_context io;
  RunCodeTool tool;
  asio::cancellation_signal signal;
  asio::steady_timer cancel_soon(io, 100ms);
  cancel_soon.async_wait([&](boost::system::error_code) { signal.emit(asio::cancellation_type::terminal); });
  std::optional<ToolOutput> out;
  asio::co_spawn(io, tool.invoke(Json{{"language", "bash"}, {"code", "sleep 2"}, {"timeout_s", 5}}, {}),
                 asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, ToolOutput o) {
                   REQUIRE_FALSE(e);
                   out = std::move(o);
                 }));
  io.run();
  REQUIRE(out);
  CHECK(out->is_error);
  CHECK(out->text == "run_code was cancelled; the program's output was discarded.");
}
