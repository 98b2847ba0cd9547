// libFuzzer target: Scout's MCP server (`scout mcp-server`) reading arbitrary bytes from its
// client — the stdio transport's line framing, JSON-RPC parsing (plugins/mcp/jsonrpc.h) and the
// session's request handling (plugins/mcp/server.h) — exactly as StdioServer runs them, over a
// pipe, on an io_context, with no network.
//
// Input: bytes 0-1 are write sizes (in units of 8 bytes, cycled; the client's bytes reach the
// server in pieces of these sizes, with the server running in between, so notifications such as
// notifications/cancelled can land while calls are in flight); the rest is what the client
// writes to the server's stdin. The registry holds a few tools: "echo" (a schema with
// properties, bounds, enum, defaults), "progress" (reports progress), "yield" (gives up the
// executor a number of times, so calls overlap) and "broken" (throws).
//
// Checked: the server finishes once its input ends (every request answered or dropped as the
// spec says, nothing left in flight); everything it writes is one JSON-RPC message per line —
// a response (an id, or null for an unreadable line, and exactly one of result and error) or a
// notification — never a request.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "fuzz/fuzz_check.h"
#include "plugins/mcp/server.h"
#include "plugins/mcp/stdio_server.h"
#include "tools/registry/registry.h"

namespace {

namespace asio = boost::asio;
using scout::fuzz::check;
using scout::plugins::mcp::Json;
using scout::tools::Tool;
using scout::tools::ToolContext;
using scout::tools::ToolOutput;

class EchoTool final : public Tool {
 public:
  std::string name() const override { return "echo"; }
  std::string description() const override { return "Returns its arguments."; }
  Json parameters() const override {
    return Json::parse(R"({"type": "object", "properties": {
        "text": {"type": "string", "maxLength": 40},
        "count": {"type": "integer", "minimum": 0, "maximum": 5, "default": 1},
        "mode": {"enum": ["plain", "loud"], "default": "plain"},
        "options": {"type": "object", "properties": {"depth": {"type": "number", "default": 2}}, "default": {}},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}},
      "required": ["text"], "additionalProperties": false})");
  }
  asio::awaitable<ToolOutput> invoke(Json arguments, ToolContext) override {
    co_return ToolOutput::success(arguments.dump(-1, ' ', false, Json::error_handler_t::replace), arguments);
  }
};

class ProgressTool final : public Tool {
 public:
  std::string name() const override { return "progress"; }
  std::string description() const override { return "Reports the progress values it is given."; }
  Json parameters() const override {
    return Json::parse(R"({"type": "object", "properties": {"steps": {"type": "array", "items": {"type": "number"},
                          "maxItems": 8}, "total": {"type": "number"}}})");
  }
  asio::awaitable<ToolOutput> invoke(Json arguments, ToolContext ctx) override {
    for (const Json& step : arguments.value("steps", Json::array())) {
      scout::tools::ToolProgress p;
      p.progress = step.get<double>();
      if (arguments.contains("total")) p.total = arguments["total"].get<double>();
      p.message = "step";
      if (ctx.progress) ctx.progress(p);
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
    co_return ToolOutput::success("done");
  }
};

class YieldTool final : public Tool {
 public:
  std::string name() const override { return "yield"; }
  std::string description() const override { return "Gives up the executor a number of times."; }
  Json parameters() const override {
    return Json::parse(R"({"type": "object", "properties": {"times": {"type": "integer", "minimum": 0, "maximum": 16,
                          "default": 4}}})");
  }
  asio::awaitable<ToolOutput> invoke(Json arguments, ToolContext) override {
    const int times = arguments["times"].get<int>();
    for (int i = 0; i < times; ++i) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return ToolOutput::success("yielded");
  }
};

class BrokenTool final : public Tool {
 public:
  std::string name() const override { return "broken"; }
  std::string description() const override { return "Throws."; }
  Json parameters() const override { return Json{{"type", "object"}}; }
  asio::awaitable<ToolOutput> invoke(Json, ToolContext) override {
    throw std::runtime_error("broken on purpose");
    co_return ToolOutput{};
  }
};

