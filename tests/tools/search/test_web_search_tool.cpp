// web_search through the registry: the schema, the observation's format, failures, and the
// offline provider over an index built here.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "tests/tools/registry/registry_test_support.h"
#include "tools/registry/registry.h"
#include "tools/search/offline_index.h"
#include "tools/search/web_search_tool.h"
#include "tests/common/scratch.h"

namespace fs = std::filesystem;
using namespace scout::tools;
using namespace scout::tools::testing;
using Catch::Contains;

namespace {

using scout::test::write_file;

// Answers every query with a fixed list (or error) and remembers what it was asked.
class ScriptedProvider final : public SearchProvider {
 public:
  explicit ScriptedProvider(scout::Result<std::vector<SearchResult>> answer) : answer_(std::move(answer)) {}
  std::string id() const override { return "scripted"; }
  std::string name() const override { return "Scripted Search"; }
  asio::awaitable<scout::Result<std::vector<SearchResult>>> search(std::string query, std::size_t max_results) const override {
    last_query = query;
    last_max_results = max_results;
    co_return answer_;
  }
  mutable std::string last_query;
  mutable std::size_t last_max_results = 0;

 private:
  scout::Result<std::vector<SearchResult>> answer_;
};

std::vector<SearchResult> three_results() {
  return {{"Asio  overview\n", "https://example.org/asio", "Asio is a\tcross-platform   C++ library\nfor network programming.", "scripted"},
          {"Beast", "https://example.org/beast", "HTTP and WebSocket built on Asio.", "scripted"},
          {"", "https://example.org/untitled", "", "scripted"}};
}

struct Fixture {
  asio::io_context io;
  std::shared_ptr<ScriptedProvider> provider;
  Registry registry;
  explicit Fixture(scout::Result<std::vector<SearchResult>> answer, WebSearchOptions options = {})
      : provider(std::make_shared<ScriptedProvider>(std::move(answer))) {
    REQUIRE(registry.add(std::make_shared<WebSearchTool>(provider, options)));
  }
  ToolOutput call(Json arguments) { return run_to_completion(io, registry.call("web_search", std::move(arguments), {})); }
};


}  // namespace

TEST_CASE("web_search lists results numbered, with title, URL and a one-line snippet", "[web_search]") {
  Fixture f(three_results());
  ToolOutput out = f.call(Json{{"query", "asio  tutorial"}});
  INFO(out.text);
  CHECK_FALSE(out.is_error);
  CHECK(out.text ==
        "1. Asio overview\n   https://example.org/asio\n   Asio is a cross-platform C++ library for network programming.\n"
        "\n2. Beast\n   https://example.org/beast\n   HTTP and WebSocket built on Asio.\n"
        "\n3. (untitled)\n   https://example.org/untitled\n");
  REQUIRE(out.structured);
  REQUIRE(out.structured->is_array());
  REQUIRE(out.structured->size() == 3);
  CHECK((*out.structured)[1] == Json{{"title", "Beast"}, {"url", "https://example.org/beast"},
                                     {"snippet", "HTTP and WebSocket built on Asio."}, {"source", "scripted"}});
  CHECK(f.provider->last_query == "asio tutorial");
}

TEST_CASE("web_search asks for the default number of results unless max_results says otherwise", "[web_search]") {
  WebSearchOptions options;
  options.default_max_results = 3;
  Fixture f(std::vector<SearchResult>{}, options);
  f.call(Json{{"query", "x"}});
  CHECK(f.provider->last_max_results == 3);
  f.call(Json{{"query", "x"}, {"max_results", 12}});
  CHECK(f.provider->last_max_results == 12);
}

TEST_CASE("web_search keeps at most max_results even when a provider returns more", "[web_search]") {
  Fixture f(three_results());
  ToolOutput out = f.call(Json{{"query", "asio"}, {"max_results", 2}});
  CHECK_FALSE(out.is_error);
  CHECK(out.structured->size() == 2);
  CHECK_THAT(out.text, Contains("2. Beast") && !Contains("3. "));
}

TEST_CASE("web_search rejects an empty query and max_results outside 1..20 before searching", "[web_search]") {
  Fixture f(three_results());
  for (Json args : {Json{{"query", ""}}, Json{{"query", "x"}, {"max_results", 0}}, Json{{"query", "x"}, {"max_results", 21}},
                    Json{{"max_results", 3}}, Json{{"query", "x"}, {"page", 2}}}) {
    ToolOutput out = f.call(args);
    INFO(args.dump() << " -> " << out.text);
    CHECK(out.is_error);
    CHECK_THAT(out.text, Contains("Invalid arguments"));
  }
  CHECK(f.provider->last_query.empty());
  // Only whitespace passes the schema but holds no words.
  ToolOutput blank = f.call(Json{{"query", " \n\t "}});
  CHECK(blank.is_error);
  CHECK(f.provider->last_query.empty());
}

