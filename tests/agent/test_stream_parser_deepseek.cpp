// StreamParser on DeepSeek-V3/R1 tool-call markup, in every chunking (see
// stream_parser_test_support.h). The special tokens are multi-byte UTF-8, so byte chunking also
// splits them mid-character.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/agent/stream_parser_test_support.h"

using namespace scout::agent;
using Kind = StreamEvent::Kind;
using ojson = nlohmann::ordered_json;

namespace {

const ChatFormat kDeepSeek(ChatFormat::Kind::deepseek_v3);
const std::string kCallsBegin = "<｜tool▁calls▁begin｜>";
const std::string kCallsEnd = "<｜tool▁calls▁end｜>";
const std::string kCallBegin = "<｜tool▁call▁begin｜>";
const std::string kCallEnd = "<｜tool▁call▁end｜>";
const std::string kSep = "<｜tool▁sep｜>";

std::vector<StreamEvent> parse(const std::string& input) {
  return testing::parse_all_chunkings(kDeepSeek.stream_tags(), input);
}

// One call as DeepSeek-V3 writes it.
std::string v3_call(const std::string& name, const std::string& json_args) {
  return kCallBegin + "function" + kSep + name + "\n```json\n" + json_args + "\n```" + kCallEnd;
}

}  // namespace

TEST_CASE("a DeepSeek block of calls gives each call with its arguments and no layout text", "[agent]") {
  const auto events = parse(kCallsBegin + v3_call("web_search", R"({"query": "東京 ```", "max_results": 3})") + "\n" +
                            v3_call("fetch_url", R"({"url": "https://example.org/"})") + kCallsEnd);
  REQUIRE(events.size() == 2);
  REQUIRE(events[0].kind == Kind::tool_call);
  CHECK(events[0].call.id == "call_1");
  CHECK(events[0].call.name == "web_search");
  CHECK(events[0].call.arguments.dump() == R"({"query":"東京 ```","max_results":3})");
  REQUIRE(events[1].kind == Kind::tool_call);
  CHECK(events[1].call.id == "call_2");
  CHECK(events[1].call.name == "fetch_url");
  CHECK(events[1].call.arguments.at("url") == "https://example.org/");
}

TEST_CASE("text before and after a DeepSeek block of calls is answer text", "[agent]") {
  const auto events = parse("Let me look.\n" + kCallsBegin + v3_call("f", "{}") + kCallsEnd + " Done");
  REQUIRE(events.size() == 3);
  CHECK(events[0].text == "Let me look.\n");
  CHECK(events[1].call.name == "f");
  CHECK(events[2].kind == Kind::answer_text);
  CHECK(events[2].text == " Done");
}

TEST_CASE("a tool-calling turn rendered by the DeepSeek-V3 template parses back to the same calls", "[agent]") {
  Message turn{Role::assistant, "", "", {}, {}, {}};
  turn.tool_calls.push_back(ToolCall{"call_1", "web_search", ojson{{"query", "naïve \"cats\""}, {"max_results", 2}}});
  turn.tool_calls.push_back(ToolCall{"call_2", "run_code", ojson{{"language", "python"}, {"code", "print(1)\n"}}});
  const std::vector<Message> messages{Message{Role::user, "Go.", {}, {}, {}, {}}, turn};
  const std::string text = kDeepSeek.render(messages, {}, RenderOptions{false, true});
  const std::string assistant = "<｜Assistant｜>";
  const std::string eos = "<｜end▁of▁sentence｜>";
  const std::size_t from = text.rfind(assistant) + assistant.size();
  REQUIRE(text.size() > eos.size());
  REQUIRE(text.compare(text.size() - eos.size(), eos.size(), eos) == 0);
  const std::string generated = text.substr(from, text.size() - eos.size() - from);
  INFO(generated);
  const auto events = parse(generated);
  REQUIRE(events.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    REQUIRE(events[i].kind == Kind::tool_call);
    CHECK(events[i].call.name == turn.tool_calls[i].name);
    CHECK(events[i].call.arguments == turn.tool_calls[i].arguments);
  }
}

TEST_CASE("DeepSeek-V3.1 calls (name before the separator, bare JSON after) are read too", "[agent]") {
  const auto events = parse(kCallsBegin + kCallBegin + "web_search" + kSep + R"({"query": "x"})" + kCallEnd + kCallsEnd);
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].kind == Kind::tool_call);
  CHECK(events[0].call.name == "web_search");
  CHECK(events[0].call.arguments == ojson{{"query", "x"}});
}

