// The remote backend's pure parts: Retry-After, backoff, error texts, and the stream assembler
// fed chunks in shapes some servers send.
#include <catch2/catch.hpp>

#include <chrono>

#include "agent/remote/openai_errors.h"
#include "agent/remote/openai_stream.h"

namespace scout::agent::remote {
namespace {

using namespace std::chrono_literals;
using Kind = StreamEvent::Kind;

// 1994-11-06 08:49:37 UTC, the date RFC 9110's examples use.
std::chrono::system_clock::time_point rfc_example_time() {
  return std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min + 37s;
}

TEST_CASE("Retry-After in seconds and in each HTTP date form becomes a delay", "[remote]") {
  const auto now = rfc_example_time() - 90s;
  CHECK(parse_retry_after("1", now) == 1000ms);
  CHECK(parse_retry_after(" 120 ", now) == 120s);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 90s);
  CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now) == 90s);
  CHECK(parse_retry_after("Sun Nov  6 08:49:37 1994", now) == 90s);
  // A date already past means "now".
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", rfc_example_time() + 1h) == 0ms);
  CHECK_FALSE(parse_retry_after("", now).has_value());
  CHECK_FALSE(parse_retry_after("soon", now).has_value());
  CHECK_FALSE(parse_retry_after("-5", now).has_value());
  CHECK_FALSE(parse_retry_after("Sun, 31 Feb 1994 08:49:37 GMT", now).has_value());
}

TEST_CASE("backoff doubles from the initial delay and stops at the cap", "[remote]") {
  CHECK(backoff_delay(1, 500ms, 10s) == 500ms);
  CHECK(backoff_delay(2, 500ms, 10s) == 1000ms);
  CHECK(backoff_delay(3, 500ms, 10s) == 2000ms);
  CHECK(backoff_delay(6, 500ms, 10s) == 10s);
  CHECK(backoff_delay(60, 500ms, 10s) == 10s);
}

TEST_CASE("an error body's message is found in the shapes servers use", "[remote]") {
  CHECK(server_error_text(R"({"error": {"message": "bad key", "type": "auth"}})") == "bad key");
  CHECK(server_error_text(R"({"error": "Model not loaded"})") == "Model not loaded");
  CHECK(server_error_text(R"({"object": "error", "message": "vLLM says no"})") == "vLLM says no");
  CHECK(server_error_text(R"({"detail": "Not Found"})") == "Not Found");
  CHECK(server_error_text("  <html>Bad Gateway</html>\n") == "<html>Bad Gateway</html>");
  CHECK(server_error_text(std::string(2000, 'x')).size() < 500);
}

TEST_CASE("status errors never carry the API key, even when the server quotes it", "[remote]") {
  OpenAiOptions options;
  options.base_url = "https://api.example.com/v1";
  options.model = "m";
  options.api_key = "sk-live-abcdef";
  options.api_key_source = "EXAMPLE_API_KEY";
  const std::string message =
      status_error_message(401, "Unauthorized", R"({"error": {"message": "key sk-live-abcdef is revoked"}})", options);
  CHECK(message.find("sk-live-abcdef") == std::string::npos);
  CHECK_THAT(message, Catch::Contains("key <redacted> is revoked") && Catch::Contains("EXAMPLE_API_KEY"));

  options.api_key.clear();
  CHECK_THAT(status_error_message(401, "Unauthorized", "", options), Catch::Contains("none was sent"));
  CHECK(redact("a-b-a-b", "a") == "<redacted>-b-<redacted>-b");
}

TEST_CASE("only statuses that may succeed later are retried", "[remote]") {
  for (int status : {408, 409, 429, 500, 502, 503, 504}) CHECK(is_retryable_status(status));
  for (int status : {400, 401, 403, 404, 413, 422}) CHECK_FALSE(is_retryable_status(status));
}

struct Fed {
  std::vector<StreamEvent> events;
  TurnAssembler assembler{[this](const StreamEvent& e) { events.push_back(e); }, TurnAssembler::Clock::now()};
  void feed(const char* data) {
    INFO(data);
    auto ok = assembler.on_data(data);
    REQUIRE(ok.has_value());
  }
};

