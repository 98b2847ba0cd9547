// The toolset: which tools a configuration yields, which provider web_search uses, and --tools.
#include <catch2/catch.hpp>

#include <map>

#include "agent/toolset.h"
#include "tests/support/local_http_server.h"
#include "tests/tools/registry/registry_test_support.h"
#include "tools/search/web_search_tool.h"

using Catch::Contains;
using scout::agent::Config;
using scout::tools::testing::run_to_completion;
namespace asio = boost::asio;

namespace {

Config config_from(const std::string& text, std::map<std::string, std::string> vars = {}) {
  vars.emplace("HOME", "/home/u");
  auto env = [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  auto c = scout::agent::parse_config(text, "/etc/scout/config.toml", env);
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c);
  return *c;
}

std::string provider_id(const scout::tools::Registry& registry) {
  auto tool = std::dynamic_pointer_cast<scout::tools::WebSearchTool>(registry.find("web_search"));
  REQUIRE(tool);
  return tool->provider().id();
}

}  // namespace

TEST_CASE("the default toolset holds every built-in tool", "[config][toolset]") {
  auto registry = scout::agent::build_toolset(config_from(""));
  REQUIRE(registry);
  std::vector<std::string> names;
  for (const auto& t : (*registry)->list()) names.push_back(t.name);
  CHECK(names == scout::agent::builtin_tool_names());
  CHECK(std::find(names.begin(), names.end(), "web_search") != names.end());
  CHECK(std::find(names.begin(), names.end(), "run_code") != names.end());
  CHECK(std::find(names.begin(), names.end(), "fetch_url") != names.end());
}

TEST_CASE("fetch_url follows the [fetch] byte cap and address policy", "[config][toolset]") {
  auto registry = scout::agent::build_toolset(config_from("[fetch]\nmax_bytes = 1048576\n"));
  REQUIRE(registry);
  auto schema = (*registry)->find("fetch_url")->parameters();
  CHECK(schema["properties"]["max_bytes"]["maximum"] == 1048576);
  CHECK(schema["properties"]["max_bytes"]["default"] == 1048576);

  scout::test::LocalHttpServer server([](const scout::test::HttpExchange&, scout::test::RawConnection& conn) {
    conn.write(scout::test::http_response(200, "text/plain", "hello from the LAN"));
  });
  const scout::tools::Json args{{"url", server.url("/notes.txt")}};

  // By default a loopback address is refused before anything is sent.
  auto strict = scout::agent::build_toolset(config_from(""), std::vector<std::string>{"fetch_url"});
  REQUIRE(strict);
  asio::io_context io;
  auto refused = run_to_completion(io, (*strict)->call("fetch_url", args, {}));
  CHECK(refused.is_error);
  CHECK(server.requests_served() == 0);

  auto open = scout::agent::build_toolset(config_from("[fetch]\nallow_private_addresses = true\n"), std::vector<std::string>{"fetch_url"});
  REQUIRE(open);
  auto fetched = run_to_completion(io, (*open)->call("fetch_url", args, {}));
  INFO(fetched.text);
  CHECK_FALSE(fetched.is_error);
  CHECK_THAT(fetched.text, Contains("hello from the LAN"));
}

TEST_CASE("web_search uses the provider the configuration and the environment select", "[config][toolset]") {
  auto offline = scout::agent::build_toolset(config_from(""));
  REQUIRE(offline);
  CHECK(provider_id(**offline) == "offline");

  auto searxng = scout::agent::build_toolset(config_from("[search]\nsearxng_url = \"http://127.0.0.1:8888\"\n"));
  REQUIRE(searxng);
  CHECK(provider_id(**searxng) == "searxng");

  auto brave = scout::agent::build_toolset(config_from("", {{"BRAVE_API_KEY", "br"}}));
  REQUIRE(brave);
  CHECK(provider_id(**brave) == "brave");

  auto tavily = scout::agent::build_toolset(config_from("", {{"TAVILY_API_KEY", "tv"}}));
  REQUIRE(tavily);
  CHECK(provider_id(**tavily) == "tavily");
}

TEST_CASE("an explicitly chosen provider without its key is an error naming the variable", "[config][toolset]") {
  auto brave = scout::agent::build_toolset(config_from("[search]\nprovider = \"brave\"\n"));
  REQUIRE_FALSE(brave);
  CHECK_THAT(brave.error().message, Contains("BRAVE_API_KEY"));

  // Leaving web_search out of the selection leaves its configuration out of the way.
  auto run_code_only =
      scout::agent::build_toolset(config_from("[search]\nprovider = \"brave\"\n"), std::vector<std::string>{"run_code"});
  REQUIRE(run_code_only);
  CHECK((*run_code_only)->find("web_search") == nullptr);
  CHECK((*run_code_only)->find("run_code") != nullptr);
}

TEST_CASE("the web_search schema's default max_results comes from [search] max_results", "[config][toolset]") {
  auto registry = scout::agent::build_toolset(config_from("[search]\nmax_results = 9\n"));
  REQUIRE(registry);
  auto schema = (*registry)->find("web_search")->parameters();
  CHECK(schema["properties"]["max_results"]["default"] == 9);
}

TEST_CASE("a --tools list selects tools and an unknown name lists the known ones", "[config][toolset]") {
  auto two = scout::agent::parse_tool_selection(" web_search , run_code,,web_search");
  REQUIRE(two);
  CHECK(*two == std::vector<std::string>{"web_search", "run_code"});

  auto none = scout::agent::parse_tool_selection("");
  REQUIRE(none);
  CHECK(none->empty());
  auto empty_registry = scout::agent::build_toolset(config_from(""), *none);
  REQUIRE(empty_registry);
  CHECK((*empty_registry)->list().empty());

  auto unknown = scout::agent::parse_tool_selection("web_search,web_serach");
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Contains("'web_serach'") && Contains("run_code") && Contains("web_search"));
}
