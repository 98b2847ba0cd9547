// web_search: the agent's search tool. It asks one SearchProvider (SearxNG, Brave, Tavily or
// the offline index, chosen by configuration) and shows the model a numbered list:
//
//   1. Title
//      https://example.org/page
//      A snippet, whitespace collapsed and cut to a few hundred characters.
//
// The structured output is the results array ([{title, url, snippet, source}]). No results is
// a success that says so and suggests rephrasing; a provider failure is an error output whose
// text names the provider and what went wrong, never an API key.
//
// Thread-safety: immutable after construction; invoke may run concurrently (the provider is
// shared by all calls and is itself safe for concurrent use).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tools/registry/tool.h"
#include "tools/search/search_provider.h"

namespace scout::tools {

struct WebSearchOptions {
  int default_max_results = 5;         // when the model gives no max_results (1..20)
  std::size_t max_snippet_chars = 300;  // snippets longer than this are cut, in code points
  std::size_t max_title_chars = 200;
};

class WebSearchTool final : public Tool {
 public:
  // Precondition: provider is not null.
  explicit WebSearchTool(std::shared_ptr<SearchProvider> provider, WebSearchOptions options = {});

  std::string name() const override { return "web_search"; }
  std::string description() const override;
  Json parameters() const override;
  asio::awaitable<ToolOutput> invoke(Json arguments, ToolContext ctx) override;

  const SearchProvider& provider() const { return *provider_; }

 private:
  std::shared_ptr<SearchProvider> provider_;
  WebSearchOptions options_;
};

// The observation for a finished search (exposed for tests and front ends).
ToolOutput format_search_results(const std::string& query, const std::string& provider_name,
                                 const std::vector<SearchResult>& results, const WebSearchOptions& options);

// `text` as one line: runs of whitespace (and control characters) become one space, invalid
// UTF-8 becomes U+FFFD, and at most `max_chars` code points are kept ("..." marks a cut).
std::string tidy_line(std::string_view text, std::size_t max_chars);

}  // namespace scout::tools
