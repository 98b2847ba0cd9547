// HttpServer: MCP's Streamable HTTP transport, server side — `scout mcp-server --http` — a Beast
// HTTP/1.1 server on Asio coroutines with one endpoint, /mcp.
//
//   POST /mcp    one JSON-RPC message. initialize opens a session: the answer carries a fresh
//                Mcp-Session-Id (128 random bits from OpenSSL), which every later request must
//                send (400 without it, 404 when it is unknown or ended). Requests are answered
//                with application/json, except tools/call, which may run long and report
//                progress: it gets an event stream (text/event-stream) carrying the call's
//                notifications and then its response. Notifications and responses get 202.
//   GET /mcp     an event stream for messages the server sends on its own. Scout sends none
//                today, so it carries only keep-alive comments until the session ends; a newer
//                GET stream of the same session replaces the older one.
//   DELETE /mcp  ends the session: its calls are cancelled and its streams closed.
//
// The stateless revision (2026-07-28): a POST whose body declares it in params._meta, or whose
// MCP-Protocol-Version is not an initialize-based revision, needs no session. Its headers must
// agree with its body (MCP-Protocol-Version with _meta, Mcp-Method with the method, Mcp-Name
// with a tools/call's or prompts/get's name or a resources/read's uri) → else 400, JSON-RPC
// -32020; an unspoken revision → 400, -32022 listing the supported ones; no clientCapabilities
// → 400, -32602; an unknown method → 404, -32601. tools/call and subscriptions/listen answer
// with an event stream, and closing it cancels them; other requests with JSON. Its
// notifications get 202 and are otherwise ignored.
//
// Every event carries an id (unique within its session). Streams send a comment line every
// keep_alive, so a peer that went away is noticed. There is no resumption (Last-Event-ID): a
// broken stream's remaining events are dropped, and its call is not cancelled, as the spec says.
//
// Checks on every request, DNS-rebinding protection first (the spec's "MUST validate Origin"):
//   Host                  bound to a loopback address, the server answers only to its own names:
//                         localhost, 127.0.0.1, [::1] or the bound address, with the port
//                         (a page on evil.example whose name resolves to 127.0.0.1 sends
//                         Host: evil.example) → 403
//   Origin                when present: http(s) on localhost, 127.0.0.1 or [::1] (any port), or
//                         one of allowed_origins → else 403
//   path, method          /mcp → else 404; POST, GET, DELETE → else 405
//   Accept                POST must list application/json and text/event-stream, GET
//                         text/event-stream → else 406
//   Content-Type          POST: application/json → else 415
//   MCP-Protocol-Version  GET and DELETE, when present: 2025-11-25, 2025-06-18 or 2025-03-26 →
//                         else 400 (a POST's is checked with its body, as above)
// Limits: body_limit on every request (413), read_timeout to read one request, write_timeout on
// every write, max_connections (503 past it), max_sessions (the least recently used idle
// session is ended to make room; 503 when every session is busy).
//
// The event streams' writing is in http_event_stream.h.
//
// Thread-safety: everything runs on one executor (an io_context with one thread); stop() is
// called on it. Lifetime: the registry outlives the server, and the server outlives run().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/expected.h"
#include "plugins/mcp/server.h"

namespace scout::plugins::mcp {

struct HttpServerOptions {
  std::string host = "127.0.0.1";           // a name or an IP literal (IPv6 without brackets)
  std::uint16_t port = 0;                   // 0: a free port (see HttpServer::port())
  std::vector<std::string> allowed_origins;  // besides loopback origins, e.g. "https://app.example"
  std::size_t body_limit = std::size_t{4} << 20;
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds keep_alive{15000};      // between comment lines on an idle stream
  std::chrono::milliseconds session_idle{3600000};  // a session unused this long may be ended
  std::size_t max_sessions = 64;
  std::size_t max_connections = 256;
  std::function<void(const std::string&)> log;  // diagnostics (stderr in the CLI)
};

// "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT" (host 127.0.0.1) → host (no brackets) and port.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};
Result<ListenAddress> parse_listen_address(std::string_view text);

// The Host header values a server bound to `host`:`port` answers to: when `host` is loopback,
// localhost, 127.0.0.1, [::1] and `host` itself, each with ":port" (and bare, when port is 80);
// empty for any other host — then every Host is accepted.
std::vector<std::string> allowed_host_headers(const std::string& host, std::uint16_t port, bool loopback);
// Whether `host_header` is one of `allowed` (case-insensitive); true when `allowed` is empty.
bool host_header_allowed(std::string_view host_header, const std::vector<std::string>& allowed);
// Whether a request with this Origin header may be served: a loopback origin, or one listed.
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed_origins);
// Whether an Accept header lists `media_type` (exactly; parameters and case ignored).
bool accept_lists(std::string_view accept, std::string_view media_type);

class HttpServer {
 public:
  // Binds and listens; fails naming the address when it cannot.
  static Result<std::unique_ptr<HttpServer>> listen(asio::any_io_executor executor, const tools::Registry& registry,
                                                    ServerOptions server_options, HttpServerOptions options);
  ~HttpServer();

  std::uint16_t port() const;
  bool loopback() const;  // bound to a loopback address (the Host check is on)

  // Accepts and serves until stop(); returns when the listener is closed. Connections still
  // finishing their answers end soon after.
  asio::awaitable<void> run();

  // Stops accepting, ends every session (cancelling its calls), closes idle connections.
  void stop();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  struct Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace scout::plugins::mcp
