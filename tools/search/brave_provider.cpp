// Brave Search: GET {base}/res/v1/web/search?q=QUERY&count=N with X-Subscription-Token.
// Titles and descriptions carry HTML highlighting (<strong>) and character references, which
// are removed. An answer without a "web" section means no web results.
#include <algorithm>
#include <string>
#include <utility>

#include "tools/search/provider_http.h"

namespace scout::tools {
namespace {

using namespace provider_detail;

constexpr std::size_t kMaxCount = 20;  // the API's largest count

std::string brave_hint(int status) {
  if (status == 401 || status == 403 || status == 422) return "check BRAVE_API_KEY";
  if (status == 429) return "the rate limit or the plan's monthly quota was reached; wait, or check the plan";
  if (status >= 500) return "the service failed; try again later";
  return "";
}

class BraveProvider final : public SearchProvider {
 public:
  explicit BraveProvider(HttpProviderOptions options) : options_(std::move(options)) {}

  std::string id() const override { return "brave"; }
  std::string name() const override { return "Brave Search"; }

  asio::awaitable<Result<std::vector<SearchResult>>> search(std::string query, std::size_t max_results) const override {
    if (options_.api_key.empty()) co_return make_error("Brave Search needs an API key: set BRAVE_API_KEY");
    const std::size_t count = std::clamp<std::size_t>(max_results, 1, kMaxCount);
    JsonRequest req;
    req.provider_name = name();
    req.request.method = "GET";
    req.request.url = join_url(options_.base_url, "res/v1/web/search") + "?q=" + percent_encode(query) +
                      "&count=" + std::to_string(count);
    req.request.headers.emplace_back("X-Subscription-Token", options_.api_key);
    req.hint = brave_hint;
    auto body = co_await fetch_json(std::move(req), options_);
    if (!body) co_return Unexpected<Error>{body.error()};
    if (!body->is_object()) co_return make_error("Brave Search answered JSON that is not an object");

    std::vector<SearchResult> out;
    const auto web = body->find("web");
    if (web == body->end()) co_return out;
    const auto results = web->is_object() ? web->find("results") : web->end();
    if (!web->is_object() || results == web->end() || !results->is_array())
      co_return make_error("Brave Search answered a \"web\" section without a \"results\" list");
    for (const auto& r : *results) {
      if (out.size() >= max_results) break;
      std::string url = string_at(r, "url");
      if (url.empty()) continue;
      out.push_back(SearchResult{strip_html(string_at(r, "title")), std::move(url), strip_html(string_at(r, "description")), id()});
    }
    co_return out;
  }

 private:
  HttpProviderOptions options_;
};

}  // namespace

std::shared_ptr<SearchProvider> make_brave_provider(HttpProviderOptions options) {
  return std::make_shared<BraveProvider>(std::move(options));
}

}  // namespace scout::tools
