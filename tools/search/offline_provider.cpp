// The offline index as a search provider. SQLite queries block, so each runs on the provider's
// worker threads (async_run_blocking) and opens its own connection: OfflineIndex is not
// thread-safe, and opening is cheap next to a query.
#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tools/registry/run_blocking.h"
#include "tools/search/offline_index.h"
#include "tools/search/search_provider.h"

namespace fs = std::filesystem;

namespace scout::tools {
namespace {

class OfflineProvider final : public SearchProvider {
 public:
  explicit OfflineProvider(OfflineProviderOptions options)
      : options_(std::move(options)), workers_(static_cast<std::size_t>(std::max(1, options_.worker_threads))) {}
  ~OfflineProvider() override { workers_.join(); }

  std::string id() const override { return "offline"; }
  std::string name() const override { return "the offline index"; }

  asio::awaitable<Result<std::vector<SearchResult>>> search(std::string query, std::size_t max_results) const override {
    auto run = [path = options_.index_path, query = std::move(query), max_results]() -> Result<std::vector<SearchHit>> {
      std::error_code ec;
      if (!fs::exists(path, ec)) {
        return make_error("the offline index " + path.string() +
                          " does not exist: build it with `scout index PATH...` (files or folders of HTML, Markdown "
                          "or text), or configure a web search provider in [search]");
      }
      auto index = OfflineIndex::open(path);
      if (!index) return make_error("the offline index could not be opened: " + index.error().message);
      return index->search(query, max_results);
    };
    auto [ec, hits] = co_await async_run_blocking(workers_.get_executor(), std::move(run), asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return make_error("the search in the offline index was cancelled");
    if (ec || !hits) co_return make_error("the search in the offline index failed: " + ec.message());
    if (!hits->has_value()) co_return Unexpected<Error>{hits->error()};

    std::vector<SearchResult> out;
    for (auto& h : hits->value()) {
      std::string title = h.title.empty() ? fs::path(h.path).filename().string() : std::move(h.title);
      out.push_back(SearchResult{std::move(title), "file://" + h.path, std::move(h.snippet), id()});
    }
    co_return out;
  }

 private:
  OfflineProviderOptions options_;
  mutable asio::thread_pool workers_;  // get_executor() is not const; the pool itself is thread-safe
};

}  // namespace

std::shared_ptr<SearchProvider> make_offline_provider(OfflineProviderOptions options) {
  return std::make_shared<OfflineProvider>(std::move(options));
}

}  // namespace scout::tools
