// StdioServer: one ServerSession served over a pair of file descriptors — `scout mcp-server`'s
// stdin and stdout — one JSON-RPC message per line each way, as the MCP stdio transport says.
//
//   client ── stdin: requests, notifications ──▶ StdioServer ──▶ ServerSession ──▶ registry
//          ◀── stdout: responses, progress ────
//
// Nothing but messages is written to the output (logs go elsewhere: StdioServerOptions::log).
// Each request runs in a coroutine of its own; writes are queued and go out whole, one line at a
// time, in the order they were produced. A line that is not a message is answered with a
// JSON-RPC error whose id is null (-32700 or -32600) and reading goes on.
//
// The end: at end of input the calls in flight are finished and their answers written, then
// run() returns (the spec's shutdown: the client closes our stdin, and signals us if we take too
// long). stop() (SIGINT/SIGTERM) and a failed write (the client has gone) cancel the calls in
// flight instead; the cancelled calls are still answered when the output allows.
//
// Thread-safety: one executor; stop() is called on it.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "plugins/mcp/jsonrpc.h"
#include "plugins/mcp/server.h"

namespace scout::plugins::mcp {

struct StdioServerOptions {
  std::size_t max_line_bytes = std::size_t{4} << 20;  // a longer input line ends the session
  std::function<void(const std::string&)> log;         // diagnostics (stderr in the CLI)
};

class StdioServer {
 public:
  // Takes ownership of both descriptors (they are closed with the server).
  StdioServer(asio::any_io_executor executor, std::shared_ptr<ServerSession> session, int in_fd, int out_fd,
              StdioServerOptions options = {});
  ~StdioServer();

  // Serves until the input ends (or stop()) and every call in flight is answered.
  asio::awaitable<void> run();

  // Stops reading and cancels the calls in flight.
  void stop();

  StdioServer(const StdioServer&) = delete;
  StdioServer& operator=(const StdioServer&) = delete;

 private:
  void dispatch(const std::string& line);
  asio::awaitable<void> answer(Request request);  // one request, its answer queued
  void send(std::string line);  // queues one message line (without its newline)
  asio::awaitable<void> write_queued();
  void log(const std::string& text) const;

  asio::any_io_executor executor_;
  std::shared_ptr<ServerSession> session_;
  asio::posix::stream_descriptor in_;
  asio::posix::stream_descriptor out_;
  StdioServerOptions options_;
  LineFramer framer_;
  std::deque<std::string> queue_;  // lines waiting to be written
  bool writing_ = false;           // write_queued() is running
  bool output_broken_ = false;     // a write failed: later lines are dropped
  bool stopping_ = false;
  std::size_t requests_in_flight_ = 0;
  asio::steady_timer settled_;     // cancelled when a request finishes or the queue drains
};

}  // namespace scout::plugins::mcp
