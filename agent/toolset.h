// The toolset: the tools::Registry an agent run (or `scout tool`) calls tools through, built
// from the configuration — web_search with the configured provider, fetch_url with the [fetch]
// policy, run_code with the [sandbox] limits — optionally narrowed to a --tools selection.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config.h"
#include "common/expected.h"
#include "tools/registry/registry.h"
#include "tools/search/search_provider.h"

namespace scout::agent {

// The built-in tools' names, sorted.
std::vector<std::string> builtin_tool_names();

// Parses a comma-separated --tools list ("web_search, run_code"). Spaces around names and empty
// items are ignored, so "" selects no tools. An unknown name is an error listing the known ones.
Result<std::vector<std::string>> parse_tool_selection(std::string_view list);

// The web_search provider the configuration asks for (see effective_search_provider). Fails
// when the chosen provider lacks its API key.
Result<std::shared_ptr<tools::SearchProvider>> make_search_provider(const Config& config);

// A registry holding the selected tools (all built-in tools when `selection` is nullopt).
// Fails, naming the tool and the setting, when a selected tool cannot be set up.
Result<std::unique_ptr<tools::Registry>> build_toolset(const Config& config,
                                                       const std::optional<std::vector<std::string>>& selection = std::nullopt);

}  // namespace scout::agent
