// StreamParser on Qwen3-style output. Every input is also fed in every 2- and 3-piece split
// (short inputs) and in 1-, 2- and 3-byte chunks, and must give the same events as fed whole,
// once adjacent text events of the same kind are joined (how text is divided into events
// depends on the chunking by design; what it says must not).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "agent/stream_parser.h"

using namespace scout::agent;
using Kind = StreamEvent::Kind;
using ojson = nlohmann::ordered_json;

namespace {

const StreamTags kQwen3 = ChatFormat(ChatFormat::Kind::qwen3).stream_tags();

// Joins adjacent text events of one kind.
std::vector<StreamEvent> normalize(const std::vector<StreamEvent>& events) {
  std::vector<StreamEvent> out;
  for (const StreamEvent& e : events) {
    const bool is_text = e.kind == Kind::thinking_text || e.kind == Kind::answer_text;
    REQUIRE((!is_text || !e.text.empty()));  // no empty text events
    if (is_text && !out.empty() && out.back().kind == e.kind) {
      out.back().text += e.text;
    } else {
      out.push_back(e);
    }
  }
  return out;
}

std::vector<StreamEvent> parse_chunks(const std::vector<std::string>& chunks, StreamParser::Start start) {
  StreamParser parser(kQwen3, start);
  std::vector<StreamEvent> all;
  for (const std::string& c : chunks) {
    auto events = parser.feed(c);
    all.insert(all.end(), events.begin(), events.end());
  }
  auto tail = parser.finish();
  all.insert(all.end(), tail.begin(), tail.end());
  return normalize(all);
}

bool same(const std::vector<StreamEvent>& a, const std::vector<StreamEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != b[i].kind || a[i].text != b[i].text || a[i].raw != b[i].raw || a[i].call.id != b[i].call.id ||
        a[i].call.name != b[i].call.name || a[i].call.arguments != b[i].call.arguments)
      return false;
  }
  return true;
}

std::string describe(const std::vector<StreamEvent>& events) {
  std::string out;
  for (const StreamEvent& e : events) {
    const char* names[] = {"thinking", "answer", "tool_call", "issue"};
    out += std::string(names[static_cast<int>(e.kind)]) + "[" + e.text + "|" + e.raw + "|" + e.call.name + " " +
           e.call.arguments.dump() + "]\n";
  }
  return out;
}

// Parses `input` whole, checks every chunking gives the same events, returns them.
std::vector<StreamEvent> parse(const std::string& input, StreamParser::Start start = StreamParser::Start::answer) {
  const auto whole = parse_chunks({input}, start);
  INFO("input: " << input << "\nwhole:\n" << describe(whole));
  const size_t n = input.size();
  for (size_t i = 0; i <= n; ++i) {
    const auto split = parse_chunks({input.substr(0, i), input.substr(i)}, start);
    INFO("split at " << i << ":\n" << describe(split));
    REQUIRE(same(split, whole));
    if (n > 120) continue;
    for (size_t j = i; j <= n; ++j) {
      REQUIRE(same(parse_chunks({input.substr(0, i), input.substr(i, j - i), input.substr(j)}, start), whole));
    }
  }
  for (size_t size = 1; size <= 3; ++size) {
    std::vector<std::string> chunks;
    for (size_t i = 0; i < n; i += size) chunks.push_back(input.substr(i, size));
    INFO("chunks of " << size);
    REQUIRE(same(parse_chunks(chunks, start), whole));
  }
  return whole;
}

}  // namespace

TEST_CASE("plain answer text passes through, including text that only resembles tags", "[agent]") {
  const auto events = parse("Hello <b>world</b>, a < b and <thinking> <tool_calls> 東京");
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == Kind::answer_text);
  CHECK(events[0].text == "Hello <b>world</b>, a < b and <thinking> <tool_calls> 東京");
}

TEST_CASE("a think block becomes thinking text and the rest answer text", "[agent]") {
  const auto events = parse("<think>\nLet me think.\n</think>\n\nThe answer is 4.");
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == Kind::thinking_text);
  CHECK(events[0].text == "\nLet me think.\n");
  CHECK(events[1].kind == Kind::answer_text);
  CHECK(events[1].text == "\n\nThe answer is 4.");
}

TEST_CASE("a parser started inside thinking reads thinking until the close tag", "[agent]") {
  const auto events = parse("still reasoning</think>\n\nDone.", StreamParser::Start::thinking);
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == Kind::thinking_text);
  CHECK(events[0].text == "still reasoning");
  CHECK(events[1].text == "\n\nDone.");
}

TEST_CASE("a tool call is parsed with its name and arguments in key order", "[agent]") {
  const auto events = parse(
      "I'll search.\n<tool_call>\n{\"name\": \"web_search\", \"arguments\": {\"query\": \"東京 </tool\", "
      "\"max_results\": 3}}\n</tool_call>");
  REQUIRE(events.size() == 2);
  CHECK(events[0].text == "I'll search.\n");
  REQUIRE(events[1].kind == Kind::tool_call);
  CHECK(events[1].call.id == "call_1");
  CHECK(events[1].call.name == "web_search");
  CHECK(events[1].call.arguments.dump() == R"({"query":"東京 </tool","max_results":3})");
}

