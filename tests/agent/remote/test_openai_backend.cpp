// OpenAiBackend against the replay server: streamed turns, tool calls, usage, and what the
// client sends.
#include <catch2/catch.hpp>

#include "tests/agent/remote/remote_test_support.h"

namespace scout::agent::remote {
namespace {

using testing::kTestApiKey;
using testing::options_for;
using testing::run_turn;
using testing::user_says;
using Kind = StreamEvent::Kind;
using json = nlohmann::json;

ToolSpec search_tool() {
  ToolSpec t;
  t.name = "web_search";
  t.description = "Searches the web.";
  t.parameters = nlohmann::ordered_json::parse(
      R"({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]})");
  return t;
}

TEST_CASE("a streamed turn with reasoning and content arrives as thinking and answer events", "[remote]") {
  test::ReplayServer server(R"({"chunk_chars": 5, "responses": [
    {"reasoning": "The user greets me. I should greet back.", "content": "Hello! How can I help you today?"}
  ]})");
  const auto run = run_turn(options_for(server.base_url()), user_says("hi"));
  REQUIRE(run.result->has_value());
  const TurnResult& turn = run.result->value();
  CHECK(turn.message.role == Role::assistant);
  CHECK(turn.message.reasoning == "The user greets me. I should greet back.");
  CHECK(turn.message.content == "Hello! How can I help you today?");
  CHECK(turn.finish == FinishReason::stop);
  CHECK(turn.issues.empty());
  // The text streamed in several events, in order, thinking first.
  CHECK(run.text(Kind::thinking_text) == turn.message.reasoning);
  CHECK(run.text(Kind::answer_text) == turn.message.content);
  CHECK(run.of_kind(Kind::answer_text).size() > 3);
  CHECK(run.events.front().kind == Kind::thinking_text);
  CHECK(run.events.back().kind == Kind::answer_text);
}

TEST_CASE("reasoning sent in the delta's reasoning field is thinking too", "[remote]") {
  test::ReplayServer server(R"([{"reasoning": "Short thought.", "reasoning_field": "reasoning", "content": "Done."}])");
  const auto run = run_turn(options_for(server.base_url()), user_says("go"));
  REQUIRE(run.result->has_value());
  CHECK(run.result->value().message.reasoning == "Short thought.");
  CHECK(run.result->value().message.content == "Done.");
}

TEST_CASE("think tags inline in the content are split into thinking and answer", "[remote]") {
  // chunk_chars 3 splits both tags across deltas.
  test::ReplayServer server(R"({"chunk_chars": 3, "responses": [
    {"content": "<think>\nCount the letters: r, r, r.\n</think>\n\nThere are 3 r's."}
  ]})");
  const auto run = run_turn(options_for(server.base_url()), user_says("How many r's in strawberry?"));
  REQUIRE(run.result->has_value());
  const TurnResult& turn = run.result->value();
  CHECK(turn.message.reasoning == "\nCount the letters: r, r, r.\n");
  CHECK(turn.message.content == "\n\nThere are 3 r's.");
  CHECK(run.text(Kind::thinking_text) == turn.message.reasoning);
  CHECK(run.text(Kind::answer_text).find("<think>") == std::string::npos);
  CHECK(turn.issues.empty());
}

TEST_CASE("two parallel tool calls are assembled from interleaved fragments in index order", "[remote]") {
  test::ReplayServer server(R"({"chunk_chars": 4, "responses": [
    {"content": "Let me look both up.",
     "interleave_tool_calls": true,
     "tool_calls": [
       {"id": "call_paris", "name": "web_search", "arguments": {"query": "weather in Paris", "max_results": 3}},
       {"id": "call_rome", "name": "fetch_url", "arguments": {"url": "https://example.com/rome?x=1&y=2"}}
     ]}
  ]})");
  const std::vector<ToolSpec> tools = {search_tool()};
  const auto run = run_turn(options_for(server.base_url()), user_says("weather?"), tools);
  REQUIRE(run.result->has_value());
  const TurnResult& turn = run.result->value();
  CHECK(turn.finish == FinishReason::tool_calls);
  CHECK(turn.message.content == "Let me look both up.");
  REQUIRE(turn.message.tool_calls.size() == 2);
  CHECK(turn.message.tool_calls[0].id == "call_paris");
  CHECK(turn.message.tool_calls[0].name == "web_search");
  CHECK(turn.message.tool_calls[0].arguments.dump() == R"({"query":"weather in Paris","max_results":3})");
  CHECK(turn.message.tool_calls[1].id == "call_rome");
  CHECK(turn.message.tool_calls[1].name == "fetch_url");
  CHECK(turn.message.tool_calls[1].arguments["url"] == "https://example.com/rome?x=1&y=2");
  // Each call was also streamed, once, in the same order.
  const auto calls = run.of_kind(Kind::tool_call);
  REQUIRE(calls.size() == 2);
  CHECK(calls[0]->call.id == "call_paris");
  CHECK(calls[1]->call.id == "call_rome");
}

