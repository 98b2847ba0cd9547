// OpenAiBackend when things go wrong: retried statuses, refused requests, streams that are cut,
// stall or carry garbage, cancellation, and servers that are not there.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>

#include "tests/agent/remote/remote_test_support.h"

namespace scout::agent::remote {
namespace {

using testing::kTestApiKey;
using testing::options_for;
using testing::run_turn;
using testing::user_says;
using Kind = StreamEvent::Kind;

std::string error_of(const testing::TurnRun& run) {
  REQUIRE(run.result.has_value());
  REQUIRE_FALSE(run.result->has_value());
  return run.result->error().message;
}

// A port on 127.0.0.1 that nothing listens on (bound, then released).
std::uint16_t unused_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::address_v4::loopback(), 0});
  const std::uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

TEST_CASE("a 500 is retried after the initial backoff and the next response is used", "[remote]") {
  test::ReplayServer server(R"([{"status": 500}, {"content": "recovered"}])");
  std::vector<RetryNotice> retries;
  auto options = options_for(server.base_url());
  options.on_retry = [&](const RetryNotice& n) { retries.push_back(n); };
  const auto run = run_turn(options, user_says("hi"));
  REQUIRE(run.result->has_value());
  CHECK(run.result->value().message.content == "recovered");
  CHECK(server.requests().size() == 2);
  REQUIRE(retries.size() == 1);
  CHECK(retries[0].attempt == 1);
  CHECK_FALSE(retries[0].delay_from_server);
  CHECK(retries[0].delay == options.initial_backoff);
  CHECK_THAT(retries[0].reason, Catch::Contains("HTTP 500"));
}

TEST_CASE("a 429 with Retry-After is retried after the delay the server asked for", "[remote]") {
  test::ReplayServer server(R"([{"status": 429, "retry_after": 1}, {"content": "after the wait"}])");
  std::vector<RetryNotice> retries;
  auto options = options_for(server.base_url());
  options.on_retry = [&](const RetryNotice& n) { retries.push_back(n); };
  const auto run = run_turn(options, user_says("hi"));
  REQUIRE(run.result->has_value());
  CHECK(run.result->value().message.content == "after the wait");
  CHECK(server.requests().size() == 2);
  REQUIRE(retries.size() == 1);
  CHECK(retries[0].delay_from_server);
  CHECK(retries[0].delay == std::chrono::seconds(1));  // not the 1 ms initial backoff
}

TEST_CASE("backoff doubles between retries until they run out, then the error names the status", "[remote]") {
  test::ReplayServer server(R"([{"status": 503}, {"status": 503}, {"status": 503,
    "body": {"error": {"message": "model is loading"}}}])");
  std::vector<RetryNotice> retries;
  auto options = options_for(server.base_url());
  options.on_retry = [&](const RetryNotice& n) { retries.push_back(n); };
  const std::string error = error_of(run_turn(options, user_says("hi")));
  CHECK_THAT(error, Catch::Contains("after 2 retries") && Catch::Contains("HTTP 503") &&
                        Catch::Contains("model is loading") && Catch::Contains(server.base_url()));
  CHECK(server.requests().size() == 3);
  REQUIRE(retries.size() == 2);
  CHECK(retries[1].delay == 2 * retries[0].delay);
}

TEST_CASE("a Retry-After longer than the longest configured wait ends the turn", "[remote]") {
  test::ReplayServer server(R"([{"status": 429, "retry_after": 3600}])");
  const std::string error = error_of(run_turn(options_for(server.base_url()), user_says("hi")));
  CHECK_THAT(error, Catch::Contains("retry after 3600 s") && Catch::Contains("HTTP 429"));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a 401 says the API key was refused and where it is set, without quoting it", "[remote]") {
  test::ReplayServer server(std::string(R"([{"status": 401, "body": {"error": {"message":
    "Incorrect API key provided: )") + kTestApiKey + R"(.", "type": "invalid_request_error"}}}])");
  const std::string error = error_of(run_turn(options_for(server.base_url()), user_says("hi")));
  CHECK_THAT(error, Catch::Contains("HTTP 401") && Catch::Contains("API key") &&
                        Catch::Contains("SCOUT_TEST_API_KEY") && Catch::Contains("Incorrect API key provided"));
  CHECK(error.find(kTestApiKey) == std::string::npos);
  CHECK(server.requests().size() == 1);  // not retried
}

