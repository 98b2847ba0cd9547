// Native tool plugins: loading (and refusing) shared libraries built against scout_plugin.h,
// and calling their tools through the real registry. The plugins are built by
// tests/plugins/CMakeLists.txt: the word_stats example, test_tools (tools that misbehave on
// purpose) and one library per load-time fault.
#include <catch2/catch.hpp>

#include <dlfcn.h>

#include <string>
#include <vector>

#include "plugins/native/native_plugin.h"
#include "tests/common/scratch.h"
#include "tests/tools/registry/registry_test_support.h"
#include "tools/registry/registry.h"

namespace fs = std::filesystem;
using Catch::Contains;
using scout::plugins::native::add_native_plugins;
using scout::plugins::native::load_native_plugin;
using scout::plugins::native::native_result_to_output;
using scout::tools::Json;
using scout::tools::Registry;
using scout::tools::ToolContext;
using scout::tools::ToolOutput;
using scout::tools::testing::run_until_done;

namespace {

const fs::path kWordStats = SCOUT_NATIVE_PLUGIN_WORD_STATS;
const fs::path kTestTools = SCOUT_NATIVE_PLUGIN_TEST_TOOLS;

// Whether the dynamic loader still has the library mapped (RTLD_NOLOAD opens nothing new).
bool is_loaded(const fs::path& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return false;
  dlclose(handle);
  return true;
}

// A registry holding one plugin's tools (any load problem fails the test), and the io_context
// its calls run on. The io_context is declared first so that it outlives the tools: a cancelled
// call still posts its end to it.
struct PluginRegistry {
  explicit PluginRegistry(const fs::path& plugin) {
    std::vector<std::string> problems;
    add_native_plugins({plugin}, registry, [&](const std::string& p) { problems.push_back(p); });
    INFO((problems.empty() ? std::string() : problems.front()));
    REQUIRE(problems.empty());
  }

  ToolOutput call(const std::string& name, Json arguments, ToolContext ctx = {}) {
    return run_until_done(io, registry.call(name, std::move(arguments), ctx));
  }

  boost::asio::io_context io;
  Registry registry;
};

std::string load_error(const fs::path& path) {
  auto plugin = load_native_plugin(path);
  REQUIRE_FALSE(plugin);
  return plugin.error().message;
}

}  // namespace

TEST_CASE("the example plugin's tools join the registry with their schemas and origin", "[native]") {
  Registry registry;
  auto loaded = add_native_plugins({kWordStats}, registry, [](const std::string& p) { FAIL(p); });
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0].name == "word_stats");
  CHECK(loaded[0].version == "1.0.0");
  const auto tools = registry.list();
  REQUIRE(tools.size() == 2);
  CHECK(tools[0].name == "count_words");
  CHECK(tools[1].name == "nth_word");
  CHECK_THAT(tools[1].description, Contains("n-th word"));
  CHECK(tools[1].parameters["required"] == Json::array({"text", "n"}));
  CHECK(tools[1].parameters["properties"]["n"]["minimum"] == 1);
  CHECK(tools[0].origin == "native plugin 'word_stats' (" + kWordStats.string() + ")");
}

TEST_CASE("a native tool answers through Registry::call with text and structured detail", "[native]") {
  PluginRegistry plugin(kWordStats);
  // "é" and "ö" are two bytes each: 15 characters, 17 bytes.
  auto out = plugin.call("count_words", Json{{"text", "h\u00e9llo w\u00f6rld\nbye"}});
  INFO(out.text);
  CHECK_FALSE(out.is_error);
  CHECK(out.text == "3 words, 15 characters, 2 lines (17 bytes)");
  REQUIRE(out.structured);
  CHECK((*out.structured)["words"] == 3);
  CHECK((*out.structured)["bytes"] == 17);

  // Escapes in the arguments arrive decoded, and the word comes back as JSON text.
  auto word = plugin.call("nth_word", Json{{"text", "say \"hi\"\tnow"}, {"n", 2}});
  CHECK_FALSE(word.is_error);
  CHECK(word.text == "\"hi\"");
}