TEST_CASE("tool call arguments that are not JSON become an issue and the turn still completes", "[remote]") {
  test::ReplayServer server(R"([
    {"tool_calls": [
       {"id": "call_ok", "name": "web_search", "arguments": {"query": "scout"}},
       {"id": "call_bad", "name": "web_search", "arguments": "{\"query\": \"unterminated"}
     ]}
  ])");
  const auto run = run_turn(options_for(server.base_url()), user_says("search"), {search_tool()});
  REQUIRE(run.result->has_value());
  const TurnResult& turn = run.result->value();
  REQUIRE(turn.message.tool_calls.size() == 1);
  CHECK(turn.message.tool_calls[0].id == "call_ok");
  REQUIRE(turn.issues.size() == 1);
  CHECK(turn.issues[0].kind == Kind::issue);
  CHECK_THAT(turn.issues[0].text, Catch::Contains("web_search") && Catch::Contains("not valid JSON"));
  CHECK(turn.issues[0].raw == "{\"query\": \"unterminated");
  CHECK(run.of_kind(Kind::issue).size() == 1);
  CHECK(turn.finish == FinishReason::tool_calls);
}

TEST_CASE("a tool call whose arguments are not an object becomes an issue", "[remote]") {
  test::ReplayServer server(R"([{"tool_calls": [{"id": "call_1", "name": "web_search", "arguments": "[1, 2]"}]}])");
  const auto run = run_turn(options_for(server.base_url()), user_says("search"), {search_tool()});
  REQUIRE(run.result->has_value());
  CHECK(run.result->value().message.tool_calls.empty());
  REQUIRE(run.result->value().issues.size() == 1);
  CHECK_THAT(run.result->value().issues[0].text, Catch::Contains("not a JSON object"));
  CHECK(run.result->value().finish == FinishReason::stop);
}

TEST_CASE("usage is read, and cached prompt tokens are not counted as prefilled", "[remote]") {
  test::ReplayServer server(R"([
    {"reasoning": "thinking", "content": "answer",
     "usage": {"prompt_tokens": 1200, "completion_tokens": 340, "total_tokens": 1540,
               "prompt_tokens_details": {"cached_tokens": 1024},
               "completion_tokens_details": {"reasoning_tokens": 300}}}
  ])");
  const auto run = run_turn(options_for(server.base_url()), user_says("hi"));
  REQUIRE(run.result->has_value());
  const Usage& usage = run.result->value().usage;
  CHECK(usage.prompt_tokens == 1200);
  CHECK(usage.prefilled_tokens == 176);
  CHECK(usage.completion_tokens == 340);
  CHECK(usage.reasoning_tokens == 300);
  CHECK(usage.prompt_ms >= 0);
  CHECK(usage.generate_ms >= 0);
}

TEST_CASE("DeepSeek's cache-hit count is read as cached prompt tokens", "[remote]") {
  test::ReplayServer server(R"([
    {"content": "ok", "usage": {"prompt_tokens": 500, "completion_tokens": 2,
                                "prompt_cache_hit_tokens": 448, "prompt_cache_miss_tokens": 52}}
  ])");
  const auto run = run_turn(options_for(server.base_url()), user_says("hi"));
  REQUIRE(run.result->has_value());
  CHECK(run.result->value().usage.prefilled_tokens == 52);
}

// A conversation with every kind of message the agent stores.
std::vector<Message> full_conversation() {
  std::vector<Message> messages;
  messages.push_back({Role::system, "You are Scout.", "", {}, "", ""});
  messages.push_back({Role::user, "What is the weather in Paris?", "", {}, "", ""});
  Message assistant{Role::assistant, "", "I should search for it.", {}, "", ""};
  ToolCall call;
  call.id = "call_abc";
  call.name = "web_search";
  call.arguments = nlohmann::ordered_json::parse(R"({"query": "Paris weather", "count": 2})");
  assistant.tool_calls.push_back(call);
  messages.push_back(assistant);
  messages.push_back({Role::tool, "Sunny, 24 °C.", "", {}, "call_abc", "web_search"});
  messages.push_back({Role::assistant, "<tool_call>{oops", "", {}, "", ""});
  messages.push_back({Role::tool, "Your tool call was not valid JSON.", "", {}, "", ""});
  return messages;
}

