// scout mcp-server: Scout's tools offered to other agents over MCP.
//
//   scout mcp-server [--config FILE]                   stdio: JSON-RPC lines on stdin/stdout
//   scout mcp-server --http [HOST:]PORT [--allow-origin ORIGIN]... [--config FILE]
//                                                      Streamable HTTP at http://HOST:PORT/mcp
//
// The tools: those `scout tools` lists (the built-in ones, set up from the configuration, and the
// configured MCP servers' tools), plus scout_run, a whole agent task as one tool, run as
// `scout run TASK` would run it (agent/scout_run_tool.h). Each call's deadline is [agent]
// tool_timeout_s; scout_run's is [agent] max_wall_s plus a minute, so the run's own wall-time
// budget ends it first and it can still answer with what it has.
//
// stdout carries MCP messages only (stdio); everything else goes to stderr, the listening address
// included ("listening on http://127.0.0.1:PORT/mcp", the port chosen when PORT is 0).
//
// Exit codes: 0 stopped (end of input, SIGTERM); 2 usage; 3 the config is missing or invalid, a
// tool cannot be set up, or the address cannot be listened on; 130 interrupted (SIGINT).
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/config.h"
#include "agent/run_setup.h"
#include "agent/scout_run_tool.h"
#include "agent/toolset.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_on.h"
#include "plugins/mcp/http_server.h"
#include "plugins/mcp/servers.h"
#include "plugins/mcp/stdio_server.h"

#ifndef SCOUT_VERSION
#define SCOUT_VERSION "unknown"
#endif

