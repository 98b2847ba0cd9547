// The MCP servers a configuration names ([[plugins.mcp]] in the TOML config), started and
// joined to a registry: each server's tools are registered as SERVER__TOOL.
//
// Names: the registry (and every OpenAI-compatible API: ^[a-zA-Z0-9_-]{1,64}$) accepts no '.',
// so "SERVER.TOOL" is written "SERVER__TOOL"; characters outside that set become '_'.
//
// Faults: a server that cannot start, fails the handshake or cannot list its tools is reported
// (name, reason, stderr tail) through `report` and left out; the others are connected and the
// run goes on.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "plugins/mcp/client.h"
#include "tools/registry/registry.h"

namespace scout::plugins::mcp {

struct McpServerConfig {
  std::string name;  // letters, digits, '_' and '-': the prefix of its tools' names
  // Either a command (stdio)...
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  // Run the command in a bubblewrap container (see tools/sandbox: contained_command_line) that
  // sees the system read-only, plus these paths read-only; network only when asked.
  bool sandbox = false;
  std::vector<std::string> sandbox_paths;
  bool sandbox_network = false;
  // ...or a Streamable HTTP endpoint.
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  // OAuth 2.1 when the server asks for it (see oauth.h): the user signs in with a browser,
  // redirected back to 127.0.0.1:oauth_redirect_port (0: any free port). A client the server's
  // operator registered for Scout gives its id (and secret); otherwise Scout registers itself.
  bool oauth = false;
  std::string oauth_client_id;
  std::string oauth_client_secret;
  int oauth_redirect_port = 0;
  // Where its tokens and Scout's registration are kept between runs (see OAuthClientConfig::
  // token_file); the config sets $XDG_STATE_HOME/scout/mcp-oauth/NAME.json.
  std::string oauth_token_file;
  // Which of its tools join (the server's own names; '*' matches any run of characters): all
  // when `allow` is empty, minus those `deny` matches.
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  std::chrono::milliseconds timeout{60000};  // each request
  // The protocol revision to speak; empty: whatever the server speaks (see McpClient::initialize).
  std::string protocol;
  // Where what the server was found to speak is remembered for the next run, with the command or
  // URL it was found for (ClientOptions::known_era); the config sets
  // $XDG_STATE_HOME/scout/mcp-era/NAME.json. Empty: found anew each time.
  std::string era_file;
};

// Whether `server` lets its tool `tool` join (allow/deny above).
bool tool_permitted(const McpServerConfig& server, const std::string& tool);

// "SERVER__TOOL", with characters a function name cannot hold replaced by '_'.
std::string registered_tool_name(const std::string& server, const std::string& tool);

// Starts every server, registers its tools in `registry`, returns the live clients (close them
// at the end of the run). Each failed server is reported and skipped. When a server announces
// notifications/tools/list_changed, its new tools join the registry. The registry and whatever
// `report` refers to must stay alive until the clients are closed: both are used on such a
// change. `report` also carries OAuth sign-in prompts.
asio::awaitable<std::vector<std::shared_ptr<McpClient>>> connect_servers(
    asio::any_io_executor executor, std::vector<McpServerConfig> servers, tools::Registry& registry,
    std::function<void(const std::string&)> report,  // by value: a coroutine must own what it keeps across suspensions
    ClientOptions base = {});                         // each server's options but its timeout (e.g. on_elicitation)

// Closes each client in turn (servers shut down, sessions deleted); returns true when all are
// closed, so a front end can run it to its end with one call.
asio::awaitable<bool> close_clients(std::vector<std::shared_ptr<McpClient>> clients);

}  // namespace scout::plugins::mcp
