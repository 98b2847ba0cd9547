// scout tools / scout tool: list the agent's tools, or call one by hand.
//
//   scout tools [--json] [--check] [--config FILE]
//   scout tool NAME ['JSON' | -] [--json] [--timeout S] [--config FILE]
//
// A call goes through the same registry, validation, deadline and configuration as in an agent
// run, so what it prints is exactly what the model would read. `scout tool` calls built-in tools
// and the tools of the configured native plugins ([[plugins.native]]); MCP servers' tools are
// called with `scout mcp call`.
//
// Exit codes (scout tool): 0 the tool succeeded; 1 the tool reported an error (its text says
// why, including a timeout); 2 usage: malformed JSON, invalid arguments or an unknown tool;
// 3 the config file is missing or invalid, or the tool could not be set up; 130 interrupted by
// Ctrl-C (the call is cancelled first).
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include "agent/config.h"
#include "agent/toolset.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_on.h"
#include "cli/tool_view.h"
#include "common/json.h"
#include "common/text.h"
#include "plugins/mcp/servers.h"
#include "plugins/native/native_plugin.h"

namespace scout::cli {
namespace {

namespace asio = boost::asio;
using tools::Json;

constexpr const char* kToolExitCodes =
    "Exit codes: 0 the tool succeeded; 1 the tool reported an error (its text says why); 2 usage: malformed JSON, "
    "invalid arguments or an unknown tool; 3 the config file is missing or invalid, or the tool could not be set "
    "up; 130 interrupted (the call is cancelled).";

struct ToolsArgs {
  std::string config;
  bool json = false;
  bool check = false;  // start each MCP server, load each native plugin, and report their health
};

struct ToolArgs {
  std::string config;
  std::string name;
  std::string arguments = "{}";
  bool json = false;
  double timeout_s = 0;  // 0: [agent] tool_timeout_s
};

Result<agent::Config> load(const std::string& config_file) {
  std::optional<std::filesystem::path> file;
  if (!config_file.empty()) file = config_file;
  return agent::load_config(file);
}

int run_tools(const ToolsArgs& a) {
  // Declared first: MCP tools in the registry hold connections whose pipes belong to it, so it
  // must be destroyed after them.
  asio::io_context io;
  auto config = load(a.config);
  if (!config) {
    std::cerr << "scout tools: " << config.error().message << "\n";
    return kExitModelError;
  }
  auto registry = agent::build_toolset(*config);
  if (!registry) {
    std::cerr << "scout tools: " << registry.error().message << "\n";
    return kExitModelError;
  }
  // The configured MCP servers' tools are listed with the built-in ones; with --check each
  // server's health is reported too.
  std::vector<std::shared_ptr<plugins::mcp::McpClient>> clients;
  std::vector<std::string> health;
  bool all_healthy = true;
  for (const auto& server : config->mcp_servers) {
    // Shared with the client: a server may report later (a changed tool list), after this loop.
    auto reported = std::make_shared<std::string>();
    const std::size_t before = (*registry)->list().size();
    auto connected = run_on(io, plugins::mcp::connect_servers(io.get_executor(), {server}, **registry,
                                                              [reported](const std::string& p) { *reported += p; }));
    const std::string problem = *reported;
    const bool up = connected && !connected->empty();
    all_healthy = all_healthy && up && problem.empty();
    if (up) {
      health.push_back(server.name + ": ok, " + std::to_string((*registry)->list().size() - before) + " tools (" +
                       connected->front()->name() + ")" + (problem.empty() ? "" : "; " + problem));
      clients.push_back(connected->front());
    } else {
      health.push_back(server.name + ": unavailable: " + problem);
      if (!a.check) std::cerr << "scout tools: " << problem << "\n";
    }
  }
  // The configured native plugins' tools too; one that cannot be loaded is reported and skipped.
  for (const auto& path : config->native_plugins) {
    std::string problems;
    const std::size_t before = (*registry)->list().size();
    const auto loaded = plugins::native::add_native_plugins(
        {path}, **registry, [&problems](const std::string& p) { problems += (problems.empty() ? "" : "; ") + p; });
    all_healthy = all_healthy && problems.empty();
    if (loaded.empty()) {
      health.push_back(problems);
    } else {
      health.push_back("native plugin " + path.string() + ": ok, " + std::to_string((*registry)->list().size() - before) +
                       " tools (" + loaded.front().name +
                       (loaded.front().version.empty() ? "" : " " + loaded.front().version) + ")" +
                       (problems.empty() ? "" : "; " + problems));
    }
    if (!a.check && !problems.empty()) std::cerr << "scout tools: " << problems << "\n";
  }
  print_tools((*registry)->list(), a.json);
  if (a.check) {
    for (const auto& line : health) std::cerr << line << "\n";
  }
  run_on(io, plugins::mcp::close_clients(clients));
  return a.check && !all_healthy ? kExitTaskFailed : kExitOk;
}

int run_tool(const ToolArgs& a) {
  auto known = agent::builtin_tool_names();
  const bool builtin = std::find(known.begin(), known.end(), a.name) != known.end();
  std::string text = a.arguments;
  if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  auto parsed = parse_json<Json>(text);
  if (!parsed) {
    std::cerr << "scout tool: the arguments are not valid JSON (" << parsed.error().message
              << "); give one JSON object, e.g. '{\"query\": \"...\"}'\n";
    return kExitUsage;
  }
  Json arguments = std::move(*parsed);
  if (!arguments.is_object()) {
    std::cerr << "scout tool: the arguments must be a JSON object, not " << arguments.type_name() << "\n";
    return kExitUsage;
  }

  auto config = load(a.config);
  if (!config) {
    std::cerr << "scout tool: " << config.error().message << "\n";
    return kExitModelError;
  }
  // Declared before the registry: a native tool's call that was cancelled still ends on the
  // io_context, so it must outlive the tools.
  asio::io_context io;
  // Only the named tool is set up, so a problem with another one's configuration is not in the
  // way: the built-in one, or else the native plugins' tools, among which it may be.
  auto registry = agent::build_toolset(*config, builtin ? std::vector<std::string>{a.name} : std::vector<std::string>{});
  if (!registry) {
    std::cerr << "scout tool: " << registry.error().message << "\n";
    return kExitModelError;
  }
  std::vector<std::shared_ptr<plugins::mcp::McpClient>> mcp_clients;
  if (!builtin) {
    plugins::native::add_native_plugins(config->native_plugins, **registry,
                                        [](const std::string& problem) { std::cerr << "scout tool: " << problem << "\n"; });
    // SERVER__TOOL: start only that MCP server.
    const auto split = a.name.find("__");
    for (const auto& server : config->mcp_servers) {
      if ((*registry)->find(a.name) || split == std::string::npos || a.name.substr(0, split) != server.name) continue;
      auto connected = run_on(io, plugins::mcp::connect_servers(
                                      io.get_executor(), {server}, **registry,
                                      [](const std::string& problem) { std::cerr << "scout tool: " << problem << "\n"; }));
      if (connected) mcp_clients = std::move(*connected);
    }
    if (!(*registry)->find(a.name)) {
      for (const auto& info : (*registry)->list()) known.push_back(info.name);
      std::cerr << "scout tool: unknown tool '" << a.name << "'; known tools: " << joined(known) << "\n";
      return kExitUsage;
    }
  }

  asio::cancellation_signal cancel;
  bool interrupted = false;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    interrupted = true;
    cancel.emit(asio::cancellation_type::terminal);
  });

