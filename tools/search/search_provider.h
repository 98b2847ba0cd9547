// SearchProvider: where web_search gets its results — a SearxNG instance, the Brave Search API,
// the Tavily API, or the offline index of local documents. Each provider turns one query into a
// list of results or an error message written for the model (and the user reading the trace):
// it names the provider and what went wrong ("Brave Search answered 401 ...: check
// BRAVE_API_KEY"), and never contains the API key.
//
// Thread-safety: providers are immutable after construction; search() may run concurrently from
// many coroutines. search() runs on the caller's executor and never blocks it; it follows the
// awaiting coroutine's cancellation (the HTTP exchange is closed, or the index query's result
// is dropped).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/expected.h"

namespace scout::tools {

namespace asio = boost::asio;

struct SearchResult {
  std::string title;
  std::string url;      // http(s):// for the web, file:// for the offline index
  std::string snippet;  // plain text (HTML removed), as the provider gave it
  std::string source;   // the provider's id: "searxng", "brave", "tavily", "offline"
};

class SearchProvider {
 public:
  virtual ~SearchProvider() = default;
  // Short id, as in config: "searxng", "brave", "tavily", "offline".
  virtual std::string id() const = 0;
  // The name messages use: "SearxNG", "Brave Search", "Tavily", "the offline index".
  virtual std::string name() const = 0;
  // At most `max_results` results, best first. An empty list is a success (nothing matched).
  virtual asio::awaitable<Result<std::vector<SearchResult>>> search(std::string query, std::size_t max_results) const = 0;
};

// Settings shared by the providers that speak HTTP.
struct HttpProviderOptions {
  // The service's base URL, without the API path ("http://127.0.0.1:8888",
  // "https://api.search.brave.com"). It is the user's own configuration, so it may be a
  // loopback or private address (a SearxNG on the same machine is common).
  std::string base_url;
  std::string api_key;  // Brave and Tavily; never logged or shown
  std::chrono::milliseconds timeout = std::chrono::seconds(20);  // the whole exchange
  std::size_t max_response_bytes = 4u << 20;
};

// GET {base}/search?q=QUERY&format=json; results[].title/url/content. The instance must have
// the json format enabled (search.formats in its settings.yml).
std::shared_ptr<SearchProvider> make_searxng_provider(HttpProviderOptions options);

// GET {base}/res/v1/web/search?q=QUERY&count=N with the X-Subscription-Token header;
// web.results[].title/url/description (HTML highlighting removed).
std::shared_ptr<SearchProvider> make_brave_provider(HttpProviderOptions options);

// POST {base}/search with {"query", "max_results"} and Authorization: Bearer KEY;
// results[].title/url/content.
std::shared_ptr<SearchProvider> make_tavily_provider(HttpProviderOptions options);

struct OfflineProviderOptions {
  std::filesystem::path index_path;  // an index built by `scout index`
  int worker_threads = 2;            // concurrent queries; SQLite work runs on these threads
};

// Searches an OfflineIndex; url is "file://" + the indexed path. The provider owns the worker
// threads queries run on; destroying it waits for queries in progress.
std::shared_ptr<SearchProvider> make_offline_provider(OfflineProviderOptions options);

}  // namespace scout::tools