TEST_CASE("a DeepSeek call may leave out the code fence or the arguments", "[agent]") {
  const auto events = parse(kCallsBegin + kCallBegin + "function" + kSep + "fetch_url\n{\"url\": \"u\"}" + kCallEnd +
                            kCallBegin + "function" + kSep + "list_everything" + kCallEnd + kCallsEnd);
  REQUIRE(events.size() == 2);
  CHECK(events[0].call.name == "fetch_url");
  CHECK(events[0].call.arguments == ojson{{"url", "u"}});
  CHECK(events[1].call.name == "list_everything");
  CHECK(events[1].call.arguments == ojson::object());
}

TEST_CASE("a DeepSeek call outside a block of calls is still a call", "[agent]") {
  const auto events = parse("Searching. " + v3_call("web_search", R"({"query": "q"})"));
  REQUIRE(events.size() == 2);
  CHECK(events[0].text == "Searching. ");
  CHECK(events[1].call.name == "web_search");
}

TEST_CASE("malformed DeepSeek calls are issues that show the model how to write one", "[agent]") {
  struct Case {
    std::string body;
    std::string says;
  };
  const std::vector<Case> cases{
      {"function web_search\n```json\n{}\n```", "no <｜tool▁sep｜>"},
      {"function" + kSep + "\n```json\n{\"q\": 1}\n```", "names no function"},
      {"function" + kSep + "f\n```json\n{\"q\": }\n```", "not valid JSON"},
      {"function" + kSep + "f\n```json\n[1, 2]\n```", "an array, not a JSON object"},
  };
  for (const Case& c : cases) {
    const auto events = parse(kCallsBegin + kCallBegin + c.body + kCallEnd + kCallsEnd + "after");
    INFO(c.body);
    REQUIRE(events.size() == 2);
    REQUIRE(events[0].kind == Kind::issue);
    CHECK(events[0].call_not_run);
    CHECK(events[0].text.find(c.says) != std::string::npos);
    CHECK(events[0].text.find("Write each call as " + kCallBegin + "function" + kSep) != std::string::npos);
    CHECK(events[0].raw == kCallBegin + c.body + kCallEnd);
    CHECK(events[1].text == "after");
  }
}

TEST_CASE("a DeepSeek call cut off by the end of the stream is an issue; finished calls in an open block stand",
          "[agent]") {
  const auto cut = parse(kCallsBegin + v3_call("a", "{}") + kCallBegin + "function" + kSep + "b\n```js");
  REQUIRE(cut.size() == 2);
  CHECK(cut[0].call.name == "a");
  CHECK(cut[1].kind == Kind::issue);
  CHECK(cut[1].call_not_run);
  CHECK(cut[1].text.find("ended before " + kCallEnd) != std::string::npos);

  const auto open_block = parse(kCallsBegin + v3_call("a", "{}") + "\n");
  REQUIRE(open_block.size() == 1);
  CHECK(open_block[0].call.name == "a");
}

TEST_CASE("an empty DeepSeek block of calls is an issue; a stray end of block is reported and ignored", "[agent]") {
  const auto empty = parse("x" + kCallsBegin + "\n" + kCallsEnd);
  REQUIRE(empty.size() == 2);
  CHECK(empty[0].text == "x");
  CHECK(empty[1].kind == Kind::issue);
  CHECK(empty[1].call_not_run);
  CHECK(empty[1].text.find("held none") != std::string::npos);

  const auto stray = parse("answer" + kCallsEnd + " more");
  REQUIRE(stray.size() == 3);
  CHECK(stray[1].kind == Kind::issue);
  CHECK_FALSE(stray[1].call_not_run);
  CHECK(stray[1].raw == kCallsEnd);
  CHECK(stray[2].text == " more");
}

TEST_CASE("words between DeepSeek calls are kept as answer text, only whitespace is dropped", "[agent]") {
  const auto events = parse(kCallsBegin + v3_call("a", "{}") + "\n and then \n" + v3_call("b", "{}") + kCallsEnd);
  REQUIRE(events.size() == 3);
  CHECK(events[0].call.name == "a");
  CHECK(events[1].text == "\n and then \n");
  CHECK(events[2].call.name == "b");
}

TEST_CASE("DeepSeek-R1 output read from inside its opened think block gives reasoning, then calls or text",
          "[agent]") {
  const StreamTags r1 = ChatFormat(ChatFormat::Kind::deepseek_r1).stream_tags();
  const auto events = testing::parse_all_chunkings(
      r1, "Search first.\n</think>\n\n" + kCallsBegin + v3_call("web_search", R"({"query": "q"})") + kCallsEnd,
      StreamParser::Start::thinking);
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == Kind::thinking_text);
  CHECK(events[0].text == "Search first.\n");
  CHECK(events[1].text == "\n\n");
  CHECK(events[2].call.name == "web_search");
}
