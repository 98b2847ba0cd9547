// McpClient: one connection to an MCP server — agreeing on a protocol revision, tools/list
// (every page), tools/call — over a transport, with requests matched to responses by id while a
// reader coroutine takes whatever the server sends.
//
//   initialize()  agrees on a revision. Scout first asks server/discover, the stateless
//                 revision's (2026-07-28) way: a server that answers speaks it, and from then on
//                 every request carries the revision, Scout's identity and its capabilities in
//                 params._meta — no handshake, no session. A server that answers anything else
//                 (an unknown method, "not initialized", an HTTP error without a JSON-RPC error
//                 in it) or nothing within probe_timeout predates that revision: Scout falls back
//                 to the initialize handshake, offering the newest initialize-based revision.
//                 Either way the server must end up on a revision Scout speaks, else the error
//                 names both sides' revisions. A stateless server that refuses a request's
//                 revision ("Unsupported protocol version", listing its own) gets the request
//                 again with one both speak, once.
//   list_tools()  follows nextCursor until the last page.
//   call_tool()   the result's content blocks, structuredContent and isError. A stateless server
//                 may answer "input required" instead (multi round-trip requests): Scout answers
//                 its elicitation questions (ClientOptions::on_elicitation, else a decline) and
//                 sends the call again with the answers and the server's requestState, untouched.
//
// What the server sends on its own: responses complete their request; notifications go to
// ClientOptions::on_notification (progress for a call to that call's reporter); requests get an
// answer (ping → {}, elicitation/create → ClientOptions::on_elicitation or a decline, anything
// else → "method not found"), so a server never waits on Scout. A stateless server sends list
// changes only on a subscriptions/listen stream, which Scout keeps open (and reopens) when the
// server offers tools.listChanged and on_notification is set.
//
// Every request has a deadline (ClientOptions::request_timeout): when it passes, or the caller's
// coroutine is cancelled, the server is sent notifications/cancelled for it and the call ends
// with an error. If the server dies, every request in flight ends with an error that names the
// server, its exit status and the end of its stderr.
//
// Thread-safety: all on one executor; requests may be in flight concurrently.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/expected.h"
#include "plugins/mcp/jsonrpc.h"
#include "plugins/mcp/elicitation.h"
#include "plugins/mcp/transport.h"

namespace scout::plugins::mcp {

// The initialize-based revisions Scout speaks, newest first.
inline const std::vector<std::string>& supported_protocol_versions() {
  static const std::vector<std::string> versions{"2025-11-25", "2025-06-18", "2025-03-26"};
  return versions;
}

// The stateless revisions Scout speaks (no handshake; each request carries its revision), newest
// first.
inline const std::vector<std::string>& stateless_protocol_versions() {
  static const std::vector<std::string> versions{"2026-07-28"};
  return versions;
}

// Whether Scout speaks `version` (either kind), and every revision it speaks, for messages.
inline bool speaks_protocol_version(const std::string& version) {
  for (const auto* list : {&stateless_protocol_versions(), &supported_protocol_versions()})
    for (const auto& v : *list)
      if (v == version) return true;
  return false;
}
inline std::string spoken_protocol_versions() {
  std::string out;
  for (const auto* list : {&stateless_protocol_versions(), &supported_protocol_versions()})
    for (const auto& v : *list) out += (out.empty() ? "" : ", ") + v;
  return out;
}


struct ClientOptions {
  std::chrono::milliseconds request_timeout{60000};
  std::string client_name = "scout";
  std::string client_version = "0.1.0";
  std::function<void(const Notification&)> on_notification;
  // Answers the server's elicitation/create requests. When set, the elicitation capability is
  // declared (at initialize, or on every stateless request); when not, a server that asks anyway
  // is declined.
  ElicitationHandler on_elicitation;
  // The revision to speak: empty asks the server (see initialize()); one from either list above
  // speaks only that one.
  std::string protocol_version;
  // How long server/discover may go unanswered before the server is taken for one that
  // predates it (some ignore unknown methods before initialize).
  std::chrono::milliseconds probe_timeout{10000};
  // What an earlier connection found this server speaks: "initialize" skips the probe (and
  // probes after all when the handshake fails); "stateless" or empty probe. on_era_found hears what this connection found, when that
  // differs, to remember it for the next one.
  std::string known_era;
  std::function<void(const std::string& era)> on_era_found;
  // What the user should hear that is not a failure: a tool refused for breaking a rule of the
  // protocol, a subscription the server keeps ending.
  std::function<void(const std::string&)> on_warning;
};

struct ServerInfo {
  std::string name;
  std::string version;
  std::string protocol_version;
  Json capabilities = Json::object();
  std::string instructions;
  bool stateless = false;  // the server speaks a stateless revision (no session)
};

struct McpTool {
  std::string name;
  std::string title;
  std::string description;
  Json input_schema = Json::object();
  std::optional<Json> output_schema;
};

// A notifications/progress report for a call in flight.
struct Progress {
  double progress = 0;
  std::optional<double> total;
  std::string message;
};
using ProgressFn = std::function<void(const Progress&)>;

struct CallResult {
  Json content = Json::array();   // the content blocks as sent
  std::optional<Json> structured;  // structuredContent
  bool is_error = false;
};

class McpClient {
 public:
  McpClient(asio::any_io_executor executor, std::unique_ptr<Transport> transport, ClientOptions options = {});
  ~McpClient();