TEST_CASE("a 404 says to check the model name and the base URL", "[remote]") {
  test::ReplayServer server(R"([{"status": 404, "body": {"error": {"message": "The model `replay-model` does not exist"}}}])");
  const std::string error = error_of(run_turn(options_for(server.base_url()), user_says("hi")));
  CHECK_THAT(error, Catch::Contains("HTTP 404") && Catch::Contains("does not exist") &&
                        Catch::Contains("model name ('replay-model')") && Catch::Contains("base URL"));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a 400 about the context length says the conversation does not fit", "[remote]") {
  test::ReplayServer server(R"([{"status": 400, "body": {"error": {"message":
    "This model's maximum context length is 32768 tokens. However, you requested 40120 tokens."}}}])");
  const std::string error = error_of(run_turn(options_for(server.base_url()), user_says("hi")));
  CHECK_THAT(error, Catch::Contains("maximum context length is 32768") && Catch::Contains("context window"));
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a stream cut midway ends with an error saying what was received, without a retry", "[remote]") {
  test::ReplayServer server(R"({"chunk_chars": 4, "responses": [
    {"content": "An answer that never ends properly.", "cut_after_chunks": 3}, {"content": "unused"}]})");
  const auto run = run_turn(options_for(server.base_url()), user_says("hi"));
  const std::string error = error_of(run);
  // The role chunk and two content chunks arrived.
  CHECK_THAT(error, Catch::Contains("3 chunks") && Catch::Contains("8 characters of answer"));
  CHECK(run.text(Kind::answer_text) == "An answe");  // what the sink showed stays shown
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a stalled stream ends with an idle timeout error saying what was received", "[remote]") {
  test::ReplayServer server(R"({"chunk_chars": 4, "responses": [
    {"reasoning": "Thinking slowly", "stall_after_chunks": 3}]})");
  auto options = options_for(server.base_url());
  options.idle_timeout = std::chrono::milliseconds(300);
  const auto run = run_turn(options, user_says("hi"));
  const std::string error = error_of(run);
  CHECK_THAT(error, Catch::Contains("stalled") && Catch::Contains("0.3 s") && Catch::Contains("8 of thinking"));
  CHECK(run.text(Kind::thinking_text) == "Thinking");
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a malformed chunk ends the turn with an error quoting it", "[remote]") {
  test::ReplayServer server(R"([{"raw":
    "data: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": \"Hi\"}}]}\n\ndata: {not json at all\n\n"}])");
  const auto run = run_turn(options_for(server.base_url()), user_says("hi"));
  const std::string error = error_of(run);
  CHECK_THAT(error, Catch::Contains("malformed stream chunk") && Catch::Contains("{not json at all"));
  CHECK(run.text(Kind::answer_text) == "Hi");
}

TEST_CASE("a stream that ends without finishing is an error, not a short answer", "[remote]") {
  test::ReplayServer server(R"([{"raw": "data: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": \"Hal\"}}]}\n\n"}])");
  const std::string error = error_of(run_turn(options_for(server.base_url()), user_says("hi")));
  CHECK_THAT(error, Catch::Contains("ended the stream before the turn was complete") && Catch::Contains("1 chunk "));
}

TEST_CASE("an answer that is not an event stream is reported as such", "[remote]") {
  test::ReplayServer server(R"([{"raw_http":
    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<html>a proxy</html>"}])");
  const std::string error = error_of(run_turn(options_for(server.base_url()), user_says("hi")));
  CHECK_THAT(error, Catch::Contains("not answer with an event stream") && Catch::Contains("text/html"));
}

TEST_CASE("an error object inside the stream ends the turn with its message", "[remote]") {
  test::ReplayServer server(R"([{"content": "Partial answer", "error_after_chunks": 2,
    "error": {"message": "upstream model crashed", "type": "server_error"}}])");
  const std::string error = error_of(run_turn(options_for(server.base_url()), user_says("hi")));
  CHECK_THAT(error, Catch::Contains("upstream model crashed") && Catch::Contains("2 chunks"));
}

TEST_CASE("cancellation mid-stream completes the turn as cancelled with the partial text", "[remote]") {
  test::ReplayServer server(R"({"chunk_chars": 6, "responses": [
    {"content": "This answer is interrupted and never finished.",
     "tool_calls": [{"id": "call_1", "name": "web_search", "arguments": {"query": "x"}}],
     "stall_after_chunks": 4}]})");
  const auto run = run_turn(options_for(server.base_url()), user_says("hi"), {}, true,
                            [](const testing::TurnRun& r) { return !r.text(Kind::answer_text).empty(); });
  REQUIRE(run.result->has_value());
  const TurnResult& turn = run.result->value();
  CHECK(turn.finish == FinishReason::cancelled);
  CHECK_FALSE(turn.message.content.empty());
  CHECK_THAT("This answer is interrupted and never finished.", Catch::StartsWith(turn.message.content));
  CHECK(turn.message.content == run.text(Kind::answer_text));
  CHECK(turn.message.tool_calls.empty());
  CHECK(server.requests().size() == 1);
}

TEST_CASE("cancellation while waiting to retry completes the turn as cancelled", "[remote]") {
  test::ReplayServer server(R"([{"status": 503, "retry_after": 5}, {"content": "unused"}])");
  auto options = options_for(server.base_url());
  options.max_backoff = std::chrono::seconds(60);
  std::function<void()> cancel;
  options.on_retry = [&](const RetryNotice&) { cancel(); };
  const auto run = run_turn(options, user_says("hi"), {}, true, {},
                            [&](std::function<void()> c) { cancel = std::move(c); });
  REQUIRE(run.result->has_value());
  CHECK(run.result->value().finish == FinishReason::cancelled);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("a refused connection is retried, then reported with the address", "[remote]") {
  const std::string base_url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/v1";
  int retries = 0;
  auto options = options_for(base_url);
  options.on_retry = [&](const RetryNotice&) { ++retries; };
  const std::string error = error_of(run_turn(options, user_says("hi")));
  CHECK(retries == 2);
  CHECK_THAT(error, Catch::Contains(base_url) && Catch::Contains("after 2 retries"));
  CHECK(error.find(kTestApiKey) == std::string::npos);
}

TEST_CASE("a connection closed before any response is retried", "[remote]") {
  test::ReplayServer server(R"([{"drop": true}, {"content": "second time lucky"}])");
  int retries = 0;
  auto options = options_for(server.base_url());
  options.on_retry = [&](const RetryNotice&) { ++retries; };
  const auto run = run_turn(options, user_says("hi"));
  INFO((run.result->has_value() ? std::string() : run.result->error().message));
  REQUIRE(run.result->has_value());
  CHECK(run.result->value().message.content == "second time lucky");
  CHECK(retries == 1);
}

}  // namespace
}  // namespace scout::agent::remote
