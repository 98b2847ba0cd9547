// The tool registry: the single place the agent calls tools through. It owns the policies
// every call shares, so tools do not re-implement them:
//   - unknown tools are refused with the list of known ones;
//   - arguments are validated against the tool's schema (defaults filled in) before the tool
//     runs, with errors a model can act on;
//   - the deadline is enforced: an overrunning tool is cancelled and reported as timed out;
//   - cancellation from the caller reaches the tool, and so does its progress callback;
//   - an exception escaping a tool becomes an error output.
// Calls are coroutines on the caller's executor, so calls the caller awaits together (for
// example with awaitable operator &&, or several co_spawns) run concurrently.
//
// Thread-safety: add() is not synchronised and belongs to start-up. Once tools are added,
// list(), find() and call() are const and may run concurrently from any number of calls.
// Ownership: the registry shares ownership of its tools; an in-flight call keeps its tool alive.
// The registry itself must outlive the calls made through it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "tools/registry/tool.h"

namespace scout::tools {

// What the agent offers the model for one tool.
struct ToolInfo {
  std::string name;
  std::string description;
  Json parameters;
  std::string origin;  // Tool::origin(); not part of what the model is offered
};

// 1 to 64 letters, digits, '_' and '-': the names the registry (and function-calling APIs)
// accept.
bool is_valid_tool_name(std::string_view name);

class Registry {
 public:
  // Fails when the name is empty, has characters other than letters, digits, '_' and '-', is
  // already registered, or when the schema is not an object schema.
  Result<void> add(std::shared_ptr<Tool> tool);

  // Every tool, sorted by name, so prompts built from the list are stable.
  std::vector<ToolInfo> list() const;

  // The tool with this name, or nullptr.
  std::shared_ptr<Tool> find(std::string_view name) const;

  // Calls a tool. Never throws for a failing tool: unknown names, invalid arguments, timeouts,
  // cancellation and tool errors all come back as ToolOutput with is_error set.
  asio::awaitable<ToolOutput> call(std::string name, Json arguments, ToolContext ctx) const;

 private:
  std::string known_names() const;

  std::map<std::string, std::shared_ptr<Tool>, std::less<>> tools_;
};

}  // namespace scout::tools
