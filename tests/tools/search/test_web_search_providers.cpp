// The HTTP search providers against real servers on 127.0.0.1 answering in each service's own
// JSON shape: what is sent (key header, encoded query, counts), what is shown, and how every
// kind of failure reads — never with the API key in it.
#include <catch2/catch.hpp>

#include <mutex>

#include "tests/support/local_http_server.h"
#include "tests/tools/registry/registry_test_support.h"
#include "tools/registry/registry.h"
#include "tools/search/web_search_tool.h"

using namespace scout::tools;
using namespace scout::tools::testing;
using scout::test::HttpExchange;
using scout::test::http_response;
using scout::test::LocalHttpServer;
using scout::test::RawConnection;
using Catch::Contains;

namespace {

constexpr const char* kKey = "SECRET-KEY-3f9a1c";

// A server answering every request with one fixed response, remembering the requests.
struct ScriptedServer {
  std::mutex mutex;
  std::vector<HttpExchange> requests;
  std::string response;
  LocalHttpServer server;

  explicit ScriptedServer(std::string reply)
      : response(std::move(reply)), server([this](const HttpExchange& req, RawConnection& conn) {
          {
            std::lock_guard lock(mutex);
            requests.push_back(req);
          }
          conn.write(response);
        }) {}

  HttpExchange last() {
    std::lock_guard lock(mutex);
    REQUIRE_FALSE(requests.empty());
    return requests.back();
  }
};

HttpProviderOptions options_for(const std::string& base_url, std::string key = kKey) {
  HttpProviderOptions options;
  options.base_url = base_url;
  options.api_key = std::move(key);
  options.timeout = std::chrono::seconds(20);  // a hang guard, not a measurement
  return options;
}

ToolOutput search_with(std::shared_ptr<SearchProvider> provider, Json arguments) {
  asio::io_context io;
  Registry registry;
  REQUIRE(registry.add(std::make_shared<WebSearchTool>(std::move(provider))));
  return run_to_completion(io, registry.call("web_search", std::move(arguments), {}));
}

std::string json_reply(const std::string& body, int status = 200) { return http_response(status, "application/json", body); }

// SearxNG's /search?format=json answer (abridged to the fields it always sends).
const char* kSearxngBody = R"({
  "query": "c++ asio & beast",
  "number_of_results": 0,
  "results": [
    {"url": "https://think-async.com/Asio/", "title": "Asio C++ Library",
     "content": "Asio is a cross-platform C++ library for network and low-level I/O programming.",
     "engine": "duckduckgo", "parsed_url": ["https", "think-async.com", "/Asio/", "", "", ""],
     "template": "default.html", "engines": ["duckduckgo", "google"], "positions": [1, 2], "score": 4.0,
     "category": "general", "publishedDate": null, "thumbnail": ""},
    {"url": "https://www.boost.org/libs/beast/", "title": "Boost.Beast", "content": "HTTP and WebSocket built on Boost.Asio.",
     "engine": "google", "parsed_url": ["https", "www.boost.org", "/libs/beast/", "", "", ""], "template": "default.html",
     "engines": ["google"], "positions": [2], "score": 1.5, "category": "general"},
    {"url": "https://github.com/chriskohlhoff/asio", "title": "chriskohlhoff/asio", "content": "Asio C++ Library.",
     "engine": "google", "engines": ["google"], "positions": [3], "score": 1.0, "category": "general"}
  ],
  "answers": [], "corrections": [], "infoboxes": [], "suggestions": ["asio tutorial"],
  "unresponsive_engines": [["brave", "timeout"]]
})";

