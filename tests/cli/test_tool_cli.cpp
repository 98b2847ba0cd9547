// `scout tools` and `scout tool` end to end: the real executable, a config file written here and
// an offline index built by `scout index`.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "tests/common/process.h"
#include "tests/support/local_http_server.h"
#include "tests/common/scratch.h"

namespace fs = std::filesystem;
using Catch::Contains;

namespace {

using scout::test::write_file;

const auto quote = scout::test::shell_quote;

fs::path scratch(const std::string& name) { return scout::test::fresh_scratch_dir("tool_cli", name); }


// The scout executable in an environment of our making: no search keys, and config and data
// folders under `home`, so the developer's own config.toml and index never take part.
scout::test::CommandResult run_scout(const fs::path& home, const std::string& args, const std::string& tail = "2>&1") {
  const std::string env = "env -u BRAVE_API_KEY -u TAVILY_API_KEY -u XDG_STATE_HOME HOME=" + quote(home.string()) +
                          " XDG_CONFIG_HOME=" + quote((home / "config").string()) +
                          " XDG_DATA_HOME=" + quote((home / "data").string()) + " ";
  return scout::test::run_command(env + quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout") + " " + args + " " + tail);
}

}  // namespace

TEST_CASE("scout tools lists each tool with its description and arguments", "[tool_cli]") {
  const auto home = scratch("list");
  auto r = run_scout(home, "tools");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("fetch_url\n    ") && Contains("- url (string, required)"));
  CHECK_THAT(r.output, Contains("run_code\n    Run a short Python") && Contains("web_search\n    Search the local document"));
  CHECK_THAT(r.output, Contains("- query (string, required)") && Contains("- max_results (integer 1..20, default 5)"));
  CHECK_THAT(r.output, Contains("- language (string [\"python\",\"bash\"], required)"));
}

TEST_CASE("scout tools --json prints an array of name, description and parameters", "[tool_cli]") {
  const auto home = scratch("list-json");
  auto r = run_scout(home, "tools --json", "2>/dev/null");
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.output);
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 3);
  CHECK(j[0]["name"] == "fetch_url");
  CHECK(j[1]["name"] == "run_code");
  CHECK(j[2]["name"] == "web_search");
  for (const auto& t : j) {
    CHECK(t["description"].is_string());
    CHECK(t["parameters"]["type"] == "object");
  }
  CHECK(j[2]["parameters"]["required"] == nlohmann::json::array({"query"}));
}

TEST_CASE("scout tool web_search searches an index built by scout index, set in a config file", "[tool_cli]") {
  const auto home = scratch("web-search");
  write_file(home / "docs" / "otters.html", "<title>River otters</title><p>Otters eat fish and crayfish.</p>");
  write_file(home / "docs" / "badgers.md", "# Badgers\n\nBadgers dig setts; otters swim.\n");
  const fs::path db = home / "my-index.sqlite";
  auto indexed = run_scout(home, "index --db " + quote(db.string()) + " " + quote((home / "docs").string()));
  INFO(indexed.output);
  REQUIRE(indexed.exit_code == 0);
  write_file(home / "scout.toml", "[search]\nprovider = \"offline\"\nindex = \"my-index.sqlite\"\n");
  const std::string config = " --config " + quote((home / "scout.toml").string());

  auto text = run_scout(home, "tool web_search '{\"query\": \"otters\"}'" + config);
  INFO(text.output);
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Contains("1. River otters\n   file://" + (home / "docs" / "otters.html").string()));
  CHECK_THAT(text.output, Contains("2. Badgers"));

  auto json = run_scout(home, "tool web_search '{\"query\": \"otters\", \"max_results\": 1}' --json" + config, "2>/dev/null");
  REQUIRE(json.exit_code == 0);
  const auto j = nlohmann::json::parse(json.output);
  CHECK(j["is_error"] == false);
  CHECK_THAT(j["text"].get<std::string>(), Contains("River otters"));
  REQUIRE(j["structured"].size() == 1);
  CHECK(j["structured"][0]["source"] == "offline");

  // Arguments may come from stdin.
  auto stdin_args = scout::test::run_command("echo '{\"query\": \"badgers\"}' | " +
                                             std::string("env -u BRAVE_API_KEY -u TAVILY_API_KEY HOME=") + quote(home.string()) +
                                             " " + quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout") + " tool web_search -" +
                                             config + " 2>&1");
  CHECK(stdin_args.exit_code == 0);
  CHECK_THAT(stdin_args.output, Contains("1. Badgers"));
}

