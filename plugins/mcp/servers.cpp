#include "plugins/mcp/servers.h"

#include <cctype>

#include "plugins/mcp/mcp_tool.h"

namespace scout::plugins::mcp {

std::string registered_tool_name(const std::string& server, const std::string& tool) {
  std::string name = server + "__" + tool;
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) c = '_';
  return name;
}

asio::awaitable<std::vector<std::shared_ptr<McpClient>>> connect_servers(
    asio::any_io_executor executor, std::vector<McpServerConfig> servers, tools::Registry& registry,
    std::function<void(const std::string&)> report) {
  std::vector<std::shared_ptr<McpClient>> clients;
  for (const McpServerConfig& server : servers) {
    auto transport = StdioTransport::spawn(executor, StdioCommand{server.command, server.args, server.env, server.name});
    if (!transport) {
      report("MCP server '" + server.name + "' is unavailable: " + transport.error().message);
      continue;
    }
    ClientOptions options;
    options.request_timeout = server.timeout;
    auto client = std::make_shared<McpClient>(executor, std::move(*transport), options);
    auto info = co_await client->initialize();
    std::optional<Result<std::vector<McpTool>>> tools;
    if (info) tools.emplace(co_await client->list_tools());
    if (!info || !*tools) {
      report("MCP server '" + server.name + "' is unavailable: " + (!info ? info.error() : tools->error()).message);
      co_await client->close();
      continue;
    }
    for (const McpTool& tool : **tools) {
      const std::string name = registered_tool_name(server.name, tool.name);
      if (auto added = registry.add(std::make_shared<McpToolAdapter>(client, tool, name)); !added)
        report("MCP server '" + server.name + "': tool '" + tool.name + "' left out: " + added.error().message);
    }
    clients.push_back(std::move(client));
  }
  co_return clients;
}

}  // namespace scout::plugins::mcp
