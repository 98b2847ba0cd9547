// The JSONL trace: redaction, robustness to a killed run, and the readable transcript.
#include <catch2/catch.hpp>
#include <sys/resource.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/trace.h"

namespace {

using namespace scout::agent;
using ojson = nlohmann::ordered_json;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("scout-trace-test-" + name + ".jsonl")).string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_run(TraceWriter& w) {
  w.write("run_start", ojson{{"task", "Find X"}, {"backend", "scripted"}, {"tools", {"web_search"}}});
  w.write("turn_start", ojson{{"step", 1}, {"messages", 1}});
  w.write("thinking", ojson{{"step", 1}, {"text", "I should search.\nYes."}});
  w.write("turn_end", ojson{{"step", 1}, {"finish", "tool_calls"}, {"usage", {{"prompt_tokens", 10}, {"prefilled_tokens", 10}, {"completion_tokens", 5}, {"tokens_per_s", 12.5}}}});
  w.write("tool_call", ojson{{"step", 1}, {"id", "call_1"}, {"name", "web_search"}, {"arguments", {{"query", "X"}}}});
  w.write("tool_result", ojson{{"step", 1}, {"id", "call_1"}, {"name", "web_search"}, {"is_error", false}, {"text", "1. X is Y"}, {"ms", 3.0}});
}

}  // namespace

TEST_CASE("secrets never reach the trace, whatever field they appear in", "[trace]") {
  const std::string path = temp_path("redact");
  const std::string key = "sk-test-0123456789abcdef";
  {
    auto w = TraceWriter::open(path, {key, "short"});
    REQUIRE(w);
    w->write("tool_result", ojson{{"text", "the page printed " + key + " in its body"}});
    w->write("run_end", ojson{{"answer", "key=" + key}, {"detail", "short words stay"}});
  }
  const std::string text = slurp(path);
  CHECK(text.find(key) == std::string::npos);
  CHECK(text.find("the page printed [redacted] in its body") != std::string::npos);
  CHECK(text.find("short words stay") != std::string::npos);  // secrets under 8 bytes are not registered
  std::filesystem::remove(path);
}

TEST_CASE("the transcript shows thinking, calls, results and the outcome", "[trace]") {
  const std::string path = temp_path("transcript");
  {
    auto w = TraceWriter::open(path);
    REQUIRE(w);
    write_run(*w);
    w->write("turn_start", ojson{{"step", 2}, {"messages", 3}});
    w->write("notice", ojson{{"text", "searching inside the thinking is off"}});
    w->write("tool_call", ojson{{"step", 2}, {"id", "thought_1"}, {"name", "web_search"},
                                {"arguments", {{"query", "Y"}}}, {"in_thought", true}});
    w->write("answer", ojson{{"step", 2}, {"text", "X is Y."}});
    w->write("turn_end", ojson{{"step", 2}, {"finish", "stop"}, {"usage", ojson::object()}});
    w->write("run_end", ojson{{"status", "answered"}, {"answer", "X is Y."}, {"steps", 2}, {"tool_calls", 1}, {"wall_ms", 1500.0}, {"usage", {{"completion_tokens", 9}}}});
  }
  auto t = render_transcript(path, {});
  REQUIRE(t);
  CHECK_THAT(*t, Catch::Contains("Task: Find X"));
  CHECK_THAT(*t, Catch::Contains("│ I should search.\n│ Yes."));
  CHECK_THAT(*t, Catch::Contains("→ web_search {\"query\":\"X\"}"));
  CHECK_THAT(*t, Catch::Contains("← web_search (3 ms)\n  1. X is Y"));
  CHECK_THAT(*t, Catch::Contains("note: searching inside the thinking is off\n"));
  CHECK_THAT(*t, Catch::Contains("→ web_search (while thinking) {\"query\":\"Y\"}"));
  CHECK_THAT(*t, Catch::Contains("answered after 2 steps, 1 tool calls"));
  CHECK_THAT(*t, Catch::Contains("Answer:\nX is Y."));
  auto hidden = render_transcript(path, TranscriptOptions{false, 2000});
  REQUIRE(hidden);
  CHECK_THAT(*hidden, !Catch::Contains("I should search"));
  std::filesystem::remove(path);
}

TEST_CASE("a trace cut by a kill reads up to the cut, saying so", "[trace]") {
  const std::string path = temp_path("cut");
  {
    auto w = TraceWriter::open(path);
    REQUIRE(w);
    write_run(*w);
  }
  {
    std::ofstream append(path, std::ios::app | std::ios::binary);
    append << R"({"type":"tool_result","text":"half a li)";
  }
  auto t = render_transcript(path, {});
  REQUIRE(t);
  CHECK_THAT(*t, Catch::Contains("← web_search"));
  CHECK_THAT(*t, Catch::Contains("last line is incomplete"));
  std::filesystem::remove(path);
}

TEST_CASE("an empty trace, left by a run killed before its first event, reads as empty", "[trace]") {
  const std::string path = temp_path("empty");
  {
    auto w = TraceWriter::open(path);
    REQUIRE(w);
  }
  auto t = render_transcript(path, {});
  REQUIRE(t);
  CHECK_THAT(*t, Catch::Contains("the trace is empty: the run was stopped before it wrote its first event"));
  std::filesystem::remove(path);
}

TEST_CASE("a trace the disk refuses stops with a message naming the file, and the run goes on", "[trace]") {
  // A file-size limit makes the disk refuse a regular file the way a full one does (EFBIG
  // instead of ENOSPC), without needing a full filesystem.
  const std::string path = temp_path("refused");
  struct rlimit before {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &before) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  auto w = TraceWriter::open(path);
  REQUIRE(w);
  struct rlimit tiny = before;
  tiny.rlim_cur = 16;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &tiny) == 0);
  w->write("run_start", ojson{{"task", "a task longer than sixteen bytes"}});
  ::setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, old_handler);
  CHECK(!w->enabled());
  CHECK_THAT(w->failed(), Catch::Contains("trace " + path + ": writing failed (File too large)"));
  w->write("run_end", ojson{{"status", "answered"}});  // a writer that failed writes nothing more
  CHECK(slurp(path).find("run_end") == std::string::npos);
  std::filesystem::remove(path);
}

TEST_CASE("a trace aimed at a device is refused before the run starts, naming the path", "[trace]") {
  auto w = TraceWriter::open("/dev/full");
  REQUIRE(!w);
  CHECK_THAT(w.error().message, Catch::Contains("trace /dev/full: a character device, not a regular file"));
}

TEST_CASE("a trace without run_end says the run did not finish", "[trace]") {
  const std::string path = temp_path("unfinished");
  {
    auto w = TraceWriter::open(path);
    REQUIRE(w);
    write_run(*w);
  }
  auto t = render_transcript(path, {});
  REQUIRE(t);
  CHECK_THAT(*t, Catch::Contains("the run did not finish"));
  std::filesystem::remove(path);
}

TEST_CASE("a corrupt line in the middle of a trace is an error naming the line", "[trace]") {
  const std::string path = temp_path("corrupt");
  {
    std::ofstream out(path, std::ios::binary);
    out << R"({"type":"run_start","task":"x"})" << "\nnot json\n" << R"({"type":"run_end"})" << "\n";
  }
  auto t = render_transcript(path, {});
  REQUIRE(!t);
  CHECK_THAT(t.error().message, Catch::Contains(":2: not a trace event"));
  std::filesystem::remove(path);
  CHECK(!render_transcript(path, {}));  // missing file
}
