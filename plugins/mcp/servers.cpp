#include "plugins/mcp/servers.h"

#include <fnmatch.h>

#include <cctype>
#include <fstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "common/files.h"
#include "common/json.h"
#include "plugins/mcp/http_transport.h"
#include "plugins/mcp/mcp_tool.h"
#include "plugins/mcp/stdio_transport.h"
#include "tools/sandbox/sandbox.h"

namespace scout::plugins::mcp {

std::string registered_tool_name(const std::string& server, const std::string& tool) {
  std::string name = server + "__" + tool;
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) c = '_';
  return name;
}

bool tool_permitted(const McpServerConfig& server, const std::string& tool) {
  auto matches = [&](const std::vector<std::string>& patterns) {
    for (const auto& p : patterns)
      if (fnmatch(p.c_str(), tool.c_str(), 0) == 0) return true;
    return false;
  };
  return (server.allow.empty() || matches(server.allow)) && !matches(server.deny);
}

namespace {

Result<std::unique_ptr<Transport>> open_transport(const asio::any_io_executor& executor, const McpServerConfig& server,
                                                  const std::function<void(const std::string&)>& say) {
  if (!server.url.empty()) {
    HttpEndpoint endpoint{server.url, server.headers, server.name, "", nullptr};
    if (server.oauth) {
      auto redirect = LoopbackRedirect::open(executor, static_cast<unsigned short>(server.oauth_redirect_port));
      if (!redirect) return Unexpected{redirect.error()};
      OAuthClientConfig oauth;
      oauth.redirect_uri = (*redirect)->redirect_uri();
      oauth.client_id = server.oauth_client_id;
      oauth.client_secret = server.oauth_client_secret;
      oauth.token_file = server.oauth_token_file;
      endpoint.oauth = std::make_shared<OAuthSession>(executor, server.url, oauth, (*redirect)->authorizer(say, server.name));
    }
    auto http = HttpTransport::open(executor, std::move(endpoint));
    if (!http) return Unexpected{http.error()};
    return std::unique_ptr<Transport>(std::move(*http));
  }
  StdioCommand command{server.command, server.args, server.env, server.name};
  ContainedLine contained;  // holds the system-call filter until the server has started
  if (server.sandbox) {
    auto line = contained_command_line(
        ContainedCommand{server.command, server.args, server.sandbox_paths, server.env, server.sandbox_network, ""});
    if (!line) return Unexpected{line.error()};
    contained = std::move(*line);
    command.program = contained.argv.front();
    command.args.assign(contained.argv.begin() + 1, contained.argv.end());
    command.env.clear();  // bwrap clears the environment; the server's own env is set inside
  }
  std::vector<std::pair<int, int>> pass_fds;
  if (server.sandbox) pass_fds = {{contained.filter.get(), kContainedFilterFd}};
  auto stdio = StdioTransport::spawn(executor, std::move(command), pass_fds);
  if (!stdio) return Unexpected{stdio.error()};
  return std::unique_ptr<Transport>(std::move(*stdio));
}

}  // namespace

namespace {

// What identifies a server's configuration for the remembered era: its URL, or its command line.
std::string era_fingerprint(const McpServerConfig& server) {
  if (!server.url.empty()) return server.url;
  std::string out = server.command;
  for (const auto& a : server.args) out += '\x1f' + a;
  return out;
}

std::string recall_era(const McpServerConfig& server) {
  if (server.era_file.empty()) return {};
  const Json saved = read_json_file<Json>(server.era_file).value_or(Json());
  if (!saved.is_object() || saved.value("fingerprint", "") != era_fingerprint(server)) return {};
  return saved.value("era", "");
}

void remember_era(const McpServerConfig& server, const std::string& era) {
  if (server.era_file.empty()) return;
  (void)write_file_whole(server.era_file, Json{{"fingerprint", era_fingerprint(server)}, {"era", era}}.dump() + "\n");
}

}  // namespace

namespace {

// Registers the server's permitted tools that the registry does not hold yet.
void add_tools(const std::shared_ptr<McpClient>& client, const McpServerConfig& server, const std::vector<McpTool>& tools,
               tools::Registry& registry, const std::function<void(const std::string&)>& report) {
  for (const McpTool& tool : tools) {
    if (!tool_permitted(server, tool.name)) continue;
    const std::string name = registered_tool_name(server.name, tool.name);
    if (registry.find(name)) continue;
    if (auto added = registry.add(std::make_shared<McpToolAdapter>(client, tool, name)); !added)
      report("MCP server '" + server.name + "': tool '" + tool.name + "' left out: " + added.error().message);
  }
}

// After notifications/tools/list_changed: list again and register what is new. Tools the server
// dropped stay registered; calling one gets the server's own refusal as an error observation.
asio::awaitable<void> refresh_tools(std::weak_ptr<McpClient> weak, McpServerConfig server, tools::Registry* registry,
                                    std::function<void(const std::string&)> report) {
  auto client = weak.lock();
  if (!client || client->closed()) co_return;
  auto tools = co_await client->list_tools();
  if (client->closed()) co_return;  // the run ended meanwhile: nobody to tell
  if (!tools) {
    report("MCP server '" + server.name + "' changed its tools but could not list them: " + tools.error().message);
    co_return;
  }
  add_tools(client, server, *tools, *registry, report);
}

}  // namespace

asio::awaitable<std::vector<std::shared_ptr<McpClient>>> connect_servers(
    asio::any_io_executor executor, std::vector<McpServerConfig> servers, tools::Registry& registry,
    std::function<void(const std::string&)> report, ClientOptions base) {
  std::vector<std::shared_ptr<McpClient>> clients;
  for (const McpServerConfig& server : servers) {
    auto transport = open_transport(executor, server, report);
    if (!transport) {
      report("MCP server '" + server.name + "' is unavailable: " + transport.error().message);
      continue;
    }
    ClientOptions options = base;
    options.request_timeout = server.timeout;
    options.protocol_version = server.protocol;
    options.known_era = recall_era(server);
    options.on_era_found = [server](const std::string& era) { remember_era(server, era); };
    options.on_warning = [report, forward = base.on_warning](const std::string& what) {
      report(what);
      if (forward) forward(what);
    };
    // The client is made below; the handler reaches it through this slot, filled once it exists.
    auto self = std::make_shared<std::weak_ptr<McpClient>>();
    options.on_notification = [executor, self, server, registry = &registry, report,
                               forward = base.on_notification](const Notification& note) {
      if (note.method == "notifications/tools/list_changed")
        asio::co_spawn(executor, refresh_tools(*self, server, registry, report), asio::detached);
      if (forward) forward(note);
    };
    auto client = std::make_shared<McpClient>(executor, std::move(*transport), options);
    *self = client;
    auto info = co_await client->initialize();
    std::optional<Result<std::vector<McpTool>>> tools;
    if (info) tools.emplace(co_await client->list_tools());
    if (!info || !*tools) {
      report("MCP server '" + server.name + "' is unavailable: " + (!info ? info.error() : tools->error()).message);
      co_await client->close();
      continue;
    }
    add_tools(client, server, **tools, registry, report);
    clients.push_back(std::move(client));
  }
  co_return clients;
}

asio::awaitable<bool> close_clients(std::vector<std::shared_ptr<McpClient>> clients) {
  for (auto& client : clients) co_await client->close();
  co_return true;
}

}  // namespace scout::plugins::mcp