const scout::tools::Registry& registry() {
  static const scout::tools::Registry r = [] {
    scout::tools::Registry reg;
    for (std::shared_ptr<Tool> t : {std::shared_ptr<Tool>(std::make_shared<EchoTool>()),
                                    std::shared_ptr<Tool>(std::make_shared<ProgressTool>()),
                                    std::shared_ptr<Tool>(std::make_shared<YieldTool>()),
                                    std::shared_ptr<Tool>(std::make_shared<BrokenTool>())})
      if (!reg.add(t)) std::abort();
    return reg;
  }();
  return r;
}

// One line the server wrote: a JSON-RPC response or notification.
void check_output_line(std::string_view line) {
  Json j;
  try {
    j = Json::parse(line);
  } catch (const std::exception&) {
    check(false, "the server wrote a line that is not JSON");
  }
  check(j.is_object() && j.value("jsonrpc", Json()) == "2.0", "the server wrote a message without jsonrpc 2.0");
  if (j.contains("method")) {
    check(j["method"].is_string() && !j.contains("id"), "the server sent a request (or a malformed notification)");
    check(!j.contains("params") || j["params"].is_object(), "a notification with params that are not an object");
    return;
  }
  check(j.contains("id") && (j["id"].is_null() || j["id"].is_string() || j["id"].is_number_integer()),
        "a response without a valid id");
  check(j.contains("result") != j.contains("error"), "a response without exactly one of result and error");
  if (j.contains("error"))
    check(j["error"].is_object() && j["error"].value("code", Json()).is_number_integer() &&
              j["error"].value("message", Json()).is_string(),
          "an error without an integer code and a string message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  scout::fuzz::Input in(data, size);
  const std::uint8_t sizes[2] = {static_cast<std::uint8_t>(in.byte() % 32 * 8), static_cast<std::uint8_t>(in.byte() % 32 * 8)};
  const std::string_view client_bytes = in.rest();

  int pipe_fds[2];
  check(::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2");
  const int out_fd = ::memfd_create("mcp-server-output", MFD_CLOEXEC);
  check(out_fd >= 0, "memfd_create");
  const int out_reader = ::dup(out_fd);

  asio::io_context io;
  scout::plugins::mcp::ServerOptions options;
  options.version = "fuzz";
  options.instructions = "Tools for fuzzing.";
  options.page_size = 2;  // tools/list pages and cursors get used
  auto session = std::make_shared<scout::plugins::mcp::ServerSession>(registry(), options);
  bool finished = false;
  {
    scout::plugins::mcp::StdioServerOptions server_options;
    server_options.max_line_bytes = 2048;
    scout::plugins::mcp::StdioServer server(io.get_executor(), session, pipe_fds[0], out_fd, server_options);
    asio::co_spawn(io, server.run(), [&](std::exception_ptr e) {
      check(!e, "StdioServer::run threw");
      finished = true;
    });
    scout::fuzz::for_each_piece(client_bytes, sizes, 2, [&](std::string_view piece) {
      while (!piece.empty()) {
        const ssize_t n = ::write(pipe_fds[1], piece.data(), piece.size());
        if (n > 0) piece.remove_prefix(static_cast<std::size_t>(n));
        io.poll();
        io.restart();
      }
    });
    ::close(pipe_fds[1]);
    io.run_for(std::chrono::seconds(5));
    check(finished, "the server did not finish after its input ended");
    check(session->calls_in_flight() == 0, "calls left in flight after the server finished");
  }

  // Everything written: one message per line.
  std::string written;
  char buf[65536];
  ssize_t n;
  off_t at = 0;
  while ((n = ::pread(out_reader, buf, sizeof buf, at)) > 0) {
    written.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  ::close(out_reader);
  check(written.empty() || written.back() == '\n', "the server's output does not end with a line end");
  std::size_t start = 0;
  while (start < written.size()) {
    const std::size_t end = written.find('\n', start);
    check_output_line(std::string_view(written).substr(start, end - start));
    start = end + 1;
  }
  return 0;
}
