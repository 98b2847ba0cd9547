// How `scout tools`, `scout tool` and `scout mcp` print tools and their results.
#pragma once

#include <vector>

#include "tools/registry/registry.h"

namespace scout::cli {

// Each tool with its description, its origin when it is not built in (an MCP server, a native
// plugin) and its arguments (type, range, required, default), or with `json` one array of
// {name, description, parameters, origin}.
void print_tools(const std::vector<tools::ToolInfo>& tools, bool json);

// A call's result as the model reads it, or with `json` {is_error, text, structured}.
void print_output(const tools::ToolOutput& out, bool json);

}  // namespace scout::cli
