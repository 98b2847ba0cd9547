// StdioTransport: an MCP server run as a child process, spoken to over its stdin and stdout
// (one JSON-RPC message per line), with its stderr kept for error reports.
//
//   scout ── stdin (requests, notifications, responses) ──▶ server process
//         ◀── stdout (one message per line) ──────────────
//         ◀── stderr (logs: the last 8 KiB are kept, never parsed) ─
//
// The child gets its own session (setsid), so close() can signal the whole process tree. The
// shutdown follows the MCP spec: close the child's stdin, wait up to the grace period, then
// SIGTERM, wait again, then SIGKILL.
//
// Faults are values: a line that is not a JSON-RPC message, a line longer than the framer's
// cap, the process exiting — each ends receive() with an error that names the server and
// quotes the offending text or the exit status, and the stderr tail is there for the report.
//
// Spawning a server sets SIGPIPE to ignored for the whole process (writing to a server that has
// exited is then an EPIPE error, not the end of Scout).
//
// Thread-safety: one coroutine may receive() while another send()s, both on the transport's
// executor; not more than one of each at a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/expected.h"
#include "plugins/mcp/jsonrpc.h"
#include "plugins/mcp/transport.h"

namespace scout::plugins::mcp {

namespace asio = boost::asio;

struct StdioCommand {
  std::string program;                                    // a path, or a name looked up in PATH
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) Scout's environment
  std::string name;                                       // for messages; default: the program's name
};

class StdioTransport final : public Transport {
 public:
  // Starts the process. Fails (naming the program) when it cannot be started. `pass_fds` are
  // descriptors the child gets besides its stdin, stdout and stderr, as (descriptor here, number
  // in the child); the caller keeps them and may close them once spawn() returns.
  static Result<std::unique_ptr<StdioTransport>> spawn(asio::any_io_executor executor, StdioCommand command,
                                                       const std::vector<std::pair<int, int>>& pass_fds = {});
  ~StdioTransport() override;  // kills the process tree if close() was not awaited

  const std::string& name() const override { return name_; }

  asio::awaitable<Result<void>> send(const Message& message) override;

  // The next message from the server; an error when its stdout ends, or on a malformed line.
  asio::awaitable<Result<Message>> receive() override;

  // The last bytes the server wrote to stderr (at most 8 KiB), for error reports.
  std::string stderr_tail() const;
  std::string diagnostics() const override { return stderr_tail(); }

  // Shuts the server down (see the file comment); afterwards exit_status() is set.
  asio::awaitable<void> close(std::chrono::milliseconds grace = std::chrono::milliseconds(2000)) override;

  // "exited with status N" / "killed by signal N", once the process has been reaped.
  std::optional<std::string> exit_status() const override { return exit_status_; }

  StdioTransport(const StdioTransport&) = delete;
  StdioTransport& operator=(const StdioTransport&) = delete;

 private:
  struct Pipes;
  StdioTransport(asio::any_io_executor executor, std::string name, int pid, int in_fd, int out_fd, int err_fd);
  asio::awaitable<void> drain_stderr();
  bool reap(bool block);  // true once the process is reaped
  void collect_stderr_now();
  asio::awaitable<void> settle_exit();

  asio::any_io_executor executor_;
  std::string name_;
  int pid_ = -1;
  std::unique_ptr<Pipes> pipes_;
  LineFramer framer_;
  std::vector<std::string> ready_;  // framed lines not yet returned
  std::shared_ptr<std::string> stderr_tail_;
  std::optional<std::string> exit_status_;
};

}  // namespace scout::plugins::mcp
