// SearxNG: GET {base}/search?q=QUERY&format=json. SearxNG has no result-count parameter; one
// page (about 20 results) comes back and the first max_results are kept.
#include <string>
#include <utility>

#include "tools/search/provider_http.h"

namespace scout::tools {
namespace {

using namespace provider_detail;

std::string searxng_hint(int status) {
  if (status == 403)
    return "is the json format enabled? Add json to search.formats in the instance's settings.yml";
  if (status == 429) return "the instance's bot limiter refused the request; turn server.limiter off for this client";
  if (status == 404) return "check searxng_url: it should be the instance's base URL";
  if (status >= 500) return "the instance failed; try again later";
  return "";
}

class SearxngProvider final : public SearchProvider {
 public:
  explicit SearxngProvider(HttpProviderOptions options) : options_(std::move(options)) {}

  std::string id() const override { return "searxng"; }
  std::string name() const override { return "SearxNG"; }

  asio::awaitable<Result<std::vector<SearchResult>>> search(std::string query, std::size_t max_results) const override {
    JsonRequest req;
    req.provider_name = name();
    req.request.method = "GET";
    req.request.url = join_url(options_.base_url, "search") + "?q=" + percent_encode(query) + "&format=json";
    // No key travels to SearxNG, so following a redirect (http to https, a moved path) is safe.
    req.max_redirects = 3;
    req.hint = searxng_hint;
    auto body = co_await fetch_json(std::move(req), options_);
    if (!body) co_return Unexpected<Error>{body.error()};

    co_return results_with_content(*body, max_results, "SearxNG", id(), "; is searxng_url a SearxNG instance?");
  }

 private:
  HttpProviderOptions options_;
};

}  // namespace

std::shared_ptr<SearchProvider> make_searxng_provider(HttpProviderOptions options) {
  return std::make_shared<SearxngProvider>(std::move(options));
}

}  // namespace scout::tools
