// McpToolAdapter: one tool of an MCP server as a registry Tool, so the model, `scout tool` and
// the loop call it like a built-in one. The registry checks the arguments against the tool's
// inputSchema first; the call then goes to the server through the shared McpClient.
//
// What the server returns becomes the model's observation (content_to_text):
//   text                 the text
//   image / audio        "[image: image/png, 1.2 KiB]" — a text model cannot see it
//   resource_link        "[resource link: NAME <URI>]"
//   resource (embedded)  "[resource URI]" and its text, or its type and size for a blob
// structuredContent becomes ToolOutput::structured, checked against the tool's outputSchema
// (a result that does not match is an error naming the mismatch); with no content blocks its
// JSON is the text. isError results are error observations. The server's progress reports
// for a call go to ToolContext::progress. A failed request (timeout, the
// server gone) is an error observation too: the run goes on.
#pragma once

#include <memory>
#include <string>

#include "plugins/mcp/client.h"
#include "tools/registry/tool.h"

namespace scout::plugins::mcp {

// The observation text for a result's content blocks.
std::string content_to_text(const Json& content);

class McpToolAdapter final : public tools::Tool {
 public:
  // `registered_name` is the name in Scout's registry; the server knows the tool as tool.name.
  McpToolAdapter(std::shared_ptr<McpClient> client, McpTool tool, std::string registered_name);

  std::string name() const override { return registered_name_; }
  std::string description() const override;
  tools::Json parameters() const override;
  asio::awaitable<tools::ToolOutput> invoke(tools::Json arguments, tools::ToolContext ctx) override;
  std::string origin() const override { return "MCP server '" + client_->name() + "'"; }

 private:
  std::shared_ptr<McpClient> client_;
  McpTool tool_;
  std::string registered_name_;
};

}  // namespace scout::plugins::mcp