TEST_CASE("the request carries the conversation, tool results, tools, the key and the thinking switch", "[remote]") {
  test::ReplayServer server(R"([{"content": "It is sunny."}])");
  const auto run = run_turn(options_for(server.base_url()), full_conversation(), {search_tool()},
                            /*enable_thinking=*/false);
  REQUIRE(run.result->has_value());
  const auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const test::RecordedRequest& sent = requests[0];
  CHECK(sent.method == "POST");
  CHECK(sent.target == "/v1/chat/completions");
  CHECK(sent.header("Authorization") == std::string("Bearer ") + kTestApiKey);
  CHECK_THAT(sent.header("Content-Type"), Catch::StartsWith("application/json"));

  const json body = sent.json();
  REQUIRE(body.is_object());
  CHECK(body["model"] == "replay-model");
  CHECK(body["stream"] == true);
  CHECK(body["stream_options"]["include_usage"] == true);
  CHECK(body["max_tokens"] == 1024);
  CHECK(body["chat_template_kwargs"] == json{{"enable_thinking", false}});
  CHECK_FALSE(body.contains("temperature"));

  const json& m = body["messages"];
  REQUIRE(m.size() == 6);
  CHECK(m[0] == json{{"role", "system"}, {"content", "You are Scout."}});
  CHECK(m[1] == json{{"role", "user"}, {"content", "What is the weather in Paris?"}});
  CHECK(m[2]["role"] == "assistant");
  CHECK(m[2]["content"].is_null());
  CHECK_FALSE(m[2].contains("reasoning_content"));  // earlier thinking is not sent back
  CHECK_FALSE(m[2].contains("reasoning"));
  REQUIRE(m[2]["tool_calls"].size() == 1);
  CHECK(m[2]["tool_calls"][0]["id"] == "call_abc");
  CHECK(m[2]["tool_calls"][0]["type"] == "function");
  CHECK(m[2]["tool_calls"][0]["function"]["name"] == "web_search");
  // Arguments travel as JSON text, in the order the model wrote them.
  CHECK(m[2]["tool_calls"][0]["function"]["arguments"] == R"({"query":"Paris weather","count":2})");
  CHECK(m[3] == json{{"role", "tool"}, {"tool_call_id", "call_abc"}, {"content", "Sunny, 24 °C."}});
  CHECK(m[4] == json{{"role", "assistant"}, {"content", "<tool_call>{oops"}});
  // An observation that answers no call goes as a user message.
  CHECK(m[5] == json{{"role", "user"}, {"content", "Your tool call was not valid JSON."}});

  REQUIRE(body["tools"].size() == 1);
  CHECK(body["tools"][0]["type"] == "function");
  CHECK(body["tools"][0]["function"]["name"] == "web_search");
  CHECK(body["tools"][0]["function"]["description"] == "Searches the web.");
  CHECK(body["tools"][0]["function"]["parameters"]["required"] == json::array({"query"}));
}

TEST_CASE("with thinking on, no template switch is sent; options add sampling and reasoning", "[remote]") {
  test::ReplayServer server(R"([{"content": "a"}, {"content": "b"}])");
  auto options = options_for(server.base_url());
  REQUIRE(run_turn(options, full_conversation()).result->has_value());

  options.api_key.clear();
  options.temperature = 0.6;
  options.top_p = 0.95;
  options.send_reasoning = true;
  options.max_tokens_field = MaxTokensField::max_completion_tokens;
  options.extra_headers = {{"X-Title", "scout tests"}};
  REQUIRE(run_turn(options, full_conversation()).result->has_value());

  const auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  const json first = requests[0].json();
  CHECK_FALSE(first.contains("chat_template_kwargs"));
  CHECK_FALSE(first.contains("tools"));  // none offered

  const json second = requests[1].json();
  CHECK(requests[1].header("Authorization").empty());
  CHECK(requests[1].header("X-Title") == "scout tests");
  CHECK(second["temperature"] == 0.6);
  CHECK(second["top_p"] == 0.95);
  CHECK(second["max_completion_tokens"] == 1024);
  CHECK_FALSE(second.contains("max_tokens"));
  CHECK(second["messages"][2]["reasoning_content"] == "I should search for it.");
}

TEST_CASE("describe names the server and the model, never the key", "[remote]") {
  boost::asio::io_context io;
  auto options = options_for("http://127.0.0.1:8080/v1/");
  options.model = "qwen3-30b-a3b";
  const OpenAiBackend backend(io.get_executor(), options);
  CHECK(backend.describe() == "remote http://127.0.0.1:8080/v1 model qwen3-30b-a3b");
  CHECK(backend.describe().find(kTestApiKey) == std::string::npos);
}

}  // namespace
}  // namespace scout::agent::remote
