// HttpTransport: MCP's Streamable HTTP transport, client side (revisions 2025-03-26 to
// 2025-11-25, and the stateless 2026-07-28). One endpoint URL takes every message as a POST;
// the server answers each one:
//
//   POST request  ──▶  200 application/json   one JSON-RPC response
//                 ──▶  200 text/event-stream  server requests and notifications, then the response
//   POST notification or response ──▶ 202 Accepted, no body
//   GET  (after initialization)    ──▶ text/event-stream of the server's own messages, or 405
//   DELETE (at close)              ──▶ the session ends
//
// Session: the Mcp-Session-Id header the server returns with its initialize answer is sent
// back on every later request, with MCP-Protocol-Version set to the negotiated revision (both
// read by watching the initialize exchange pass, so McpClient need not know about HTTP).
//
// Stateless revision (a request that carries io.modelcontextprotocol/protocolVersion in its
// params._meta): no session and no GET stream; each POST carries MCP-Protocol-Version equal to
// that _meta value, Mcp-Method, Mcp-Name (tools/call, prompts/get, resources/read) and, for a
// tools/call, Mcp-Param-* headers for the arguments the tool's x-mcp-header annotations name
// (http_headers.h). tools/list answers are screened: a tool with invalid annotations is left
// out, with a notice (take_notices). A 4xx answer whose body is a JSON-RPC error (an unsupported
// revision, an unknown method) is delivered as that error, for the client to act on.
//
// Streams that break: an event stream that ends before its request's response arrived is
// resumed with a GET carrying Last-Event-ID, after the server's `retry` time (1 s when it gave
// none), up to max_resumptions times; a stream without event IDs cannot be resumed and its
// request fails. The GET stream is reopened the same way when it ends.
//
// Failures of one exchange (the server unreachable, HTTP 4xx/5xx, the session gone) fail that
// request (see transport.h). A 401, or a 403 with error="insufficient_scope", runs the
// endpoint's OAuth session when it has one and the request is retried with the token; without
// one the failure says the server wants authorization.
//
// The URL is one the user configured, so the SSRF guard is off for it (loopback and private
// addresses are allowed); redirects are not followed (a POST must reach the endpoint itself).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "plugins/mcp/oauth.h"
#include "plugins/mcp/transport.h"

namespace scout::plugins::mcp {

struct HttpEndpoint {
  std::string url;                                            // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every request (e.g. Authorization)
  std::string name;                                           // for messages; default: host and path
  std::string ca_file;                                        // an extra CA to trust (tests)
  // When set, a 401 (or a 403 asking for more scope) runs this OAuth flow and the request is
  // sent again with the token, up to 3 times in a row (see oauth.h).
  std::shared_ptr<OAuthSession> oauth;
};

struct HttpTransportOptions {
  std::chrono::milliseconds connect_timeout{10000};
  // Longest silence on a stream before it is treated as broken (and resumed). Requests have
  // their own deadline in McpClient; this only catches dead connections.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds default_retry{1000};  // before resuming a stream, when the server set no `retry`
  int max_resumptions = 5;                       // per broken stream, in a row without progress
  bool open_get_stream = true;                   // listen for the server's own messages after initialization
  std::size_t max_message_bytes = std::size_t{64} << 20;
};

class HttpTransport final : public Transport {
 public:
  // Checks the URL; connects lazily (the first send).
  static Result<std::unique_ptr<HttpTransport>> open(asio::any_io_executor executor, HttpEndpoint endpoint,
                                                     HttpTransportOptions options = {});
  ~HttpTransport() override;  // cancels every stream still open

  const std::string& name() const override;
  asio::awaitable<Result<void>> send(const Message& message) override;
  asio::awaitable<Result<Message>> receive() override;
  std::string diagnostics() const override { return {}; }
  std::vector<std::string> take_notices() override;
  asio::awaitable<void> close(std::chrono::milliseconds grace = std::chrono::milliseconds(2000)) override;

  // The session the server assigned, empty when it uses none.
  std::string session_id() const;

  struct State;  // shared with the stream coroutines, which may outlive a call

 private:
  explicit HttpTransport(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace scout::plugins::mcp
