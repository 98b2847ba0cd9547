// StreamParser on the in-thought protocol (<search>, <run> inside the thinking), in every
// chunking (see stream_parser_test_support.h).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/agent/stream_parser_test_support.h"

using namespace scout::agent;
using Kind = StreamEvent::Kind;
using ojson = nlohmann::ordered_json;

namespace {

const std::vector<ThoughtAction> kActions{
    {"<search>", "</search>", "web_search", "query", ojson::object()},
    {"<run>", "</run>", "run_code", "code", ojson{{"language", "python"}}},
};

std::vector<StreamEvent> parse(const std::string& input, StreamParser::Start start = StreamParser::Start::answer) {
  return testing::parse_all_chunkings(ChatFormat(ChatFormat::Kind::qwen3).stream_tags(), input, start, kActions);
}

}  // namespace

TEST_CASE("a search written inside thinking becomes a thought call that stays part of the thinking", "[agent]") {
  const auto events = parse("<think>Let me check.\n<search> capital of France </search>\nIt is Paris.</think>Paris.");
  REQUIRE(events.size() == 4);
  CHECK(events[0].kind == Kind::thinking_text);
  CHECK(events[0].text == "Let me check.\n");
  REQUIRE(events[1].kind == Kind::thought_call);
  CHECK(events[1].text == "<search> capital of France </search>");
  CHECK(events[1].call.id == "thought_1");
  CHECK(events[1].call.name == "web_search");
  CHECK(events[1].call.arguments == ojson{{"query", "capital of France"}});
  CHECK(events[2].kind == Kind::thinking_text);
  CHECK(events[2].text == "\nIt is Paris.");
  CHECK(events[3].kind == Kind::answer_text);
}

TEST_CASE("a run action carries its fixed arguments and code verbatim; ids count up", "[agent]") {
  const auto events = parse("a<search>x</search><run>\nprint(\"<search>\")\n</run>", StreamParser::Start::thinking);
  REQUIRE(events.size() == 4);
  CHECK(events[1].call.id == "thought_1");
  REQUIRE(events[2].kind == Kind::thought_call);
  CHECK(events[2].call.id == "thought_2");
  CHECK(events[2].call.arguments == ojson{{"language", "python"}, {"code", "print(\"<search>\")"}});
  CHECK(events[3].kind == Kind::issue);  // the thinking was never closed
}

TEST_CASE("action tags outside the thinking, or without actions configured, are plain text", "[agent]") {
  const auto answer = parse("The tag <search>x</search> is shown.");
  REQUIRE(answer.size() == 1);
  CHECK(answer[0].kind == Kind::answer_text);

  const auto without = testing::parse_all_chunkings(ChatFormat(ChatFormat::Kind::qwen3).stream_tags(),
                                                    "<think><search>x</search></think>");
  REQUIRE(without.size() == 1);
  CHECK(without[0].kind == Kind::thinking_text);
  CHECK(without[0].text == "<search>x</search>");
}

TEST_CASE("an action the output never closes stays thinking text and is reported, not run", "[agent]") {
  const auto events = parse("<think>hmm <search>half a quer");
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == Kind::thinking_text);
  CHECK(events[0].text == "hmm <search>half a quer");
  CHECK(events[1].kind == Kind::issue);
  CHECK(events[1].text.find("was not run") != std::string::npos);
  CHECK_FALSE(events[1].call_not_run);
  CHECK(events[2].kind == Kind::issue);
}

TEST_CASE("the parser says whether the output is inside the thinking", "[agent]") {
  StreamParser parser(ChatFormat(ChatFormat::Kind::qwen3).stream_tags(), StreamParser::Start::answer, kActions);
  CHECK_FALSE(parser.in_thinking());
  (void)parser.feed("<think>a <sea");
  CHECK(parser.in_thinking());
  (void)parser.feed("rch>q");
  CHECK(parser.in_thinking());
  (void)parser.feed("</search></think>");
  CHECK_FALSE(parser.in_thinking());
}
