// scout run killed with SIGKILL at many moments — in start-up, while the model streams, while a
// tool runs, while the trace is written — leaves a JSONL trace that reads back up to the kill:
// every complete line is an event, in the order a whole run writes them, only the last line can
// be cut, and `scout trace` shows it (exit 0), saying where it stops.
//
// The model is the replay server on 127.0.0.1: it thinks, runs Python, searches the offline
// index and answers. Kill points are tied to what the run has done (the trace holding N events,
// the model's stream held at a chosen chunk, a tool running), so each run of the test kills at
// the same stages; a last set of kills at seeded random moments covers the gaps between them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/trace.h"
#include "tests/cli/kill_support.h"
#include "tests/common/scratch.h"
#include "tests/support/replay_server.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using scout::test::BackgroundProcess;
using scout::test::read_whole;
using scout::test::ReplayServer;
using scout::test::wait_until;
const auto quote = scout::test::shell_quote;

// Paragraphs of thinking or answer text, `n` of them, each a few hundred bytes.
std::string paragraphs(const std::string& topic, int n) {
  std::string text;
  for (int i = 1; i <= n; ++i) {
    if (!text.empty()) text += "\n\n";
    text += "Paragraph " + std::to_string(i) + " about " + topic + ": ";
    for (int w = 0; w < 40; ++w) text += "otters rivers fish-" + std::to_string(i * 100 + w) + " ";
  }
  return text;
}

// The model's turns: think, run Python; think, search; think, answer. `last_turn_stall`: the
// answer's stream stops after this many chunks and never ends (-1: it ends).
std::string model_script(const std::string& python = "print(6 * 7)", int first_turn_stall = -1,
                         int last_turn_stall = -1) {
  json first = {{"reasoning", paragraphs("computing", 3)},
                {"tool_calls", json::array({{{"id", "c1"}, {"name", "run_code"},
                                             {"arguments", {{"language", "python"}, {"code", python}}}}})}};
  if (first_turn_stall >= 0) first["stall_after_chunks"] = first_turn_stall;
  json second = {{"reasoning", paragraphs("searching", 1)},
                 {"tool_calls", json::array({{{"id", "c2"}, {"name", "web_search"}, {"arguments", {{"query", "otters"}}}}})}};
  json third = {{"reasoning", "Both tools answered."},
                {"content", paragraphs("the answer", 2)},
                {"usage", {{"prompt_tokens", 300}, {"completion_tokens", 200}}}};
  if (last_turn_stall >= 0) third["stall_after_chunks"] = last_turn_stall;
  return json{{"model", "replay-model"}, {"chunk_chars", 24}, {"responses", {first, second, third}}}.dump();
}

// A folder with an offline index to search and a config that uses it; one per test case.
struct Bench {
  fs::path dir;
  fs::path home;
  fs::path config;
  fs::path trace;
  fs::path log;

  explicit Bench(const std::string& name) : dir(scout::test::fresh_scratch_dir("kill-run", name)) {
    home = dir / "home";
    config = dir / "scout.toml";
    trace = dir / "run.jsonl";
    log = dir / "scout.log";
    scout::test::write_file(dir / "docs" / "otters.md", "# River otters\n\nOtters eat fish and crayfish.\n");
    const auto indexed = scout::test::run_scout_in(home, "index --db " + quote((dir / "index.sqlite").string()) + " " +
                                                             quote((dir / "docs").string()));
    INFO(indexed.output);
    REQUIRE(indexed.exit_code == 0);
    scout::test::write_file(config, "[search]\nprovider = \"offline\"\nindex = \"" + (dir / "index.sqlite").string() +
                                        "\"\n[agent]\ntool_timeout_s = 120\n");
  }

  std::unique_ptr<BackgroundProcess> start(const ReplayServer& server) const {
    fs::remove(trace);
    return scout::test::start_scout(home,
                                    "run --remote " + server.base_url() + " -m replay-model --tools run_code,web_search" +
                                        " --config " + quote(config.string()) + " --trace " + quote(trace.string()) +
                                        " " + quote("What do otters eat, and what is 6 times 7?"),
                                    log);
  }
};

