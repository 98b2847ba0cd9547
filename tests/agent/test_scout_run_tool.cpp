// scout_run (agent/scout_run_tool.h): a whole agent run as one tool, called through a registry as
// an MCP client's call is — over a scripted backend, so each turn of the model is known.
#include <catch2/catch.hpp>

#include <memory>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>

#include "agent/scout_run_tool.h"
#include "tests/agent/scripted_backend.h"
#include "tests/tools/registry/registry_test_support.h"

using namespace scout;
using namespace scout::agent;
using scout::agent::testing::kFail;
using scout::agent::testing::kHang;
using scout::agent::testing::ScriptedBackend;
using scout::tools::Json;
using scout::tools::testing::EchoTool;
using scout::tools::testing::run_until_done;
using scout::tools::testing::when;
using Catch::Contains;

namespace {

// The backend one run is given: it forwards to a ScriptedBackend the test keeps, so what the
// model was shown can be checked after the run (which destroys its backend).
class ForwardingBackend final : public Backend {
 public:
  explicit ForwardingBackend(ScriptedBackend& inner) : inner_(inner) {}
  std::string describe() const override { return inner_.describe(); }
  asio::awaitable<Result<TurnResult>> next_turn(TurnRequest request, TurnSink sink) override {
    return inner_.next_turn(std::move(request), std::move(sink));
  }

 private:
  ScriptedBackend& inner_;
};

struct Fixture {
  asio::io_context io;
  std::shared_ptr<tools::Registry> agent_tools = std::make_shared<tools::Registry>();
  tools::Registry offered;
  std::unique_ptr<ScriptedBackend> backend;  // the model of the last run set up
  int setups = 0;
  std::string effort_asked;

  explicit Fixture(std::vector<std::string> script, bool setup_fails = false) {
    REQUIRE(agent_tools->add(std::make_shared<EchoTool>(Json{{"type", "object"}})));
    auto prepare = [this, setup_fails, script](const std::string& effort) -> Expected<RunSetup, SetupError> {
      ++setups;
      effort_asked = effort;
      if (setup_fails) return Unexpected<SetupError>{SetupError{"no model: give -m MODEL.gguf", true}};
      backend = std::make_unique<ScriptedBackend>(script);
      RunSetup setup;
      setup.backend = std::make_unique<ForwardingBackend>(*backend);
      return setup;
    };
    auto open_trace = [] { return Result<TraceWriter>(TraceWriter::disabled()); };
    REQUIRE(offered.add(std::make_shared<ScoutRunTool>(prepare, agent_tools, open_trace)));
  }

  tools::ToolOutput call(Json arguments, tools::ToolContext ctx = {}) {
    return run_until_done(io, offered.call("scout_run", std::move(arguments), std::move(ctx)));
  }
};

}  // namespace

TEST_CASE("scout_run runs the agent on the task, answers with its final text and reports each step",
          "[mcp_server][scout_run]") {
  Fixture f({"<tool_call>\n{\"name\": \"echo\", \"arguments\": {}}\n</tool_call>", "The answer is 4."});
  std::vector<tools::ToolProgress> progress;
  tools::ToolContext ctx;
  ctx.progress = [&](const tools::ToolProgress& p) { progress.push_back(p); };
  auto out = f.call(Json{{"task", "What is 2+2?"}, {"effort", "low"}}, ctx);
  INFO(out.text);
  CHECK_FALSE(out.is_error);
  CHECK(out.text == "The answer is 4.");
  REQUIRE(out.structured);
  CHECK((*out.structured)["status"] == "answered");
  CHECK((*out.structured)["steps"] == 2);
  CHECK((*out.structured)["tool_calls"] == 1);
  CHECK(f.effort_asked == "low");
  REQUIRE(f.backend);
  REQUIRE(f.backend->requests.size() == 2);
  CHECK(f.backend->requests[0].back().content == "What is 2+2?");

  std::vector<std::string> messages;
  for (std::size_t i = 0; i < progress.size(); ++i) {
    messages.push_back(progress[i].message);
    CHECK(progress[i].progress == static_cast<double>(i + 1));
  }
  CHECK(messages ==
        std::vector<std::string>{"step 1: thinking", "step 1: calling echo", "step 2: thinking", "step 2: answering"});
}

TEST_CASE("scout_run reports a run that ends without an answer, and a run it cannot set up, as tool errors",
          "[mcp_server][scout_run]") {
  Fixture failing({kFail});
  auto out = failing.call(Json{{"task", "anything"}});
  CHECK(out.is_error);
  CHECK_THAT(out.text, Contains("The run ended without an answer (backend_error)") && Contains("scripted backend failure"));
  CHECK((*out.structured)["status"] == "backend_error");

  Fixture unset({}, /*setup_fails=*/true);
  auto refused = unset.call(Json{{"task", "anything"}});
  CHECK(refused.is_error);
  CHECK_THAT(refused.text, Contains("scout_run could not set up the run: no model"));

  auto invalid = unset.call(Json{{"task", ""}});  // checked by the registry before any setup
  CHECK(invalid.is_error);
  CHECK_THAT(invalid.text, Contains("Invalid arguments"));
  CHECK(unset.setups == 1);
}

TEST_CASE("cancelling a scout_run call stops the run it started", "[mcp_server][scout_run]") {
  Fixture f({kHang});
  asio::cancellation_signal cancel;
  tools::ToolContext ctx;
  ctx.cancel = cancel.slot();
  when(f.io, [&] { return f.backend && !f.backend->requests.empty(); },
       [&] { cancel.emit(asio::cancellation_type::terminal); });
  auto out = f.call(Json{{"task", "think forever"}}, ctx);
  CHECK(out.is_error);
  CHECK_THAT(out.text, Contains("cancelled"));
}