TEST_CASE("web_search with no results succeeds and suggests other words", "[web_search]") {
  Fixture f(std::vector<SearchResult>{});
  ToolOutput out = f.call(Json{{"query", "zyxxy quux"}});
  CHECK_FALSE(out.is_error);
  CHECK_THAT(out.text, Contains("No results for \"zyxxy quux\" from Scripted Search") && Contains("Try"));
  REQUIRE(out.structured);
  CHECK(*out.structured == Json::array());
}

TEST_CASE("web_search reports a provider failure as an error naming the provider", "[web_search]") {
  Fixture f(scout::make_error("Brave Search answered 401 (Unauthorized): check BRAVE_API_KEY"));
  ToolOutput out = f.call(Json{{"query", "x"}});
  CHECK(out.is_error);
  CHECK(out.text == "web_search failed: Brave Search answered 401 (Unauthorized): check BRAVE_API_KEY");
  CHECK((*out.structured)["provider"] == "scripted");
}

TEST_CASE("snippets are cut to the configured length at a word boundary", "[web_search]") {
  std::string longer;
  for (int i = 0; i < 100; ++i) longer += "word" + std::to_string(i) + " ";
  WebSearchOptions options;
  options.max_snippet_chars = 60;
  Fixture f(std::vector<SearchResult>{{"T", "https://example.org/", longer, "scripted"}}, options);
  ToolOutput out = f.call(Json{{"query", "x"}});
  const auto line_start = out.text.find("   word0");
  REQUIRE(line_start != std::string::npos);
  const std::string line = out.text.substr(line_start + 3, out.text.find('\n', line_start) - line_start - 3);
  CHECK(line.size() <= 63);
  CHECK_THAT(line, Catch::EndsWith("..."));
  CHECK_THAT(line, !Contains(" ..."));
}

TEST_CASE("tidy_line collapses whitespace, repairs invalid UTF-8 and cuts by code points", "[web_search]") {
  CHECK(tidy_line("  a \r\n\t b\xC2\xA0" "c  ", 100) == "a b c");
  CHECK(tidy_line("bad \xFF byte", 100) == "bad \xEF\xBF\xBD byte");
  CHECK(tidy_line("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 2) == "\xC3\xA9\xC3\xA9...");
  CHECK(tidy_line("\xE2\x82", 10) == "\xEF\xBF\xBD\xEF\xBF\xBD");  // a truncated sequence
  CHECK(tidy_line("", 10).empty());
}

TEST_CASE("the offline provider finds documents in an index built from files", "[web_search]") {
  const fs::path dir = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / "web_search" / "offline";
  fs::remove_all(dir);
  write_file(dir / "docs" / "otters.html", "<title>River otters</title><p>Otters eat fish and crayfish in rivers.</p>");
  write_file(dir / "docs" / "badgers.md", "# Badgers\n\nBadgers dig setts; otters swim past them.\n");
  write_file(dir / "docs" / "notes.txt", "Nothing about the animals here.\n");
  {
    auto index = scout::OfflineIndex::create(dir / "index.sqlite");
    REQUIRE(index);
    for (const char* name : {"otters.html", "badgers.md", "notes.txt"}) REQUIRE(index->add_file(dir / "docs" / name));
  }

  asio::io_context io;
  Registry registry;
  REQUIRE(registry.add(std::make_shared<WebSearchTool>(make_offline_provider({dir / "index.sqlite", 2}))));
  ToolOutput out = run_to_completion(io, registry.call("web_search", Json{{"query", "otters"}}, {}));
  INFO(out.text);
  CHECK_FALSE(out.is_error);
  REQUIRE(out.structured->size() == 2);
  CHECK((*out.structured)[0]["title"] == "River otters");
  CHECK((*out.structured)[0]["url"] == "file://" + (dir / "docs" / "otters.html").string());
  CHECK((*out.structured)[0]["source"] == "offline");
  CHECK_THAT(out.text, Contains("1. River otters\n   file://") && Contains("**Otters**"));

  ToolOutput none = run_to_completion(io, registry.call("web_search", Json{{"query", "zebras"}}, {}));
  CHECK_FALSE(none.is_error);
  CHECK_THAT(none.text, Contains("No results") && Contains("the offline index"));
}

TEST_CASE("the offline provider without an index tells the user to run scout index", "[web_search]") {
  asio::io_context io;
  Registry registry;
  const fs::path missing = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / "web_search" / "no-such-index.sqlite";
  REQUIRE(registry.add(std::make_shared<WebSearchTool>(make_offline_provider({missing, 1}))));
  ToolOutput out = run_to_completion(io, registry.call("web_search", Json{{"query", "otters"}}, {}));
  CHECK(out.is_error);
  CHECK_THAT(out.text, Contains("no-such-index.sqlite") && Contains("scout index"));
}

TEST_CASE("the description says where results come from", "[web_search]") {
  auto offline = std::make_shared<WebSearchTool>(make_offline_provider({"/nonexistent/index.sqlite", 1}));
  CHECK_THAT(offline->description(), Contains("local document"));
  HttpProviderOptions options;
  options.base_url = "http://127.0.0.1:1";
  auto searxng = std::make_shared<WebSearchTool>(make_searxng_provider(options));
  CHECK_THAT(searxng->description(), Contains("SearxNG"));
}