TEST_CASE("a native tool's error result reaches the model as an error it can act on", "[native]") {
  PluginRegistry plugin(kWordStats);
  auto past_end = plugin.call("nth_word", Json{{"text", "one two"}, {"n", 5}});
  CHECK(past_end.is_error);
  CHECK(past_end.text == "The text has only 2 words; ask for n between 1 and 2.");

  // Arguments that break the schema are refused by the registry before the plugin runs.
  auto invalid = plugin.call("nth_word", Json{{"text", "one"}, {"n", 0}});
  CHECK(invalid.is_error);
  CHECK_THAT(invalid.text, Contains("Invalid arguments for tool 'nth_word'") && Contains("arguments.n"));
}

TEST_CASE("arguments reach the plugin validated, with the schema's defaults filled in", "[native]") {
  PluginRegistry plugin(kTestTools);
  auto out = plugin.call("echo_arguments", Json{{"word", "x"}});
  CHECK_FALSE(out.is_error);
  REQUIRE(out.structured);
  CHECK(*out.structured == Json{{"word", "x"}, {"times", 2}});
  CHECK(out.text == R"({"word":"x","times":2})");

  auto fails = plugin.call("fails", Json::object());
  CHECK(fails.is_error);
  CHECK(fails.text == "the input was rejected");
  REQUIRE(fails.structured);
  CHECK((*fails.structured)["code"] == 7);
}

TEST_CASE("results that break the contract become error outputs naming the plugin and the fault", "[native]") {
  PluginRegistry plugin(kTestTools);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"null_result", "it returned NULL instead of a result"},
      {"not_json", "its result is not JSON"},
      {"bad_utf8", "its result is not valid UTF-8"},
      {"no_text", "its result has no string \"text\""},
  };
  for (const auto& [tool, fault] : cases) {
    auto out = plugin.call(tool, Json::object());
    INFO(tool << ": " << out.text);
    CHECK(out.is_error);
    CHECK_THAT(out.text, Contains("Tool '" + tool + "' failed: native plugin 'test_tools'") && Contains(fault) &&
                             Contains("not in the arguments"));
    // The text is safe to put into the model's prompt and the trace as JSON.
    CHECK_NOTHROW(Json(out.text).dump());
  }
}

TEST_CASE("every result a plugin returns is given back to its free_result", "[native]") {
  PluginRegistry plugin(kTestTools);
  for (const char* tool : {"echo_arguments", "fails", "not_json", "bad_utf8", "no_text", "null_result"})
    plugin.call(tool, Json::object());
  auto counters = plugin.call("counters", Json::object());
  REQUIRE(counters.structured);
  // The counters' own result is counted as allocated and is not freed yet while it is read.
  CHECK((*counters.structured)["allocated"].get<long>() == (*counters.structured)["freed"].get<long>() + 1);
}

TEST_CASE("a deadline ends a blocked native call without blocking the executor; the call runs on to its end",
          "[native]") {
  PluginRegistry plugin(kTestTools);

  ToolContext ctx;
  ctx.deadline = ToolContext::Clock::now() + std::chrono::milliseconds(20);
  // block_until_released only returns once "release" is called: the deadline's timer can only
  // fire, and this call only come back, if the executor is free while the plugin blocks.
  auto blocked = plugin.call("block_until_released", Json::object(), ctx);
  CHECK(blocked.is_error);
  CHECK_THAT(blocked.text, Contains("timed out"));
  REQUIRE(blocked.structured);
  CHECK((*blocked.structured)["timed_out"] == true);

  // The C call still holds one worker; another call runs beside it and lets it return.
  auto release = plugin.call("release", Json::object());
  CHECK(release.text == "ok");
  plugin.io.restart();
  plugin.io.run();  // until the abandoned call has returned on its worker
  plugin.io.restart();

  // Its result was discarded, and freed.
  auto counters = plugin.call("counters", Json::object());
  REQUIRE(counters.structured);
  CHECK((*counters.structured)["allocated"].get<long>() == (*counters.structured)["freed"].get<long>() + 1);
}

