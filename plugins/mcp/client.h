// McpClient: one connection to an MCP server — the initialize handshake, tools/list (every page),
// tools/call — over a transport, with requests matched to responses by id while a reader
// coroutine takes whatever the server sends.
//
//   initialize()  sends the newest protocol revision Scout speaks; the server answers with the
//                 one it chose, which must be one Scout speaks (else an error naming both);
//                 then notifications/initialized.
//   list_tools()  follows nextCursor until the last page.
//   call_tool()   the result's content blocks, structuredContent and isError.
//
// What the server sends on its own: responses complete their request; notifications go to
// ClientOptions::on_notification (progress for a call to that call's reporter); requests get an
// answer (ping → {}, elicitation/create → ClientOptions::on_elicitation or a decline, anything
// else → "method not found"), so a server never waits on Scout.
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

// The revisions Scout speaks, newest first.
inline const std::vector<std::string>& supported_protocol_versions() {
  static const std::vector<std::string> versions{"2025-11-25", "2025-06-18", "2025-03-26"};
  return versions;
}

struct ClientOptions {
  std::chrono::milliseconds request_timeout{60000};
  std::string client_name = "scout";
  std::string client_version = "0.1.0";
  std::function<void(const Notification&)> on_notification;
  // Answers the server's elicitation/create requests. When set, the elicitation capability is
  // declared at initialize; when not, a server that asks anyway is declined.
  ElicitationHandler on_elicitation;
};

struct ServerInfo {
  std::string name;
  std::string version;
  std::string protocol_version;
  Json capabilities = Json::object();
  std::string instructions;
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

  asio::awaitable<Result<Json>> request(std::string method, Json params);
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
};

}  // namespace scout::plugins::mcp