TEST_CASE("scout tool web_search asks the SearxNG instance the config file names", "[tool_cli]") {
  const auto home = scratch("searxng");
  std::string target;
  std::mutex mutex;
  scout::test::LocalHttpServer server([&](const scout::test::HttpExchange& req, scout::test::RawConnection& conn) {
    {
      std::lock_guard lock(mutex);
      target = req.target;
    }
    conn.write(scout::test::http_response(
        200, "application/json",
        R"({"query": "otters", "number_of_results": 0, "results": [{"url": "https://example.org/otters", "title": "Otters",)"
        R"( "content": "All about otters.", "engine": "duckduckgo", "engines": ["duckduckgo"], "positions": [1],)"
        R"( "score": 1.0, "category": "general"}], "answers": [], "corrections": [], "infoboxes": [], "suggestions": [],)"
        R"( "unresponsive_engines": []})"));
  });
  write_file(home / "scout.toml", "[search]\nsearxng_url = \"" + server.url("") + "\"\n");
  auto r = run_scout(home, "tool web_search '{\"query\": \"sea otters\"}' --config " + quote((home / "scout.toml").string()));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output == "1. Otters\n   https://example.org/otters\n   All about otters.\n");
  std::lock_guard lock(mutex);
  CHECK(target == "/search?q=sea%20otters&format=json");
}

TEST_CASE("scout tool web_search reports a refused Brave key without printing it", "[tool_cli]") {
  const auto home = scratch("brave");
  scout::test::LocalHttpServer server([](const scout::test::HttpExchange& req, scout::test::RawConnection& conn) {
    const bool key_sent = req.header("X-Subscription-Token") == "BSA-cli-secret-77";
    conn.write(scout::test::http_response(
        key_sent ? 401 : 400, "application/json",
        R"({"type": "ErrorResponse", "error": {"id": "x", "status": 401, "code": "SUBSCRIPTION_TOKEN_INVALID",)"
        R"( "detail": "The provided subscription token is invalid."}})"));
  });
  write_file(home / "scout.toml", "[search]\nbrave_url = \"" + server.url("") + "\"\n");
  // The key comes from the environment; "auto" picks Brave because it is set.
  const std::string cmd = "env HOME=" + quote(home.string()) + " BRAVE_API_KEY=BSA-cli-secret-77 " +
                          quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout") +
                          " tool web_search '{\"query\": \"otters\"}' --json --config " + quote((home / "scout.toml").string()) +
                          " 2>&1";
  auto r = scout::test::run_command(cmd);
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("Brave Search answered 401") && Contains("check BRAVE_API_KEY"));
  CHECK_THAT(r.output, !Contains("BSA-cli-secret-77"));
}

TEST_CASE("scout tool exits with 1 when the tool reports an error", "[tool_cli]") {
  const auto home = scratch("tool-error");
  // No index has been built under this home: the offline provider says how to build one.
  auto r = run_scout(home, "tool web_search '{\"query\": \"otters\"}'");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Contains("web_search failed") && Contains("scout index"));
}

TEST_CASE("scout tool run_code runs Python in the sandbox and prints its output", "[tool_cli]") {
  const auto home = scratch("run-code");
  auto r = run_scout(home, "tool run_code '{\"language\":\"python\",\"code\":\"print(6*7)\"}'");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("Exit code 0.") && Contains("--- stdout ---\n42\n"));
}

TEST_CASE("scout tool exits with 2 for malformed JSON, invalid arguments or an unknown tool", "[tool_cli]") {
  const auto home = scratch("usage");
  auto bad_json = run_scout(home, "tool web_search '{\"query\": '");
  CHECK(bad_json.exit_code == 2);
  CHECK_THAT(bad_json.output, Contains("not valid JSON"));

  auto not_object = run_scout(home, "tool web_search '[1]'");
  CHECK(not_object.exit_code == 2);
  CHECK_THAT(not_object.output, Contains("JSON object"));

  auto invalid = run_scout(home, "tool web_search '{\"query\": \"x\", \"max_results\": 50}'");
  CHECK(invalid.exit_code == 2);
  CHECK_THAT(invalid.output, Contains("arguments.max_results"));

  auto unknown = run_scout(home, "tool web_serach '{}'");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.output, Contains("unknown tool 'web_serach'") && Contains("run_code") && Contains("web_search"));

  auto help = run_scout(home, "tool --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.output, Contains("Exit codes") && Contains("130"));
}