// Brave Web Search API's answer (WebSearchApiResponse, abridged).
const char* kBraveBody = R"({
  "type": "search",
  "query": {"original": "rust async", "show_strict_warning": false, "is_navigational": false,
            "spellcheck_off": true, "country": "us", "bad_results": false, "more_results_available": true},
  "mixed": {"type": "mixed", "main": [{"type": "web", "index": 0, "all": false}], "top": [], "side": []},
  "web": {
    "type": "search",
    "results": [
      {"title": "Asynchronous Programming in <strong>Rust</strong>", "url": "https://rust-lang.github.io/async-book/",
       "is_source_local": false, "is_source_both": false,
       "description": "A thorough guide to <strong>async</strong> programming in <strong>Rust</strong> &amp; Tokio. It&#x27;s free.",
       "page_age": "2024-01-10T00:00:00", "language": "en", "family_friendly": true, "type": "search_result",
       "subtype": "generic", "meta_url": {"scheme": "https", "netloc": "rust-lang.github.io", "hostname": "rust-lang.github.io",
       "favicon": "https://imgs.search.brave.com/x.png", "path": "› async-book"}, "age": "January 10, 2024"},
      {"title": "Tokio - An asynchronous <strong>Rust</strong> runtime", "url": "https://tokio.rs/",
       "description": "Tokio is an <em>asynchronous</em> runtime for the <strong>Rust</strong> programming language.",
       "type": "search_result", "subtype": "generic", "family_friendly": true}
    ],
    "family_friendly": true
  }
})";

// Tavily's /search answer.
const char* kTavilyBody = R"({
  "query": "who maintains sqlite",
  "follow_up_questions": null,
  "answer": null,
  "images": [],
  "results": [
    {"url": "https://sqlite.org/crew.html", "title": "SQLite Developers",
     "content": "SQLite is developed and maintained by a small team of full-time developers.", "score": 0.98,
     "raw_content": null},
    {"url": "https://en.wikipedia.org/wiki/SQLite", "title": "SQLite - Wikipedia",
     "content": "SQLite is a database engine written in the C programming language.", "score": 0.91, "raw_content": null}
  ],
  "response_time": 1.09
})";

}  // namespace

TEST_CASE("SearxNG is asked for JSON with the query URL-encoded and its results become the observation", "[web_search]") {
  ScriptedServer s(json_reply(kSearxngBody));
  ToolOutput out = search_with(make_searxng_provider(options_for(s.server.url(""), "")), Json{{"query", "c++ asio & beast"}});
  INFO(out.text);
  CHECK_FALSE(out.is_error);
  const HttpExchange req = s.last();
  CHECK(req.method == "GET");
  CHECK(req.target == "/search?q=c%2B%2B%20asio%20%26%20beast&format=json");
  CHECK_THAT(out.text, Catch::StartsWith("1. Asio C++ Library\n   https://think-async.com/Asio/\n   Asio is a cross-platform"));
  CHECK_THAT(out.text, Contains("2. Boost.Beast\n   https://www.boost.org/libs/beast/\n   HTTP and WebSocket"));
  REQUIRE(out.structured->size() == 3);
  CHECK((*out.structured)[2]["source"] == "searxng");
}

TEST_CASE("SearxNG results are cut to max_results", "[web_search]") {
  ScriptedServer s(json_reply(kSearxngBody));
  ToolOutput out = search_with(make_searxng_provider(options_for(s.server.url(""), "")), Json{{"query", "asio"}, {"max_results", 2}});
  CHECK_FALSE(out.is_error);
  CHECK(out.structured->size() == 2);
}

TEST_CASE("SearxNG under a path prefix with a trailing slash is asked under that prefix", "[web_search]") {
  ScriptedServer s(json_reply(kSearxngBody));
  ToolOutput out = search_with(make_searxng_provider(options_for(s.server.url("/searx/"), "")), Json{{"query", "asio"}});
  CHECK_FALSE(out.is_error);
  CHECK(s.last().target == "/searx/search?q=asio&format=json");
}

TEST_CASE("SearxNG refusing the json format is reported with how to enable it", "[web_search]") {
  ScriptedServer s(http_response(403, "text/html", "<html><body><h1>403 Forbidden</h1></body></html>"));
  ToolOutput out = search_with(make_searxng_provider(options_for(s.server.url(""), "")), Json{{"query", "asio"}});
  CHECK(out.is_error);
  CHECK_THAT(out.text, Contains("SearxNG answered 403") && Contains("json") && Contains("settings.yml"));
}

