// libFuzzer target: Scout's MCP client (plugins/mcp/client.h) talking to a server that says
// arbitrary things — responses, notifications and requests of its own, well formed or not —
// through an in-memory transport, with no process and no network.
//
// Input: the server's output, one JSON-RPC message per line, as the stdio transport frames it
// (LineFramer, then parse_message; a line that is not a message ends the connection, as
// StdioTransport does). A line holding only "~" ends a round: the messages of round k are
// received once the client has sent more than k messages (or has nothing else to do), so
// responses can meet the requests they answer (the client numbers them 1, 2, 3, ...). When the
// lines run out the connection ends.
//
// The client does what `scout run` does with a server: initialize (server/discover, then the
// initialize handshake when that fails), tools/list, one tools/call with a progress reporter,
// close. Elicitation requests go to ask_on_terminal with scripted answers, as on a terminal.
//
// Checked: every step ends (with a result or an error, never an exception) once the connection
// ends — nothing waits for a deadline; every message the client sends is valid JSON-RPC; the
// tools it lists have names; results have a content list.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "fuzz/fuzz_check.h"
#include "plugins/mcp/client.h"
#include "plugins/mcp/elicitation.h"
#include "plugins/mcp/jsonrpc.h"

namespace {

namespace asio = boost::asio;
namespace mcp = scout::plugins::mcp;
using scout::fuzz::check;

struct Script {
  std::deque<std::pair<std::string, int>> lines;  // a line and its round
  int sent = 0;                                    // messages the client has sent
};

class ScriptedTransport final : public mcp::Transport {
 public:
  explicit ScriptedTransport(std::shared_ptr<Script> script) : script_(std::move(script)) {}

  const std::string& name() const override { return name_; }

  asio::awaitable<scout::Result<void>> send(const mcp::Message& message) override {
    // What goes on the wire must read back as the same kind of message.
    const std::string line = mcp::serialize(message);
    check(line.find('\n') == std::string::npos, "a message the client sent spans lines");
    const auto back = mcp::parse_message(line);
    check(back.has_value() && back->index() == message.index(), "the client sent a message that does not parse back");
    ++script_->sent;
    // A real transport's write suspends (an async write, a spawned POST): so does this one, and
    // the server's messages may arrive meanwhile.
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return scout::Result<void>{};
  }

  asio::awaitable<scout::Result<mcp::Message>> receive() override {
    if (script_->lines.empty()) co_return scout::make_error("MCP server 'scripted' closed its output");
    // Wait for the client to have sent enough, or to have nothing else to do (a bounded number
    // of turns of the executor), before the next round's messages arrive.
    for (int turns = 0; script_->lines.front().second >= script_->sent && turns < 64; ++turns)
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    std::string line = std::move(script_->lines.front().first);
    script_->lines.pop_front();
    auto message = mcp::parse_message(line);
    if (!message) co_return scout::make_error("MCP server 'scripted' wrote something that is " + message.error().message);
    co_return std::move(*message);
  }

  std::string diagnostics() const override { return "stderr of the scripted server"; }
  asio::awaitable<void> close(std::chrono::milliseconds) override { co_return; }

 private:
  std::shared_ptr<Script> script_;
  std::string name_ = "scripted";
};

asio::awaitable<void> session(mcp::McpClient& client, bool& done) {
  auto info = co_await client.initialize();
  if (info) {
    auto tools = co_await client.list_tools();
    std::string tool = "echo";
    if (tools) {
      for (const auto& t : *tools) {
        check(!t.name.empty(), "a listed tool without a name");
        check(t.input_schema.is_object(), "a listed tool whose input schema is not an object");
      }
      if (!tools->empty()) tool = tools->front().name;
    }
    int reports = 0;
    auto result = co_await client.call_tool(tool, mcp::Json{{"text", "hi"}}, [&](const mcp::Progress&) { ++reports; });
    if (result) check(result->content.is_array(), "a call result whose content is not a list");
  }
  co_await client.close();
  done = true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto script = std::make_shared<Script>();
  {
    mcp::LineFramer framer(8192);
    int round = 0;
    for (auto& line : framer.feed(std::string_view(reinterpret_cast<const char*>(data), size))) {
      if (line == "~") {
        ++round;
        continue;
      }
      script->lines.emplace_back(std::move(line), round);
    }
  }

  asio::io_context io;
  mcp::ClientOptions options;
  options.request_timeout = std::chrono::seconds(30);
  options.probe_timeout = std::chrono::seconds(30);
  options.on_notification = [](const mcp::Notification&) {};
  options.on_warning = [](const std::string& w) { check(!w.empty(), "an empty warning"); };
  options.on_elicitation = [](const std::string& server, const mcp::Json& params) {
    std::istringstream answers("1\ny\n\n42\nsome text\n?\n\n\n\ny\n");
    std::ostringstream shown;
    return mcp::ask_on_terminal(server, params, answers, shown);
  };
  bool done = false;
  {
    mcp::McpClient client(io.get_executor(), std::make_unique<ScriptedTransport>(script), options);
    asio::co_spawn(io, session(client, done), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "exception: %s\n", x.what());
      }
      check(false, "an exception escaped the MCP client");
    });
    io.run_for(std::chrono::seconds(5));
    check(done, "the client did not finish after the server's output ended");
  }
  return 0;
}