TEST_CASE("scout tool takes its JSON argument byte for byte: brackets, commas, braces, a leading '-', newlines",
          "[tool_cli]") {
  const auto home = scratch("verbatim");
  const std::string program = R"json({"language": "python", "code": "print([1, 2], '{a}', '-x')\nprint('b,c')"})json";
  auto ran = run_scout(home, "tool run_code " + quote(program));
  INFO(ran.output);
  CHECK(ran.exit_code == 0);
  CHECK_THAT(ran.output, Contains("[1, 2] {a} -x\nb,c\n"));

  auto array = run_scout(home, "tool web_search '[1, 2]'");
  CHECK(array.exit_code == 2);
  CHECK_THAT(array.output, Contains("must be a JSON object, not array"));
  auto dash = run_scout(home, "tool web_search -- -x");
  CHECK(dash.exit_code == 2);
  CHECK_THAT(dash.output, Contains("not valid JSON") && Contains("'-x'"));
  auto not_utf8 = run_scout(home, "tool web_search " + quote("{\"query\": \"\xff\"}"));
  CHECK(not_utf8.exit_code == 2);
  CHECK_THAT(not_utf8.output, Contains("ill-formed UTF-8"));
}

TEST_CASE("scout tool and scout tools exit with 3 for a config file with an unknown key", "[tool_cli]") {
  const auto home = scratch("bad-config");
  write_file(home / "config" / "scout" / "config.toml", "[search]\n\nprovder = \"offline\"\n");
  auto tools = run_scout(home, "tools");
  CHECK(tools.exit_code == 3);
  CHECK_THAT(tools.output, Contains("config.toml:3:") && Contains("provder"));
  auto tool = run_scout(home, "tool run_code '{\"language\":\"python\",\"code\":\"print(1)\"}'");
  CHECK(tool.exit_code == 3);

  auto missing = run_scout(home, "tools --config " + quote((home / "nope.toml").string()));
  CHECK(missing.exit_code == 3);
  CHECK_THAT(missing.output, Contains("nope.toml"));
}

TEST_CASE("Ctrl-C during scout tool cancels the call, ends the program and exits with 130", "[tool_cli]") {
  const auto home = scratch("interrupt");
  const std::string scout = quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout");
  // Start a long program and wait until it runs: scout -> bwrap -> the sandbox's init -> the
  // program. Then interrupt, and check that the program does not outlive scout (polling is a
  // hang guard; the program would otherwise sleep for 47 s).
  const std::string script =
      "env HOME=" + quote(home.string()) + " XDG_CONFIG_HOME=" + quote((home / "config").string()) + " " + scout +
      " tool run_code '{\"language\":\"bash\",\"code\":\"sleep 47\",\"timeout_s\":60}' --timeout 120 > " +
      quote((home / "out.txt").string()) + " 2>&1 & pid=$!; "
      "prog=; for i in $(seq 1 600); do "
      "  b=$(pgrep -P $pid | head -n1); c=${b:+$(pgrep -P $b | head -n1)}; prog=${c:+$(pgrep -P $c | head -n1)}; "
      "  [ -n \"$prog\" ] && break; sleep 0.05; done; "
      "[ -n \"$prog\" ] && echo started; "
      "kill -INT $pid; wait $pid; echo \"exit=$?\"; "
      "for i in $(seq 1 200); do kill -0 $prog 2>/dev/null || break; sleep 0.05; done; "
      "kill -0 $prog 2>/dev/null && { echo program-outlived-scout; kill -9 $prog; }; "
      "cat " + quote((home / "out.txt").string());
  auto r = scout::test::run_command("sh -c " + quote(script));
  INFO(r.output);
  CHECK_THAT(r.output, Contains("started\nexit=130\n"));
  CHECK_THAT(r.output, Contains("was cancelled"));
  CHECK_THAT(r.output, !Contains("program-outlived-scout"));
}