  // The server's name: what it calls itself once initialized, else its command's name.
  const std::string& name() const { return name_; }

  // Agrees on a protocol revision (see above); the server's name, revision and capabilities.
  asio::awaitable<Result<ServerInfo>> initialize();
  asio::awaitable<Result<std::vector<McpTool>>> list_tools();
  // With on_progress, the call carries a progress token and the server's progress reports for
  // it go there (not to on_notification) while it runs.
  asio::awaitable<Result<CallResult>> call_tool(std::string tool, Json arguments,
                                                ProgressFn on_progress = {});  // by value: kept across suspensions

  // Whether close() was called.
  bool closed() const { return closed_; }

  // Ends the session: requests in flight fail, the server is shut down.
  asio::awaitable<void> close();

  // What the transport kept of the server's own complaints (a stdio server's stderr tail).
  std::string stderr_tail() const { return transport_->diagnostics(); }

 private:
  struct Pending {
    std::optional<Response> response;
    std::optional<std::string> failure;  // the connection failed before a response came
    asio::steady_timer wake;
    explicit Pending(asio::any_io_executor ex) : wake(ex, asio::steady_timer::time_point::max()) {}
  };

  // One request and its answer (a result or the server's error), or why none came: timed out,
  // cancelled, the connection failed.
  asio::awaitable<Result<Response>> exchange(std::string method, Json params, std::chrono::milliseconds timeout);
  // A request with the stateless envelope when one is spoken, retried once on another revision
  // when the server refuses this one; the result, or an error written for the user.
  asio::awaitable<Result<Json>> request(std::string method, Json params);
  asio::awaitable<Result<ServerInfo>> handshake(std::string version);  // the initialize-based way
  // server/discover: the server's info when it speaks a stateless revision Scout speaks, nullopt
  // when it predates them, an error when it speaks only revisions Scout does not.
  asio::awaitable<std::optional<Result<ServerInfo>>> discover(std::string version);
  asio::awaitable<void> listen_loop();  // keeps a subscriptions/listen stream open
  Json with_envelope(Json params) const;
  Json client_capabilities() const;
  std::string refusal(const std::string& method, const ErrorObject& error) const;
  Json answer_elicitation(const Json& params) const;  // on_elicitation's answer, else a decline
  void warn(const std::string& what) const;
  asio::awaitable<void> read_loop();
  void fail_all(const std::string& why);
  std::string describe_failure(const std::string& what) const;

  asio::any_io_executor executor_;
  std::unique_ptr<Transport> transport_;
  ClientOptions options_;
  std::string name_;
  std::int64_t next_id_ = 1;
  std::map<std::int64_t, std::shared_ptr<Pending>> pending_;
  std::map<std::string, ProgressFn> progress_;  // progress token → the call's reporter
  std::int64_t next_progress_token_ = 1;
  std::optional<std::string> broken_;  // the connection is gone: why
  bool reading_ = false;
  bool closed_ = false;
  std::string stateless_version_;  // the stateless revision spoken; empty for initialize-based ones
  bool listening_ = false;         // listen_loop() runs
  std::shared_ptr<asio::steady_timer> listen_pause_;
};

}  // namespace scout::plugins::mcp
