// ServerSession: the server side of MCP for one client — Scout's tools offered to another agent.
// It knows nothing of transports: the stdio server (stdio_server.h) has one session, the
// Streamable HTTP server (http_server.h) one per Mcp-Session-Id. A transport parses each message,
// hands requests to handle_request (each in a coroutine of its own, so requests run
// concurrently) and notifications to handle_notification, and writes back what comes out.
//
//   initialize                 the client's protocol revision when Scout speaks it, else the
//                              newest; capabilities {tools, logging}, serverInfo, instructions
//   notifications/initialized  noted
//   ping                       {}
//   tools/list                 every registry tool (name, description, inputSchema), at most
//                              page_size a page, with an opaque nextCursor
//   tools/call                 through Registry::call, so schema checks, the deadline and
//                              cancellation apply. A failing tool, an unknown tool and invalid
//                              arguments are results with isError set — the spec's "tool
//                              execution errors", which the calling model can read and act on —
//                              never JSON-RPC errors. With params._meta.progressToken, what the
//                              tool reports through ToolContext::progress is sent as
//                              notifications/progress
//   notifications/cancelled    cancels that call; a call the client cancelled gets no response
//   logging/setLevel           {} for one of the eight syslog levels
//   anything else              -32601; malformed params -32602; any request but ping before
//                              initialize -32600
//
// A request that declares a stateless revision in params._meta (2026-07-28) is served on its
// own, whether or not the session was initialized — the same session serves both eras:
//   a revision the server does not speak   -32022, data {supported, requested}
//   _meta without clientCapabilities       -32602
//   server/discover            supportedVersions, capabilities, serverInfo (also in _meta),
//                              instructions
//   tools/list, tools/call     as above, each result with resultType "complete"; discover's and
//                              tools/list's with caching hints (ttlMs 5 minutes, private)
//   subscriptions/listen       notifications/subscriptions/acknowledged with the part of the
//                              filter honored (toolsListChanged: the tool list never changes
//                              while serving, so nothing follows), then open until cancelled;
//                              it never gets a response
//   initialize, ping, logging/setLevel and anything else   -32601 (gone in that revision)
//
// Thread-safety: one executor; every member is called on it. Lifetime: the registry outlives the
// session, and the session outlives the requests it handles (transports keep it in a shared_ptr
// that each request's coroutine holds).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "plugins/mcp/jsonrpc.h"
#include "tools/registry/registry.h"

namespace scout::plugins::mcp {

namespace asio = boost::asio;

// The initialize-based revisions the server speaks, newest first.
const std::vector<std::string>& server_protocol_versions();
// The stateless revisions it speaks.
const std::vector<std::string>& server_stateless_versions();

struct ServerOptions {
  std::string name = "scout";
  std::string version;
  std::string instructions;     // initialize's "instructions": what the tools are for
  std::size_t page_size = 100;  // tools per tools/list page
  // A call's deadline: tool_timeouts[name] when listed, else tool_timeout. Zero: none.
  std::chrono::milliseconds tool_timeout{60000};
  std::map<std::string, std::chrono::milliseconds, std::less<>> tool_timeouts;
};

// Where the notifications that belong to one request go (its progress), in order, all before
// its response is returned.
using NotifyFn = std::function<void(const Notification&)>;

class ServerSession {
 public:
  ServerSession(const tools::Registry& registry, ServerOptions options);
  ~ServerSession();

  // The answer to one request; nullopt when the client cancelled it (the spec: no response).
  asio::awaitable<std::optional<Response>> handle_request(Request request, NotifyFn notify);

  // For a request declaring a stateless revision: its refusal when the server does not speak
  // that revision or the envelope lacks clientCapabilities, else nullopt. handle_request checks
  // the same; a transport asks first to choose how to answer (an HTTP status, a stream).
  std::optional<Response> stateless_refusal(const Request& request) const;

  // notifications/initialized and notifications/cancelled; others are ignored, as the spec asks.
  void handle_notification(const Notification& notification);

  // Cancels every call in flight (the transport is closing): each still gets its response, a
  // result saying it was cancelled.
  void cancel_all();

  // Ends every open subscriptions/listen (the client's input ended): they get no response.
  void end_subscriptions();

  bool initialized() const { return !protocol_version_.empty(); }
  const std::string& protocol_version() const { return protocol_version_; }
  const std::string& log_level() const { return log_level_; }
  std::size_t calls_in_flight() const { return calls_.size(); }

  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

 private:
  struct Call;
  Response initialize(const Request& request);
  Response list_tools(const Request& request) const;
  Response set_level(const Request& request);
  asio::awaitable<std::optional<Response>> handle_stateless(Request request, NotifyFn notify, std::string version);
  Response discover(const Request& request) const;
  asio::awaitable<std::optional<Response>> listen(Request request, NotifyFn notify);
  asio::awaitable<std::optional<Response>> call_tool(Request request, NotifyFn notify);
  std::chrono::milliseconds timeout_for(std::string_view tool) const;

  const tools::Registry& registry_;
  ServerOptions options_;
  std::string protocol_version_;  // empty until initialize
  bool client_ready_ = false;     // notifications/initialized came
  std::string log_level_ = "info";
  std::map<std::string, std::shared_ptr<Call>> calls_;  // in flight, by id_text of the request id
  std::set<std::string> subscriptions_;                  // the calls_ that are subscriptions/listen
};

// A JSON-RPC error response whose request id could not be read (a line that is not JSON, not a
// valid message): "id": null, as JSON-RPC 2.0 prescribes. One line, no newline.
std::string error_without_id(std::int64_t code, const std::string& message);

}  // namespace scout::plugins::mcp