// The trace's complete lines (each ended by its newline) and what follows the last of them.
struct TraceFile {
  bool exists = false;
  std::vector<std::string> lines;
  std::string tail;
};

TraceFile read_trace(const fs::path& path) {
  TraceFile t;
  std::error_code ec;
  t.exists = fs::exists(path, ec);
  const std::string text = read_whole(path);
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    t.lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  t.tail = text.substr(start);
  return t;
}

std::size_t complete_lines(const fs::path& path) { return read_trace(path).lines.size(); }

std::vector<std::string> event_types(const TraceFile& t) {
  std::vector<std::string> types;
  for (const auto& line : t.lines) types.push_back(json::parse(line, nullptr, false).value("type", ""));
  return types;
}

// What a killed run left must read back: complete lines are events, in the order of the whole
// run `reference` (the same script, not killed), at least the `seen` lines that were there
// before the kill; a cut last line is the start of an event; and `scout trace` shows it.
void check_left_trace(const Bench& bench, const std::vector<std::string>& reference, std::size_t seen) {
  const TraceFile t = read_trace(bench.trace);
  INFO("trace after the kill:\n" << read_whole(bench.trace));
  if (!t.exists) {
    REQUIRE(seen == 0);  // killed before it made the file
    return;
  }
  CHECK(t.lines.size() >= seen);
  REQUIRE(t.lines.size() <= reference.size());
  for (std::size_t i = 0; i < t.lines.size(); ++i) {
    const json event = json::parse(t.lines[i], nullptr, false);
    INFO("line " << i + 1 << ": " << t.lines[i]);
    REQUIRE(event.is_object());
    CHECK(event.value("type", "") == reference[i]);
  }
  if (!t.tail.empty()) CHECK(t.tail.rfind(t.lines.empty() ? "{\"type\":\"run_start\"" : "{\"type\":\"", 0) == 0);

  const auto shown = scout::test::run_scout_in(bench.home, "trace " + quote(bench.trace.string()));
  INFO("scout trace:\n" << shown.output);
  CHECK(shown.exit_code == 0);
  const bool cut = !t.tail.empty() && json::parse(t.tail, nullptr, false).is_discarded();
  if (!t.lines.empty()) CHECK_THAT(shown.output, Catch::Contains("Task: What do otters eat"));
  if (t.lines.empty() && !cut) CHECK_THAT(shown.output, Catch::Contains("the trace is empty"));
  else if (cut) CHECK_THAT(shown.output, Catch::Contains("last line is incomplete"));
  else if (reference.size() != t.lines.size()) CHECK_THAT(shown.output, Catch::Contains("the run did not finish"));
}

// A whole run of `script`: the event types its trace holds, in order.
std::vector<std::string> reference_run(const Bench& bench, const std::string& script) {
  ReplayServer server(script);
  auto scout = bench.start(server);
  const int code = scout->wait();
  INFO(scout->log());
  REQUIRE(code == 0);
  const TraceFile t = read_trace(bench.trace);
  REQUIRE(t.tail.empty());
  REQUIRE(!t.lines.empty());
  return event_types(t);
}

}  // namespace

TEST_CASE("scout run killed after each event of its trace leaves a trace that reads back to the kill",
          "[kill][run]") {
  const Bench bench("each-event");
  const std::vector<std::string> whole = reference_run(bench, model_script());
  REQUIRE(whole.back() == "run_end");
  // The answer's stream is held before its first chunk, so the run is still going at every
  // event before it: each kill below lands in a running scout, after its N-th event (start-up,
  // thinking, Python, search, the last turn's start), however fast or slow the machine.
  const std::string held = model_script("print(6 * 7)", -1, 0);
  std::size_t held_events = 0;
  for (int turns = 0; turns < 3; ++held_events) turns += whole.at(held_events) == "turn_start";
  REQUIRE(held_events >= 15);

  for (std::size_t n = 0; n <= held_events; ++n) {
    INFO("kill after event " << n);
    ReplayServer server(held);
    auto scout = bench.start(server);
    REQUIRE(wait_until([&] { return n == 0 ? fs::exists(bench.trace) : complete_lines(bench.trace) >= n; }));
    REQUIRE(scout->kill_now());
    check_left_trace(bench, whole, n);
  }
}

