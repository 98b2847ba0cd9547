// What the HTTP search providers (SearxNG, Brave, Tavily) share: one JSON request with errors
// turned into messages that name the provider, plus the text helpers their parsers use.
// Internal to tools/search; not an interface for other modules.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/expected.h"
#include "tools/http/http_client.h"
#include "tools/search/search_provider.h"

namespace scout::tools::provider_detail {

// What to add after "NAME answered STATUS (REASON)" for a status, e.g. "check BRAVE_API_KEY";
// "" for nothing.
using StatusHint = std::function<std::string(int status)>;

struct JsonRequest {
  std::string provider_name;  // "Brave Search"
  http::Request request;      // URL, method, headers, body
  int max_redirects = 0;      // 0 for services that get a key: a redirect is reported, not followed
  StatusHint hint;
};

// Sends the request and parses a 2xx answer as JSON. Failures (unreachable, timeout, non-2xx,
// oversized or malformed body) come back as one sentence naming the provider; the API key in
// `options` is removed from every message, whatever the server echoed.
asio::awaitable<Result<nlohmann::json>> fetch_json(JsonRequest request, const HttpProviderOptions& options);

using http::percent_encode;  // query parameters (tools/http/http_client.h)

// Text from a fragment of HTML such as search snippets: tags removed, character references
// (&amp; &#39; &#x27; &nbsp; ...) decoded.
std::string strip_html(std::string_view html);

// `text` with every occurrence of `secret` replaced by "[redacted]" (unchanged when secret is "").
std::string redact(std::string text, const std::string& secret);

// The string at `key` in `object`, or "" when it is missing or not a string.
std::string string_at(const nlohmann::json& object, const char* key);

// The "results" array both SearxNG and Tavily answer with ([{title, url, content}]), at most
// max_results entries with a URL, or an error naming the provider (`what_is_it` ends the message,
// e.g. "; is searxng_url a SearxNG instance?").
Result<std::vector<SearchResult>> results_with_content(const nlohmann::json& body, std::size_t max_results,
                                                       const std::string& provider_label, const std::string& source,
                                                       const std::string& what_is_it = "");

// "{base}{path}" with exactly one '/' between them.
std::string join_url(std::string_view base, std::string_view path);

}  // namespace scout::tools::provider_detail
