// Transport: how an McpClient reaches its server — a child process over stdin/stdout
// (StdioTransport) or an HTTP endpoint (HttpTransport, MCP's "Streamable HTTP"). The client
// sends JSON-RPC messages and receives whatever the server sends, in order, from one reader.
//
// A failure that concerns one request only (an HTTP POST answered 500, a stream cut before its
// response) arrives as a Response for that request's id carrying ErrorObject code
// error_code::transport_failure, whose message is written for the user. A failure of the whole
// connection (the process exited, the transport was closed) ends receive() with an error.
//
// Thread-safety: one coroutine may receive() while others send(), all on the transport's
// executor.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/expected.h"
#include "plugins/mcp/jsonrpc.h"

namespace scout::plugins::mcp {

namespace asio = boost::asio;

namespace error_code {
// Never sent over the wire: a transport's way of failing one request (see above).
inline constexpr std::int64_t transport_failure = -32098;
}  // namespace error_code

class Transport {
 public:
  virtual ~Transport() = default;

  // The server's name for messages: a command's name or a URL's host and path.
  virtual const std::string& name() const = 0;

  virtual asio::awaitable<Result<void>> send(const Message& message) = 0;

  // The next message from the server; an error once the connection is gone.
  virtual asio::awaitable<Result<Message>> receive() = 0;

  // What the server said about itself when things went wrong (a process's stderr tail, an HTTP
  // error body); may be empty.
  virtual std::string diagnostics() const = 0;

  // What the transport did on its own that the user should hear about (a tool it refused for
  // breaking one of the transport's rules), each once.
  virtual std::vector<std::string> take_notices() { return {}; }

  // "exited with status N" and the like, once the server is known to be gone.
  virtual std::optional<std::string> exit_status() const { return std::nullopt; }

  // Ends the connection (a stdio server is shut down, an HTTP session deleted).
  virtual asio::awaitable<void> close(std::chrono::milliseconds grace = std::chrono::milliseconds(2000)) = 0;
};

}  // namespace scout::plugins::mcp
