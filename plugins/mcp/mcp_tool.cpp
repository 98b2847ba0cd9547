#include "plugins/mcp/mcp_tool.h"

#include "tools/registry/json_schema.h"

namespace scout::plugins::mcp {

namespace {

std::string str(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Bytes a base64 text decodes to, for "[image: …, 1.2 KiB]".
std::string decoded_size(const std::string& base64) {
  std::size_t padding = 0;
  for (auto it = base64.rbegin(); it != base64.rend() && *it == '='; ++it) ++padding;
  const std::size_t bytes = base64.size() / 4 * 3 - std::min<std::size_t>(padding, 2);
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  const double kib = static_cast<double>(bytes) / 1024.0;
  std::string text = std::to_string(kib);
  return text.substr(0, text.find('.') + 2) + " KiB";
}

}  // namespace

std::string content_to_text(const Json& content) {
  std::string out;
  auto add = [&](const std::string& piece) {
    if (piece.empty()) return;
    if (!out.empty()) out += "\n";
    out += piece;
  };
  if (!content.is_array()) return out;
  for (const Json& block : content) {
    if (!block.is_object()) continue;
    const std::string type = str(block, "type");
    if (type == "text") {
      add(str(block, "text"));
    } else if (type == "image" || type == "audio") {
      add("[" + type + ": " + str(block, "mimeType") + ", " + decoded_size(str(block, "data")) + "]");
    } else if (type == "resource_link") {
      const std::string name = str(block, "name");
      add("[resource link: " + (name.empty() ? std::string() : name + " ") + "<" + str(block, "uri") + ">]");
    } else if (type == "resource") {
      const Json resource = block.value("resource", Json::object());
      const std::string uri = str(resource, "uri");
      if (resource.contains("text")) {
        add("[resource " + uri + "]\n" + str(resource, "text"));
      } else {
        add("[resource " + uri + ": " + str(resource, "mimeType") + ", " + decoded_size(str(resource, "blob")) + "]");
      }
    } else {
      add("[" + (type.empty() ? std::string("untyped") : type) + " content]");
    }
  }
  return out;
}

McpToolAdapter::McpToolAdapter(std::shared_ptr<McpClient> client, McpTool tool, std::string registered_name)
    : client_(std::move(client)), tool_(std::move(tool)), registered_name_(std::move(registered_name)) {}

std::string McpToolAdapter::description() const {
  std::string d = tool_.description.empty() ? tool_.title : tool_.description;
  return d + (d.empty() ? "" : " ") + "(from MCP server '" + client_->name() + "')";
}

tools::Json McpToolAdapter::parameters() const {
  tools::Json schema = tool_.input_schema;
  // The server's schema may be any shape: its "type" is compared as JSON (value(key, "") would
  // throw on a non-string).
  if (!schema.is_object() || schema.value("type", tools::Json()) != "object") schema = tools::Json{{"type", "object"}};
  schema.erase("$schema");  // draft markers mean nothing to the model
  return schema;
}

asio::awaitable<tools::ToolOutput> McpToolAdapter::invoke(tools::Json arguments, tools::ToolContext ctx) {
  ProgressFn on_progress;
  if (ctx.progress)
    on_progress = [report = ctx.progress](const Progress& p) { report(tools::ToolProgress{p.progress, p.total, p.message}); };
  auto result = co_await client_->call_tool(tool_.name, arguments, std::move(on_progress));
  if (!result) co_return tools::ToolOutput::failure(result.error().message);
  std::string text = content_to_text(result->content);
  std::optional<tools::Json> structured = result->structured;
  if (structured && tool_.output_schema && !result->is_error) {
    tools::Json checked = *structured;
    const auto violations = tools::validate_and_apply_defaults(*tool_.output_schema, checked, "structuredContent");
    if (!violations.empty()) {
      co_return tools::ToolOutput::failure("MCP server '" + client_->name() + "' returned a result for '" + tool_.name +
                                           "' that does not match the tool's outputSchema: " +
                                           violations.front().message);
    }
  }
  if (text.empty() && structured) text = structured->dump(-1, ' ', false, tools::Json::error_handler_t::replace);
  if (result->is_error) co_return tools::ToolOutput::failure(text.empty() ? "the tool reported an error" : text,
                                                              std::move(structured));
  co_return tools::ToolOutput::success(std::move(text), std::move(structured));
}

}  // namespace scout::plugins::mcp