TEST_CASE("scout run killed in start-up, mid-stream and inside a tool leaves a trace that reads back",
          "[kill][run]") {
  const Bench bench("stages");
  const std::vector<std::string> whole = reference_run(bench, model_script());
  auto has = [&](const std::string& type) {
    const auto types = event_types(read_trace(bench.trace));
    return std::find(types.begin(), types.end(), type) != types.end();
  };
  struct Stage {
    std::string name;
    std::string script;
    std::function<bool(const ReplayServer&)> reached;
  };
  const std::vector<Stage> stages = {
      {"start-up, at once", model_script(), [](const ReplayServer&) { return true; }},
      {"start-up, the trace just made", model_script(), [&](const ReplayServer&) { return fs::exists(bench.trace); }},
      {"the model's first chunk", model_script("print(6 * 7)", 1),
       [](const ReplayServer& s) { return s.responses_used() == 1; }},
      {"thinking streams", model_script("print(6 * 7)", 45), [&](const ReplayServer&) { return has("thinking"); }},
      {"Python runs", model_script("import time\ntime.sleep(600)"),
       [&](const ReplayServer&) { return has("tool_call"); }},
      {"the answer streams", model_script("print(6 * 7)", -1, 40), [&](const ReplayServer&) { return has("answer"); }},
  };
  for (const Stage& stage : stages) {
    INFO("killed at: " << stage.name);
    ReplayServer server(stage.script);
    auto scout = bench.start(server);
    REQUIRE(wait_until([&] { return stage.reached(server); }));
    const std::size_t seen = complete_lines(bench.trace);
    REQUIRE(scout->kill_now());
    check_left_trace(bench, whole, seen);
    // The sandbox went down with scout (bubblewrap dies with its parent): nothing of the run
    // is left running.
    CHECK(wait_until([&] { return !scout->group_alive(); }));
  }
}

TEST_CASE("scout run killed at seeded random moments leaves a trace that reads back to the kill", "[kill][run]") {
  const Bench bench("random");
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> whole = reference_run(bench, model_script());
  const double whole_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // Moments over the whole run (and a little past it: a run may take longer this time).
  std::mt19937 random(20261129);
  std::uniform_real_distribution<double> moment_ms(0.0, whole_ms * 1.1);
  for (int i = 0; i < 12; ++i) {
    const double ms = moment_ms(random);
    INFO("kill " << i << " after " << ms << " ms (a whole run took " << whole_ms << " ms)");
    ReplayServer server(model_script());
    auto scout = bench.start(server);
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
    if (!scout->kill_now()) {
      INFO(scout->log());
      REQUIRE(scout->wait() == 0);  // it finished first: its trace is whole
      CHECK(event_types(read_trace(bench.trace)) == whole);
    }
    check_left_trace(bench, whole, 0);
  }
}

TEST_CASE("a run's trace cut at any byte reads back up to the cut", "[kill][run][trace]") {
  // What a kill in the middle of writing an event leaves, at every place it can land.
  const Bench bench("cut");
  const std::vector<std::string> whole = reference_run(bench, model_script());
  const std::string text = read_whole(bench.trace);
  const fs::path cut_path = bench.dir / "cut.jsonl";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    const std::size_t line_start = cut == 0 ? 0 : text.rfind('\n', cut - 1) + 1;
    const bool near_boundary = cut - line_start < 4 || text.find('\n', cut) - cut < 4;
    if (!near_boundary && cut % 97 != 0) continue;  // every boundary closely, the rest sampled
    INFO("cut after " << cut << " of " << text.size() << " bytes");
    scout::test::write_file(cut_path, text.substr(0, cut));
    auto shown = scout::agent::render_transcript(cut_path.string(), {});
    REQUIRE(shown);
    if (cut == 0) CHECK_THAT(*shown, Catch::Contains("the trace is empty"));
    else if (cut >= text.find('\n')) CHECK_THAT(*shown, Catch::Contains("Task: What do otters eat"));
    else CHECK_THAT(*shown, Catch::Contains("last line is incomplete"));
  }
}