TEST_CASE("a plugin stays loaded while one of its tools lives and is closed after the last goes", "[native]") {
  REQUIRE_FALSE(is_loaded(kWordStats));
  std::shared_ptr<scout::tools::Tool> kept;
  {
    auto plugin = load_native_plugin(kWordStats);
    REQUIRE(plugin);
    REQUIRE(plugin->tools.size() == 2);
    kept = plugin->tools[1];
  }
  CHECK(is_loaded(kWordStats));
  boost::asio::io_context io;
  auto out = run_until_done(io, kept->invoke(Json{{"text", "a b c"}, {"n", 3}}, ToolContext{}));
  CHECK(out.text == "c");
  kept.reset();
  CHECK_FALSE(is_loaded(kWordStats));
}

TEST_CASE("a library that cannot be loaded is an error with the loader's reason", "[native]") {
  const auto missing = load_error("/nonexistent/plugin.so");
  CHECK_THAT(missing, Contains("native plugin /nonexistent/plugin.so: cannot load it:") &&
                          Contains("No such file"));

  const auto dir = scout::test::fresh_scratch_dir("native_plugin", "not-a-library");
  scout::test::write_file(dir / "notes.so", "these are notes, not a shared library\n");
  CHECK_THAT(load_error(dir / "notes.so"), Contains("notes.so: cannot load it:"));
}

TEST_CASE("plugins that break the ABI's rules are refused with a message saying which rule", "[native]") {
  const std::vector<std::pair<fs::path, std::string>> cases = {
      {SCOUT_NATIVE_PLUGIN_NO_ENTRY, ": not a Scout plugin: it exports no scout_plugin_entry function"},
      {SCOUT_NATIVE_PLUGIN_NULL_DESCRIPTOR, ": scout_plugin_entry() returned NULL"},
      {SCOUT_NATIVE_PLUGIN_ABI_MISMATCH,
       " was built for Scout plugin ABI 999; this Scout speaks ABI 1 — rebuild it against this Scout's "
       "plugins/native/scout_plugin.h"},
      {SCOUT_NATIVE_PLUGIN_BAD_SCHEMA, ": tool 'broken_schema' has a parameters schema that is not valid JSON"},
      {SCOUT_NATIVE_PLUGIN_DUPLICATE_NAMES, ": two of its tools are named 'twin'"},
      {SCOUT_NATIVE_PLUGIN_BAD_NAME, ": tool #1 has the name 'files.read', which is invalid"},
  };
  for (const auto& [path, message] : cases) {
    const auto error = load_error(path);
    INFO(error);
    CHECK_THAT(error, Contains("native plugin " + path.string() + message));
    CHECK_FALSE(is_loaded(path));  // a refused library is closed again
  }
}

TEST_CASE("add_native_plugins reports each plugin or tool it leaves out and adds the rest", "[native]") {
  Registry registry;
  std::vector<std::string> problems;
  auto loaded = add_native_plugins({"/nonexistent/plugin.so", kWordStats, kWordStats}, registry,
                                   [&](const std::string& p) { problems.push_back(p); });
  CHECK(loaded.size() == 2);
  REQUIRE(problems.size() == 3);
  CHECK_THAT(problems[0], Contains("native plugin /nonexistent/plugin.so: cannot load it"));
  CHECK_THAT(problems[1], Contains("tool 'count_words' left out: a tool named 'count_words' is already registered"));
  CHECK_THAT(problems[2], Contains("tool 'nth_word' left out"));
  CHECK(registry.list().size() == 2);
}

TEST_CASE("a plugin's raw result is read as {text, structured} and nothing else", "[native]") {
  auto ok = native_result_to_output(R"({"text": "fine", "structured": null, "later": 1})", false, "t", "p");
  CHECK_FALSE(ok.is_error);
  CHECK(ok.text == "fine");
  CHECK_FALSE(ok.structured);  // null means none; unknown keys are ignored

  auto error = native_result_to_output(R"({"text": "no such file", "structured": {"path": "/x"}})", true, "t", "p");
  CHECK(error.is_error);
  CHECK(error.text == "no such file");
  REQUIRE(error.structured);
  CHECK((*error.structured)["path"] == "/x");

  CHECK_THAT(native_result_to_output("[1]", false, "t", "p").text, Contains("not a JSON object"));
  CHECK_THAT(native_result_to_output(R"({"text": 5})", false, "t", "p").text, Contains("no string \"text\""));
  CHECK_THAT(native_result_to_output("", false, "t", "p").text, Contains("not JSON"));
  CHECK(native_result_to_output("", false, "t", "p").is_error);
}