TEST_CASE("Brave Search gets the key header and the count, and its HTML highlighting is removed", "[web_search]") {
  ScriptedServer s(json_reply(kBraveBody));
  ToolOutput out = search_with(make_brave_provider(options_for(s.server.url(""))), Json{{"query", "rust async"}, {"max_results", 7}});
  INFO(out.text);
  CHECK_FALSE(out.is_error);
  const HttpExchange req = s.last();
  CHECK(req.method == "GET");
  CHECK(req.target == "/res/v1/web/search?q=rust%20async&count=7");
  CHECK(req.header("X-Subscription-Token") == kKey);
  CHECK(req.header("Accept") == "application/json");
  CHECK_THAT(out.text, Catch::StartsWith("1. Asynchronous Programming in Rust\n   https://rust-lang.github.io/async-book/\n"
                                         "   A thorough guide to async programming in Rust & Tokio. It's free.\n"));
  CHECK_THAT(out.text, Contains("2. Tokio - An asynchronous Rust runtime") &&
                           Contains("Tokio is an asynchronous runtime for the Rust programming language."));
  CHECK_THAT(out.text, !Contains("<") && !Contains("&amp;") && !Contains("&#x27;"));
  CHECK((*out.structured)[0]["source"] == "brave");
}

TEST_CASE("Brave Search is asked for at most 20 results and a Brave answer without web results is no results", "[web_search]") {
  ScriptedServer s(json_reply(R"({"type": "search", "query": {"original": "zyxxy"}, "mixed": {"type": "mixed", "main": []}})"));
  ToolOutput out = search_with(make_brave_provider(options_for(s.server.url(""))), Json{{"query", "zyxxy"}, {"max_results", 20}});
  CHECK_FALSE(out.is_error);
  CHECK_THAT(out.text, Contains("No results for \"zyxxy\" from Brave Search"));
  CHECK_THAT(s.last().target, Catch::EndsWith("&count=20"));
}

TEST_CASE("Brave Search refusing the key is reported with the status and BRAVE_API_KEY, never the key", "[web_search]") {
  for (int status : {401, 422}) {
    // A service that echoes the token it refused: the echo must not reach the model either.
    ScriptedServer s(json_reply(std::string(R"({"type": "ErrorResponse", "error": {"id": "c1a2", "status": )") +
                                    std::to_string(status) +
                                    R"(, "code": "SUBSCRIPTION_TOKEN_INVALID", "detail": "The provided subscription token )" +
                                    kKey + R"( is invalid.", "meta": {"component": "authentication"}}, "time": 1700000000})",
                                status));
    ToolOutput out = search_with(make_brave_provider(options_for(s.server.url(""))), Json{{"query", "rust"}});
    INFO(out.text);
    CHECK(out.is_error);
    CHECK_THAT(out.text, Contains("Brave Search answered " + std::to_string(status)) && Contains("check BRAVE_API_KEY") &&
                             Contains("subscription token"));
    CHECK_THAT(out.text, !Contains(kKey));
    CHECK_THAT(out.structured->dump(), !Contains(kKey));
  }
}

TEST_CASE("Tavily gets a JSON POST with the bearer key and max_results", "[web_search]") {
  ScriptedServer s(json_reply(kTavilyBody));
  ToolOutput out = search_with(make_tavily_provider(options_for(s.server.url(""))), Json{{"query", "who maintains \"sqlite\""}, {"max_results", 4}});
  INFO(out.text);
  CHECK_FALSE(out.is_error);
  const HttpExchange req = s.last();
  CHECK(req.method == "POST");
  CHECK(req.target == "/search");
  CHECK(req.header("Authorization") == std::string("Bearer ") + kKey);
  CHECK_THAT(req.header("Content-Type"), Contains("application/json"));
  const auto body = Json::parse(req.body);
  CHECK(body["query"] == "who maintains \"sqlite\"");
  CHECK(body["max_results"] == 4);
  CHECK_FALSE(body.contains("api_key"));
  CHECK_THAT(out.text, Catch::StartsWith("1. SQLite Developers\n   https://sqlite.org/crew.html\n   SQLite is developed"));
  CHECK((*out.structured)[1]["source"] == "tavily");
}