  const double timeout_s = a.timeout_s > 0 ? a.timeout_s : config->agent.tool_timeout_s;
  tools::ToolContext ctx;
  ctx.deadline = tools::ToolContext::Clock::now() +
                 std::chrono::duration_cast<tools::ToolContext::Clock::duration>(std::chrono::duration<double>(timeout_s));
  ctx.cancel = cancel.slot();

  std::optional<tools::ToolOutput> out;
  asio::co_spawn(io, (*registry)->call(a.name, std::move(arguments), ctx),
                 [&](std::exception_ptr e, tools::ToolOutput o) {
                   out = e ? tools::ToolOutput::failure("the call failed unexpectedly") : std::move(o);
                   signals.cancel();
                 });
  // Run until the call has completed, not until the io_context is idle: a cancelled run_code
  // program keeps a worker busy until its own time limit (see run_code_tool.h).
  while (!out && io.run_one()) {
  }
  if (!out) out = tools::ToolOutput::failure("the call did not complete");

  const Json& s = out->structured ? *out->structured : Json();
  const bool invalid = s.is_object() && s.contains("invalid_arguments");
  if (invalid) {
    std::cerr << out->text << "\n";
  } else {
    print_output(*out, a.json);
  }
  const int code = interrupted ? kExitInterrupted : invalid ? kExitUsage : out->is_error ? kExitTaskFailed : kExitOk;
  const bool abandoned = interrupted || (s.is_object() && (s.contains("timed_out") || s.contains("cancelled")));
  if (abandoned) {
    // The call was cancelled but blocking work behind it (a sandboxed program) may still be
    // running; waiting for it would delay the exit by up to its time limit. Ending the process
    // now ends that work too: the sandbox dies with its parent.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(code);
  }
  run_on(io, plugins::mcp::close_clients(mcp_clients));
  return code;
}

}  // namespace

void register_tool(CLI::App& app, int& exit_code) {
  auto ls = std::make_shared<ToolsArgs>();
  auto* tools_cmd = app.add_subcommand("tools", "List the tools the agent can call, with their arguments");
  tools_cmd->add_flag("--json", ls->json, "Print a JSON array of {name, description, parameters, origin}");
  tools_cmd->add_option("--config", ls->config, "Config file (default: $XDG_CONFIG_HOME/scout/config.toml or ~/.config/scout/config.toml)");
  tools_cmd->add_flag("--check", ls->check,
                      "Start each configured MCP server and load each native plugin, and report their health on stderr");
  tools_cmd->footer("Exit codes: 0 ok; 1 (--check) an MCP server or a native plugin is unavailable; 3 the config file "
                    "is missing or invalid, or a tool could not be set up.");
  tools_cmd->callback([ls, &exit_code] { exit_code = run_tools(*ls); });

  auto a = std::make_shared<ToolArgs>();
  auto* cmd = app.add_subcommand("tool", "Call one tool with JSON arguments and print what it returns");
  cmd->add_option("name", a->name, "The tool's name (see 'scout tools')")->required();
  cmd->add_option("arguments", a->arguments, "The arguments as one JSON object, or - to read them from stdin")
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "Print {\"is_error\", \"text\", \"structured\"} as JSON");
  cmd->add_option("--timeout", a->timeout_s, "Seconds before the call is cancelled (default: [agent] tool_timeout_s)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--config", a->config, "Config file (default: $XDG_CONFIG_HOME/scout/config.toml or ~/.config/scout/config.toml)");
  cmd->footer(kToolExitCodes);
  cmd->callback([a, &exit_code] { exit_code = run_tool(*a); });
}

}  // namespace scout::cli