TEST_CASE("tool call deltas without an index are assembled by their ids", "[remote]") {
  Fed f;
  f.feed(R"({"choices": [{"delta": {"tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{\"x\""}}]}}]})");
  f.feed(R"({"choices": [{"delta": {"tool_calls": [{"function": {"arguments": ": 1}"}}]}}]})");
  f.feed(R"({"choices": [{"delta": {"tool_calls": [{"id": "b", "function": {"name": "g", "arguments": {"y": 2}}}]}}]})");
  f.feed(R"({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]})");
  f.feed("[DONE]");
  CHECK(f.assembler.done());
  const TurnResult turn = f.assembler.finish(false);
  REQUIRE(turn.message.tool_calls.size() == 2);
  CHECK(turn.message.tool_calls[0].id == "a");
  CHECK(turn.message.tool_calls[0].arguments.dump() == R"({"x":1})");
  CHECK(turn.message.tool_calls[1].id == "b");
  CHECK(turn.message.tool_calls[1].arguments.dump() == R"({"y":2})");
  CHECK(turn.finish == FinishReason::tool_calls);
}

TEST_CASE("tool calls without ids get unique ones, also beside inline calls", "[remote]") {
  Fed f;
  f.feed(R"({"choices": [{"delta": {"content": "<tool_call>\n{\"name\": \"inline\", \"arguments\": {}}\n</tool_call>"}}]})");
  f.feed(R"({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"name": "structured", "arguments": ""}}]}}]})");
  f.feed(R"({"choices": [{"delta": {}, "finish_reason": "stop"}]})");
  const TurnResult turn = f.assembler.finish(false);
  REQUIRE(turn.message.tool_calls.size() == 2);
  CHECK(turn.message.tool_calls[0].name == "inline");
  CHECK(turn.message.tool_calls[1].name == "structured");
  CHECK(turn.message.tool_calls[1].arguments == nlohmann::ordered_json::object());  // "" means no arguments
  CHECK_FALSE(turn.message.tool_calls[0].id.empty());
  CHECK(turn.message.tool_calls[0].id != turn.message.tool_calls[1].id);
  CHECK(turn.finish == FinishReason::tool_calls);  // the server said "stop", but calls were made
}

TEST_CASE("a call cut by the token limit becomes an issue that says so", "[remote]") {
  Fed f;
  f.feed(R"({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "f", "arguments": "{\"q\": \"abc"}}]}}]})");
  f.feed(R"({"choices": [{"delta": {}, "finish_reason": "length"}]})");
  const TurnResult turn = f.assembler.finish(false);
  CHECK(turn.finish == FinishReason::length);
  CHECK(turn.message.tool_calls.empty());
  REQUIRE(turn.issues.size() == 1);
  CHECK_THAT(turn.issues[0].text, Catch::Contains("token limit"));
  CHECK(f.events.back().kind == Kind::issue);
}

TEST_CASE("error payloads and named error events fail the turn with their message", "[remote]") {
  {
    Fed f;
    auto r = f.assembler.on_data(R"({"error": {"message": "overloaded", "code": 503}})");
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message, Catch::Contains("overloaded"));
  }
  {
    Fed f;
    auto r = f.assembler.on_named_event("error", R"({"message": "slot unavailable"})");
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message, Catch::Contains("slot unavailable"));
  }
  {
    Fed f;
    CHECK(f.assembler.on_named_event("ping", "{}").has_value());  // unknown names are ignored
    auto r = f.assembler.on_data(R"({"choices": {"delta": {}}})");
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message, Catch::Contains("\"choices\" is not an array"));
  }
}

TEST_CASE("the received summary counts chunks, answer, thinking and started calls", "[remote]") {
  Fed f;
  f.feed(R"({"choices": [{"delta": {"reasoning_content": "héllo"}}]})");
  f.feed(R"({"choices": [{"delta": {"content": "ab"}}]})");
  f.feed(R"({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "x", "function": {"name": "f"}}]}}]})");
  CHECK(f.assembler.received_summary() == "3 chunks (2 characters of answer, 5 of thinking, 1 tool call started)");
}

}  // namespace
}  // namespace scout::agent::remote