namespace scout::cli {
namespace {

namespace asio = boost::asio;
namespace mcp = plugins::mcp;

struct ServerArgs {
  std::string config;
  std::string http;  // [HOST:]PORT; empty: stdio
  std::vector<std::string> allowed_origins;
};

void say(const std::string& text) { std::cerr << "scout mcp-server: " << text << "\n"; }

std::chrono::milliseconds seconds(double s) { return std::chrono::milliseconds(static_cast<long long>(s * 1000)); }

std::string instructions(const tools::Registry& registry) {
  std::string names;
  for (const auto& t : registry.list())
    if (t.name != "scout_run") names += (names.empty() ? "" : ", ") + t.name;
  return "Scout is a research agent. scout_run gives it a whole task — it searches, reads pages and runs code as "
         "often as it needs — and returns its final answer; it may take minutes, so pass a progressToken to follow "
         "its steps. The other tools are the single steps it uses, for you to call directly: " +
         (names.empty() ? std::string("none") : names) + ".";
}

// Runs `serve` beside SIGINT/SIGTERM handling: the first signal calls `stop`, a second SIGINT
// leaves at once. The MCP servers Scout itself started are closed when `serve` returns.
int serve_until_stopped(asio::io_context& io, std::function<asio::awaitable<void>()> serve, std::function<void()> stop,
                        std::vector<std::shared_ptr<mcp::McpClient>>& clients) {
  asio::signal_set signals(io, SIGINT, SIGTERM);
  int signalled = 0;
  std::function<void()> arm = [&] {
    signals.async_wait([&](boost::system::error_code ec, int sig) {
      if (ec) return;
      if (signalled == SIGINT && sig == SIGINT) std::_Exit(kExitInterrupted);
      signalled = sig;
      say(std::string("stopping (") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ")");
      stop();
      arm();
    });
  };
  arm();
  auto serve_then_close = [](std::function<asio::awaitable<void>()> serve,
                             std::vector<std::shared_ptr<mcp::McpClient>>* clients) -> asio::awaitable<void> {
    co_await serve();
    for (auto& client : *clients) co_await client->close();
  };
  bool done = false;
  asio::co_spawn(io, serve_then_close(std::move(serve), &clients), [&](std::exception_ptr e) {
    if (e) say("the server ended unexpectedly (internal error)");
    done = true;
    signals.cancel();
  });
  // Streams and calls still finishing after the server returned get a little time, no more.
  while (!done && io.run_one()) {
  }
  io.run_for(std::chrono::seconds(5));
  return signalled == SIGINT ? kExitInterrupted : kExitOk;
}

int run_server(const ServerArgs& a) {
  std::optional<mcp::ListenAddress> address;
  if (!a.http.empty()) {
    auto parsed = mcp::parse_listen_address(a.http);
    if (!parsed) {
      say("--http: " + parsed.error().message);
      return kExitUsage;
    }
    address = *parsed;
  }
  auto config = agent::load_config(a.config.empty() ? std::nullopt : std::optional<std::filesystem::path>(a.config));
  if (!config) {
    say(config.error().message);
    return kExitModelError;
  }
  const agent::Config c = *config;

  // Declared before the registries: MCP tools hold connections whose pipes belong to it.
  asio::io_context io;
  auto built = agent::build_toolset(c);
  if (!built) {
    say(built.error().message);
    return kExitModelError;
  }
  std::shared_ptr<tools::Registry> agent_tools = std::move(*built);
  std::vector<std::shared_ptr<mcp::McpClient>> clients;
  if (!c.mcp_servers.empty()) {
    auto connected = run_on(io, mcp::connect_servers(io.get_executor(), c.mcp_servers, *agent_tools, say));
    if (connected) clients = std::move(*connected);
  }

  // What clients see: the agent's tools, and scout_run, which runs the agent over them.
  tools::Registry offered;
  for (const auto& info : agent_tools->list()) (void)offered.add(agent_tools->find(info.name));
  // A local model is loaded by the first scout_run call and kept for the later ones.
  auto models = std::make_shared<agent::ModelCache>();
  auto prepare = [executor = io.get_executor(), c, models](const std::string& effort) {
    agent::RunChoices choices;
    choices.effort = effort;
    return agent::prepare_run(
        executor, c, choices, [](const std::string& text) { say("scout_run: " + text); }, models.get());
  };
  auto runs = std::make_shared<int>(0);
  auto open_trace = [c, runs] {
    return agent::TraceWriter::open(agent::default_trace_path(c, std::to_string(++*runs)), agent::secret_values(c));
  };
  if (auto added = offered.add(std::make_shared<agent::ScoutRunTool>(prepare, agent_tools, open_trace)); !added) {
    say(added.error().message);
    return kExitModelError;
  }

  mcp::ServerOptions options;
  options.version = SCOUT_VERSION;
  options.instructions = instructions(offered);
  options.tool_timeout = seconds(c.agent.tool_timeout_s);
  options.tool_timeouts["scout_run"] = c.agent.max_wall_s > 0 ? seconds(c.agent.max_wall_s + 60) : std::chrono::milliseconds(0);

  if (!address) {
    auto session = std::make_shared<mcp::ServerSession>(offered, options);
    mcp::StdioServerOptions stdio_options;
    stdio_options.log = say;
    // Duplicates, so that the server may close its descriptors without closing stdin and stdout.
    const int in = dup(STDIN_FILENO);
    const int out = dup(STDOUT_FILENO);
    if (in < 0 || out < 0) {
      say("stdin and stdout must be open (they carry the MCP messages)");
      return kExitModelError;
    }
    mcp::StdioServer server(io.get_executor(), session, in, out, stdio_options);
    say("serving " + std::to_string(offered.list().size()) + " tools on stdin/stdout");
    return serve_until_stopped(io, [&server] { return server.run(); }, [&server] { server.stop(); }, clients);
  }

  mcp::HttpServerOptions http_options;
  http_options.host = address->host;
  http_options.port = address->port;
  http_options.allowed_origins = a.allowed_origins;
  http_options.log = say;
  auto server = mcp::HttpServer::listen(io.get_executor(), offered, options, http_options);
  if (!server) {
    say(server.error().message);
    return kExitModelError;
  }
  const std::string host = address->host.find(':') != std::string::npos ? "[" + address->host + "]" : address->host;
  if (!(*server)->loopback())
    say("warning: " + host + " is not a loopback address: anyone who can reach it may call Scout's tools (search, "
        "fetch pages, run code) without authentication, and the Host header is not checked");
  say("serving " + std::to_string(offered.list().size()) + " tools; listening on http://" + host + ":" +
      std::to_string((*server)->port()) + "/mcp");
  mcp::HttpServer& http = **server;
  return serve_until_stopped(io, [&http] { return http.run(); }, [&http] { http.stop(); }, clients);
}

}  // namespace

void register_mcp_server(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ServerArgs>();
  auto* cmd = app.add_subcommand("mcp-server", "Offer Scout's tools, and scout_run (a whole agent task), to other agents over MCP");
  cmd->add_option("--config", a->config, "Config file (default: ~/.config/scout/config.toml when present)");
  cmd->add_option("--http", a->http, "Serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio (HOST defaults to 127.0.0.1; PORT 0 picks a free port)");
  cmd->add_option("--allow-origin", a->allowed_origins, "An Origin allowed besides loopback ones, e.g. https://app.example (repeatable)");
  cmd->footer(
      "Without --http, MCP messages are read from stdin and written to stdout, one per line; logs go to stderr.\n"
      "Exit codes: 0 stopped (end of input, SIGTERM); 2 usage; 3 config error, a tool cannot be set up, or the address "
      "cannot be listened on; 130 interrupted.");
  cmd->callback([a, &exit_code] { exit_code = run_server(*a); });
}

}  // namespace scout::cli
