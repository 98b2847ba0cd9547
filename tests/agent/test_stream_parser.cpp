// StreamParser on Qwen3-style output, in every chunking (see stream_parser_test_support.h).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/agent/stream_parser_test_support.h"

using namespace scout::agent;
using Kind = StreamEvent::Kind;
using ojson = nlohmann::ordered_json;

namespace {

const StreamTags kQwen3 = ChatFormat(ChatFormat::Kind::qwen3).stream_tags();

std::vector<StreamEvent> parse(const std::string& input, StreamParser::Start start = StreamParser::Start::answer) {
  return testing::parse_all_chunkings(kQwen3, input, start);
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

TEST_CASE("a tool call whose arguments nest 200,000 levels deep is an issue the model reads, not a crash", "[agent][nesting]") {
  // Fed in one piece: the every-chunking helper would take too long on 400,000 bytes.
  StreamParser parser(kQwen3, StreamParser::Start::answer);
  const std::string call = "<tool_call>{\"name\": \"f\", \"arguments\": {\"q\": " + std::string(200000, '[') +
                           std::string(200000, ']') + "}}</tool_call>";
  auto events = parser.feed(call + "after");
  const auto tail = parser.finish();
  events.insert(events.end(), tail.begin(), tail.end());
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == Kind::issue);
  CHECK(events[0].call_not_run);
  CHECK_THAT(events[0].text, Catch::Contains("not valid JSON") && Catch::Contains("nested deeper than 128 levels"));
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