TEST_CASE("Tavily refusing the key or the plan's limit is reported without the key", "[web_search]") {
  ScriptedServer unauthorized(json_reply(R"({"detail": {"error": "Unauthorized: missing or invalid API key."}})", 401));
  ToolOutput out = search_with(make_tavily_provider(options_for(unauthorized.server.url(""))), Json{{"query", "x"}});
  CHECK(out.is_error);
  CHECK_THAT(out.text, Contains("Tavily answered 401") && Contains("TAVILY_API_KEY") && Contains("invalid API key") && !Contains(kKey));

  ScriptedServer limit(json_reply(R"({"detail": {"error": "This request exceeds your plan's set usage limit."}})", 432));
  ToolOutput over = search_with(make_tavily_provider(options_for(limit.server.url(""))), Json{{"query", "x"}});
  CHECK(over.is_error);
  CHECK_THAT(over.text, Contains("Tavily answered 432") && Contains("usage limit"));
}

TEST_CASE("a server error, malformed JSON or an unexpected shape is a failure naming the provider", "[web_search]") {
  struct Case {
    std::string reply;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {http_response(500, "text/plain", "internal error"), "answered 500"},
      {json_reply("{\"results\": [", 200), "malformed JSON"},
      {json_reply("[1, 2, 3]", 200), "JSON"},
  };
  for (const auto& c : cases) {
    ScriptedServer s(c.reply);
    const std::vector<std::pair<std::string, std::shared_ptr<SearchProvider>>> providers = {
        {"SearxNG", make_searxng_provider(options_for(s.server.url(""), ""))},
        {"Brave Search", make_brave_provider(options_for(s.server.url("")))},
        {"Tavily", make_tavily_provider(options_for(s.server.url("")))},
    };
    for (const auto& [name, provider] : providers) {
      ToolOutput out = search_with(provider, Json{{"query", "x"}});
      INFO(name << ": " << out.text);
      CHECK(out.is_error);
      CHECK_THAT(out.text, Contains("web_search failed: " + name) && Contains(c.expected) && !Contains(kKey));
    }
  }
}

TEST_CASE("a provider that does not answer in time fails with a timeout and no key", "[web_search]") {
  LocalHttpServer stalled([](const HttpExchange&, RawConnection& conn) { conn.sleep_for(std::chrono::seconds(30)); });
  HttpProviderOptions options = options_for(stalled.url(""));
  options.timeout = std::chrono::milliseconds(300);
  ToolOutput out = search_with(make_brave_provider(options), Json{{"query", "x"}});
  INFO(out.text);
  CHECK(out.is_error);
  CHECK_THAT(out.text, Contains("Brave Search did not answer within 0.3 s") && !Contains(kKey));
}

TEST_CASE("an unreachable provider is reported as unreachable", "[web_search]") {
  std::string url;
  {
    LocalHttpServer gone([](const HttpExchange&, RawConnection& conn) { conn.close(); });
    url = gone.url("");
  }  // the port is closed now
  ToolOutput out = search_with(make_searxng_provider(options_for(url, "")), Json{{"query", "x"}});
  INFO(out.text);
  CHECK(out.is_error);
  CHECK_THAT(out.text, Contains("SearxNG could not be reached"));
}

TEST_CASE("Brave and Tavily without a key fail before sending anything", "[web_search]") {
  ScriptedServer s(json_reply(kBraveBody));
  ToolOutput brave = search_with(make_brave_provider(options_for(s.server.url(""), "")), Json{{"query", "x"}});
  CHECK(brave.is_error);
  CHECK_THAT(brave.text, Contains("BRAVE_API_KEY"));
  ToolOutput tavily = search_with(make_tavily_provider(options_for(s.server.url(""), "")), Json{{"query", "x"}});
  CHECK(tavily.is_error);
  CHECK_THAT(tavily.text, Contains("TAVILY_API_KEY"));
  CHECK(s.server.requests_served() == 0);
}