TEST_CASE("scout tools lists a native plugin's tools with their origin and reports one that will not load",
          "[tool_cli][native]") {
  const auto home = scratch("native-list");
  const fs::path plugin = SCOUT_NATIVE_PLUGIN_WORD_STATS;
  write_file(home / "scout.toml", "[[plugins.native]]\npath = " + nlohmann::json(plugin.string()).dump() +
                                      "\n[[plugins.native]]\npath = \"missing.so\"\n");
  const std::string config = " --config " + quote((home / "scout.toml").string());
  auto r = run_scout(home, "tools" + config);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Contains("count_words\n    Counts the words") &&
                           Contains("    origin: native plugin 'word_stats' (" + plugin.string() + ")\n") &&
                           Contains("- text (string, required): The text to count"));
  CHECK_THAT(r.output, Contains("nth_word\n") && Contains("web_search\n"));
  CHECK_THAT(r.output, Contains("scout tools: native plugin " + (home / "missing.so").string() + ": cannot load it: "));

  auto json = run_scout(home, "tools --json" + config, "2>/dev/null");
  REQUIRE(json.exit_code == 0);
  const auto j = nlohmann::json::parse(json.output);
  REQUIRE(j.size() == 5);
  CHECK(j[0]["name"] == "count_words");
  CHECK(j[0]["origin"] == "native plugin 'word_stats' (" + plugin.string() + ")");
  CHECK(j[4]["origin"] == "built-in");

  auto check = run_scout(home, "tools --check" + config, "2>&1 >/dev/null");
  INFO(check.output);
  CHECK(check.exit_code == 1);
  CHECK_THAT(check.output, Contains("native plugin " + plugin.string() + ": ok, 2 tools (word_stats 1.0.0)"));
  CHECK_THAT(check.output, Contains("native plugin " + (home / "missing.so").string() + ": cannot load it"));
}

TEST_CASE("scout tool calls a native plugin's tool from the config, with the usual exit codes", "[tool_cli][native]") {
  const auto home = scratch("native-call");
  write_file(home / "scout.toml", "[[plugins.native]]\npath = " +
                                      nlohmann::json(std::string(SCOUT_NATIVE_PLUGIN_WORD_STATS)).dump() + "\n");
  const std::string config = " --config " + quote((home / "scout.toml").string());
  auto count = run_scout(home, "tool count_words '{\"text\": \"one two three\"}'" + config);
  INFO(count.output);
  CHECK(count.exit_code == 0);
  CHECK(count.output == "3 words, 13 characters, 1 lines (13 bytes)\n");

  auto json = run_scout(home, "tool nth_word '{\"text\": \"one two\", \"n\": 2}' --json" + config, "2>/dev/null");
  CHECK(json.exit_code == 0);
  CHECK(nlohmann::json::parse(json.output)["structured"] == nlohmann::json{{"n", 2}, {"word", "two"}});

  auto past_end = run_scout(home, "tool nth_word '{\"text\": \"one\", \"n\": 3}'" + config);
  CHECK(past_end.exit_code == 1);
  CHECK_THAT(past_end.output, Contains("The text has only 1 word; ask for n between 1 and 1."));

  auto invalid = run_scout(home, "tool nth_word '{\"text\": \"one\"}'" + config);
  CHECK(invalid.exit_code == 2);
  CHECK_THAT(invalid.output, Contains("arguments.n"));

  auto unknown = run_scout(home, "tool count_wrds '{}'" + config);
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.output, Contains("unknown tool 'count_wrds'") && Contains("count_words") && Contains("run_code"));
}

TEST_CASE("scout tool SERVER__TOOL starts only that MCP server and calls its tool", "[tool_cli][mcp]") {
  const auto home = scratch("mcp-tool");
  const std::string everything =
      std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
  write_file(home / "scout.toml", "[[plugins.mcp]]\nname = \"everything\"\ncommand = \"node\"\nargs = [\"" + everything +
                                      "\", \"stdio\"]\n\n[[plugins.mcp]]\nname = \"broken\"\ncommand = \"/nonexistent/server\"\n");
  const std::string config = " --config " + quote((home / "scout.toml").string());
  auto sum = run_scout(home, "tool everything__get-sum '{\"a\": 4, \"b\": 5}'" + config);
  INFO(sum.output);
  CHECK(sum.exit_code == 0);
  CHECK_THAT(sum.output, Contains("The sum of 4 and 5 is 9."));
  CHECK_THAT(sum.output, !Contains("broken"));  // the other server was not started
  auto unknown = run_scout(home, "tool everything__no-such-tool '{}'" + config);
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.output, Contains("unknown tool 'everything__no-such-tool'") && Contains("everything__echo"));
}
