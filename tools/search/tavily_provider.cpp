// Tavily: POST {base}/search with {"query", "max_results"} and Authorization: Bearer KEY.
#include <algorithm>
#include <string>
#include <utility>

#include "tools/search/provider_http.h"

namespace scout::tools {
namespace {

using namespace provider_detail;

constexpr std::size_t kMaxResults = 20;  // the API's largest max_results

std::string tavily_hint(int status) {
  if (status == 401 || status == 403) return "check TAVILY_API_KEY";
  if (status == 429) return "rate limited; wait and try again";
  if (status == 432 || status == 433) return "the plan's usage limit was reached";
  if (status >= 500) return "the service failed; try again later";
  return "";
}

class TavilyProvider final : public SearchProvider {
 public:
  explicit TavilyProvider(HttpProviderOptions options) : options_(std::move(options)) {}

  std::string id() const override { return "tavily"; }
  std::string name() const override { return "Tavily"; }

  asio::awaitable<Result<std::vector<SearchResult>>> search(std::string query, std::size_t max_results) const override {
    if (options_.api_key.empty()) co_return make_error("Tavily needs an API key: set TAVILY_API_KEY");
    JsonRequest req;
    req.provider_name = name();
    req.request.method = "POST";
    req.request.url = join_url(options_.base_url, "search");
    req.request.headers.emplace_back("Authorization", "Bearer " + options_.api_key);
    req.request.headers.emplace_back("Content-Type", "application/json");
    req.request.body = nlohmann::json{{"query", query}, {"max_results", std::clamp<std::size_t>(max_results, 1, kMaxResults)}}
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    req.hint = tavily_hint;
    auto body = co_await fetch_json(std::move(req), options_);
    if (!body) co_return Unexpected<Error>{body.error()};

    co_return results_with_content(*body, max_results, "Tavily", id(), "");
  }

 private:
  HttpProviderOptions options_;
};

}  // namespace

std::shared_ptr<SearchProvider> make_tavily_provider(HttpProviderOptions options) {
  return std::make_shared<TavilyProvider>(std::move(options));
}

}  // namespace scout::tools