TEST_CASE("parallel tool calls get ids in order and the text between them is kept", "[agent]") {
  const auto events = parse(
      "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n<tool_call>{\"name\": \"b\"}</tool_call>");
  REQUIRE(events.size() == 3);
  CHECK(events[0].call.id == "call_1");
  CHECK(events[0].call.name == "a");
  CHECK(events[1].kind == Kind::answer_text);
  CHECK(events[1].text == "\n");
  CHECK(events[2].call.id == "call_2");
  CHECK(events[2].call.name == "b");
  CHECK(events[2].call.arguments == ojson::object());  // no "arguments": a call without parameters
}

TEST_CASE("malformed JSON in a tool call is an issue that carries the text and parsing goes on", "[agent]") {
  const auto events = parse("<tool_call>{\"name\": \"a\", \"arguments\": {\"q\": }</tool_call>after");
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == Kind::issue);
  CHECK(events[0].text.find("not valid JSON") != std::string::npos);
  CHECK(events[0].raw == "<tool_call>{\"name\": \"a\", \"arguments\": {\"q\": }</tool_call>");
  CHECK(events[1].text == "after");
}

TEST_CASE("tool calls without a name or with non-object arguments are issues", "[agent]") {
  for (const std::string body : {R"({"arguments": {}})", R"({"name": "", "arguments": {}})", R"({"name": 5})",
                                 R"(["a"])", R"({"name": "f", "arguments": "{\"q\": 1}"})",
                                 R"({"name": "f", "arguments": [1]})"}) {
    const auto events = parse("<tool_call>" + body + "</tool_call>");
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == Kind::issue);
    CHECK(events[0].text.find("was not run") != std::string::npos);
    CHECK(events[0].raw == "<tool_call>" + body + "</tool_call>");
  }
}

TEST_CASE("an unclosed tool call at the end of the stream is an issue with its text", "[agent]") {
  const auto events = parse("text<tool_call>{\"name\": \"f\", \"argu");
  REQUIRE(events.size() == 2);
  CHECK(events[0].text == "text");
  CHECK(events[1].kind == Kind::issue);
  CHECK(events[1].text.find("ended before </tool_call>") != std::string::npos);
  CHECK(events[1].raw == "<tool_call>{\"name\": \"f\", \"argu");
}

TEST_CASE("an unclosed think block at the end of the stream is an issue after its text", "[agent]") {
  const auto events = parse("<think>I was cut off <tool_call> mid-tho");
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == Kind::thinking_text);
  CHECK(events[0].text == "I was cut off <tool_call> mid-tho");  // tool-call tags inside thinking are text
  CHECK(events[1].kind == Kind::issue);
  CHECK(events[1].text.find("not closed") != std::string::npos);
}

TEST_CASE("stray closing tags are reported and the text around them is kept", "[agent]") {
  const auto events = parse("a</think>b</tool_call>c");
  REQUIRE(events.size() == 5);
  CHECK(events[0].text == "a");
  CHECK(events[1].kind == Kind::issue);
  CHECK(events[1].raw == "</think>");
  CHECK(events[2].text == "b");
  CHECK(events[3].kind == Kind::issue);
  CHECK(events[3].raw == "</tool_call>");
  CHECK(events[4].text == "c");
}

TEST_CASE("a tag prefix left at the end of the stream is answer text", "[agent]") {
  const auto events = parse("answer <tool_ca");
  REQUIRE(events.size() == 1);
  CHECK(events[0].text == "answer <tool_ca");
}

TEST_CASE("a full Qwen3 turn with thinking, text and a call parses the same in any chunking", "[agent]") {
  const auto events = parse(
      "<think>\nThe user wants \"cats\" — search.\n</think>\n\nSearching.\n<tool_call>\n"
      "{\"name\": \"web_search\", \"arguments\": {\"query\": \"naïve \\\"cats\\\" 🙂\", \"n\": [1, 2.5]}}\n"
      "</tool_call>");
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == Kind::thinking_text);
  CHECK(events[1].text == "\n\nSearching.\n");
  REQUIRE(events[2].kind == Kind::tool_call);
  CHECK(events[2].call.arguments.at("query") == "naïve \"cats\" 🙂");
}

TEST_CASE("issues about tool calls say a call was not run; stray tags and open thinking do not", "[agent]") {
  CHECK(parse("<tool_call>{\"name\": }</tool_call>").at(0).call_not_run);
  CHECK(parse("<tool_call>{\"name\": \"f\"").back().call_not_run);  // never closed
  const auto stray = parse("answer</think>");
  REQUIRE(stray.size() == 2);
  CHECK(stray[1].kind == Kind::issue);
  CHECK_FALSE(stray[1].call_not_run);
  const auto open = parse("<think>still thinking");
  CHECK(open.back().kind == Kind::issue);
  CHECK_FALSE(open.back().call_not_run);
}
