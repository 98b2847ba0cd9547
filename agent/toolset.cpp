#include "agent/toolset.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "common/text.h"
#include "tools/fetch/fetch_url_tool.h"
#include "tools/registry/run_code_tool.h"
#include "tools/search/web_search_tool.h"

namespace scout::agent {
namespace {

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0));
}

std::shared_ptr<tools::Tool> make_run_code(const Config& config) {
  tools::RunCodeOptions options;
  options.limits.address_space_bytes = static_cast<std::uint64_t>(config.sandbox.memory_mb) << 20;
  options.limits.memory_bytes = static_cast<std::uint64_t>(config.sandbox.total_memory_mb) << 20;
  options.limits.max_processes = config.sandbox.max_processes;
  options.limits.disk_bytes = static_cast<std::uint64_t>(config.sandbox.disk_mb) << 20;
  options.limits.cpu_seconds = config.sandbox.cpu_s;
  options.allow_unsandboxed = config.sandbox.allow_unsandboxed;
  // The schema's largest timeout matches the registry's deadline for one call.
  options.max_timeout_s = std::max(1.0, config.agent.tool_timeout_s);
  options.default_timeout_s = std::min(10.0, options.max_timeout_s);
  return std::make_shared<tools::RunCodeTool>(options);
}

std::shared_ptr<tools::Tool> make_fetch_url(const Config& config) {
  tools::FetchUrlOptions options;
  options.address_policy.allow_private = config.fetch.allow_private_addresses;
  for (std::string host : config.fetch.allowed_hosts) {  // the client compares lowercased names
    std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    options.address_policy.allowed_hosts.push_back(std::move(host));
  }
  options.max_body_bytes = config.fetch.max_bytes;
  options.default_max_bytes = std::min(options.default_max_bytes, config.fetch.max_bytes);
  options.total_timeout = to_ms(config.fetch.timeout_s);
  options.idle_timeout = std::min(options.idle_timeout, options.total_timeout);
  options.connect_timeout = std::min(options.connect_timeout, options.total_timeout);
  // The tool cuts its own text (with a note saying so) before the loop's cap would.
  options.max_text_chars = config.agent.max_result_chars;
  return std::make_shared<tools::FetchUrlTool>(std::move(options));
}

}  // namespace

std::vector<std::string> builtin_tool_names() { return {"fetch_url", "run_code", "web_search"}; }

Result<std::vector<std::string>> parse_tool_selection(std::string_view list) {
  const auto known = builtin_tool_names();
  std::vector<std::string> out;
  while (true) {
    const auto comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    if (!item.empty()) {
      if (std::find(known.begin(), known.end(), item) == known.end())
        return make_error("unknown tool '" + std::string(item) + "' in --tools; known tools: " + joined(known));
      if (std::find(out.begin(), out.end(), item) == out.end()) out.emplace_back(item);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

Result<std::shared_ptr<tools::SearchProvider>> make_search_provider(const Config& config) {
  tools::HttpProviderOptions http;
  http.timeout = to_ms(config.search.timeout_s);
  switch (effective_search_provider(config)) {
    case SearchProviderChoice::brave:
      if (config.secrets.brave_api_key.empty())
        return make_error("web_search: [search] provider is \"brave\" but BRAVE_API_KEY is not set");
      http.base_url = config.search.brave_url;
      http.api_key = config.secrets.brave_api_key;
      return tools::make_brave_provider(std::move(http));
    case SearchProviderChoice::tavily:
      if (config.secrets.tavily_api_key.empty())
        return make_error("web_search: [search] provider is \"tavily\" but TAVILY_API_KEY is not set");
      http.base_url = config.search.tavily_url;
      http.api_key = config.secrets.tavily_api_key;
      return tools::make_tavily_provider(std::move(http));
    case SearchProviderChoice::searxng:
      if (config.search.searxng_url.empty())
        return make_error("web_search: [search] provider is \"searxng\" but searxng_url is not set");
      http.base_url = config.search.searxng_url;
      return tools::make_searxng_provider(std::move(http));
    case SearchProviderChoice::offline:
    case SearchProviderChoice::automatic:
      break;
  }
  tools::OfflineProviderOptions offline;
  offline.index_path = config.search.index;
  return tools::make_offline_provider(std::move(offline));
}

Result<std::unique_ptr<tools::Registry>> build_toolset(const Config& config,
                                                       const std::optional<std::vector<std::string>>& selection) {
  const auto names = selection.value_or(builtin_tool_names());
  auto registry = std::make_unique<tools::Registry>();
  for (const auto& name : names) {
    std::shared_ptr<tools::Tool> tool;
    if (name == "web_search") {
      auto provider = make_search_provider(config);
      if (!provider) return Unexpected<Error>{provider.error()};
      tools::WebSearchOptions options;
      options.default_max_results = config.search.max_results;
      tool = std::make_shared<tools::WebSearchTool>(std::move(provider.value()), options);
    } else if (name == "run_code") {
      tool = make_run_code(config);
    } else if (name == "fetch_url") {
      tool = make_fetch_url(config);
    } else {
      return make_error("unknown tool '" + name + "'; known tools: " + joined(builtin_tool_names()));
    }
    if (auto added = registry->add(std::move(tool)); !added) return Unexpected<Error>{added.error()};
  }
  return registry;
}

}  // namespace scout::agent
