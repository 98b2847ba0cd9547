// config.toml: locations, defaults, strictness about unknown keys and types, keys only from the
// environment, and the "auto" search provider.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "agent/config.h"
#include "tests/common/scratch.h"

namespace fs = std::filesystem;
using Catch::Contains;
using scout::agent::Config;
using scout::agent::EnvLookup;
using scout::agent::SearchProviderChoice;

namespace {

using scout::test::write_file;

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

fs::path scratch(const std::string& name) { return scout::test::fresh_scratch_dir("config", name); }


// Parses `text` as the file "/etc/scout/config.toml" with HOME=/home/u and the given variables.
scout::Result<Config> parse(const std::string& text, std::map<std::string, std::string> vars = {}) {
  vars.emplace("HOME", "/home/u");
  return scout::agent::parse_config(text, "/etc/scout/config.toml", fake_env(std::move(vars)));
}

}  // namespace

TEST_CASE("without a config file every setting has its documented default", "[config]") {
  const auto dir = scratch("defaults");
  auto c = scout::agent::load_config(std::nullopt, fake_env({{"HOME", dir.string()}, {"XDG_CONFIG_HOME", (dir / "cfg").string()}}));
  REQUIRE(c);
  CHECK(c->source_file.empty());
  CHECK(c->model.format.empty());  // from the model file
  CHECK(c->model.threads == 0);
  CHECK(c->remote.api_key_env == "OPENAI_API_KEY");
  CHECK(c->agent.max_steps == 20);
  CHECK(c->agent.parallel_tools);
  CHECK(c->search.provider == SearchProviderChoice::automatic);
  CHECK(c->search.brave_url == "https://api.search.brave.com");
  CHECK(c->search.tavily_url == "https://api.tavily.com");
  CHECK(c->search.max_results == 5);
  CHECK(c->search.index == dir / ".local" / "share" / "scout" / "index.sqlite");
  CHECK(c->trace.dir == dir / ".local" / "state" / "scout" / "traces");
  CHECK_FALSE(c->fetch.allow_private_addresses);
  CHECK_FALSE(c->sandbox.allow_unsandboxed);
  CHECK(c->sandbox.total_memory_mb == 1024);
  CHECK(c->sandbox.max_processes == 64);
  CHECK(c->sandbox.disk_mb == 256);
  CHECK(scout::agent::secret_values(*c).empty());
}

TEST_CASE("the config file is found under XDG_CONFIG_HOME, else under ~/.config", "[config]") {
  const auto dir = scratch("xdg");
  write_file(dir / "xdg" / "scout" / "config.toml", "[agent]\nmax_steps = 7\n");
  write_file(dir / "home" / ".config" / "scout" / "config.toml", "[agent]\nmax_steps = 9\n");

  auto xdg = scout::agent::load_config(std::nullopt, fake_env({{"HOME", (dir / "home").string()}, {"XDG_CONFIG_HOME", (dir / "xdg").string()}}));
  REQUIRE(xdg);
  CHECK(xdg->agent.max_steps == 7);
  CHECK(xdg->source_file == dir / "xdg" / "scout" / "config.toml");

  auto home = scout::agent::load_config(std::nullopt, fake_env({{"HOME", (dir / "home").string()}}));
  REQUIRE(home);
  CHECK(home->agent.max_steps == 9);

  // A relative XDG_CONFIG_HOME is ignored, as the XDG specification says.
  auto relative = scout::agent::load_config(std::nullopt, fake_env({{"HOME", (dir / "home").string()}, {"XDG_CONFIG_HOME", "rel"}}));
  REQUIRE(relative);
  CHECK(relative->agent.max_steps == 9);
}

TEST_CASE("an explicit --config file must exist, and wins over the default one", "[config]") {
  const auto dir = scratch("explicit");
  write_file(dir / "xdg" / "scout" / "config.toml", "[agent]\nmax_steps = 7\n");
  write_file(dir / "mine.toml", "[agent]\nmax_steps = 3\n");
  const auto env = fake_env({{"HOME", dir.string()}, {"XDG_CONFIG_HOME", (dir / "xdg").string()}});

  auto mine = scout::agent::load_config(dir / "mine.toml", env);
  REQUIRE(mine);
  CHECK(mine->agent.max_steps == 3);

  auto missing = scout::agent::load_config(dir / "nope.toml", env);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Contains("nope.toml") && Contains("does not exist"));
}

TEST_CASE("every section and key is read with its type", "[config]") {
  auto c = parse(R"(
[model]
path = "models/qwen3.gguf"
format = "deepseek-v3"
threads = 8
ctx = 32768

[remote]
url = "http://127.0.0.1:8080/v1/"
model = "qwen3-30b"
api_key_env = "MY_KEY"
timeout_s = 30
max_retries = 4

[agent]
max_steps = 12
max_tool_calls = 30
max_tokens = 100000
max_wall_s = 120.5
max_result_chars = 5000
tool_timeout_s = 15
parallel_tools = false

[search]
provider = "searxng"
searxng_url = "http://127.0.0.1:8888"
index = "~/docs/index.sqlite"
max_results = 8

[fetch]
allow_private_addresses = true
allowed_hosts = ["wiki.lan", "docs.lan"]
max_bytes = 1048576
timeout_s = 12

[sandbox]
memory_mb = 256
total_memory_mb = 768
max_processes = 20
disk_mb = 32
cpu_s = 5
allow_unsandboxed = true

[trace]
dir = "/var/tmp/traces"
)",
                 {{"MY_KEY", "remote-secret"}});
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c);
  CHECK(c->source_file == "/etc/scout/config.toml");
  CHECK(c->model.path == "/etc/scout/models/qwen3.gguf");  // relative to the file's folder
  CHECK(c->model.format == "deepseek-v3");
  CHECK(c->model.threads == 8);
  CHECK(c->model.ctx == 32768);
  CHECK(c->remote.url == "http://127.0.0.1:8080/v1");  // trailing slash dropped
  CHECK(c->remote.model == "qwen3-30b");
  CHECK(c->remote.api_key_env == "MY_KEY");
  CHECK(c->remote.timeout_s == 30.0);
  CHECK(c->remote.max_retries == 4);
  CHECK(c->agent.max_steps == 12);
  CHECK(c->agent.max_tool_calls == 30);
  CHECK(c->agent.max_tokens == 100000);
  CHECK(c->agent.max_wall_s == 120.5);
  CHECK(c->agent.max_result_chars == 5000);
  CHECK(c->agent.tool_timeout_s == 15.0);
  CHECK_FALSE(c->agent.parallel_tools);
  CHECK(c->search.provider == SearchProviderChoice::searxng);
  CHECK(c->search.searxng_url == "http://127.0.0.1:8888");
  CHECK(c->search.index == "/home/u/docs/index.sqlite");  // ~ is the home folder
  CHECK(c->search.max_results == 8);
  CHECK(c->fetch.allow_private_addresses);
  CHECK(c->fetch.allowed_hosts == std::vector<std::string>{"wiki.lan", "docs.lan"});
  CHECK(c->fetch.max_bytes == 1048576);
  CHECK(c->fetch.timeout_s == 12.0);
  CHECK(c->sandbox.memory_mb == 256);
  CHECK(c->sandbox.total_memory_mb == 768);
  CHECK(c->sandbox.max_processes == 20);
  CHECK(c->sandbox.disk_mb == 32);
  CHECK(c->sandbox.cpu_s == 5);
  CHECK(c->sandbox.allow_unsandboxed);
  CHECK(c->trace.dir == "/var/tmp/traces");
  // The remote key comes from the variable the file names.
  CHECK(c->secrets.remote_api_key == "remote-secret");
}

TEST_CASE("an unknown key is an error naming the file, the line and the key", "[config]") {
  auto c = parse("[agent]\nmax_steps = 3\n\n[search]\nprovder = \"brave\"\n");
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message, Contains("/etc/scout/config.toml:5:") && Contains("'provder'") && Contains("[search]") &&
                                    Contains("known keys: provider"));

  auto section = parse("[serach]\nprovider = \"brave\"\n");
  REQUIRE_FALSE(section);
  CHECK_THAT(section.error().message, Contains("config.toml:1:") && Contains("[serach]") && Contains("[search]"));

  // A typo that merely resembles a secret's name is still an unknown key.
  auto typo = parse("[agent]\nmax_token = 100\n");
  REQUIRE_FALSE(typo);
  CHECK_THAT(typo.error().message, Contains("unknown key 'max_token'") && Contains("max_tokens"));

  auto top = parse("max_steps = 3\n");
  REQUIRE_FALSE(top);
  CHECK_THAT(top.error().message, Contains("config.toml:1:") && Contains("'max_steps'") && Contains("section"));
}

TEST_CASE("a value of the wrong type or out of range is an error with file and line", "[config]") {
  auto type = parse("[agent]\n\nmax_steps = \"ten\"\n");
  REQUIRE_FALSE(type);
  CHECK_THAT(type.error().message, Contains("config.toml:3:") && Contains("max_steps") && Contains("expected an integer") &&
                                       Contains("a string"));

  auto range = parse("[search]\nmax_results = 50\n");
  REQUIRE_FALSE(range);
  CHECK_THAT(range.error().message, Contains("config.toml:2:") && Contains("between 1 and 20"));

  auto choice = parse("[search]\nprovider = \"google\"\n");
  REQUIRE_FALSE(choice);
  CHECK_THAT(choice.error().message, Contains("config.toml:2:") && Contains("\"searxng\""));

  auto url = parse("[search]\nsearxng_url = \"127.0.0.1:8888\"\n");
  REQUIRE_FALSE(url);
  CHECK_THAT(url.error().message, Contains("config.toml:2:") && Contains("http://"));

  auto format = parse("[model]\nformat = \"llama2\"\n");
  REQUIRE_FALSE(format);
  CHECK_THAT(format.error().message, Contains("config.toml:2:") && Contains("qwen3"));

  auto list = parse("[fetch]\nallowed_hosts = [\"a\", 3]\n");
  REQUIRE_FALSE(list);
  CHECK_THAT(list.error().message, Contains("config.toml:2:") && Contains("array of strings"));
}

TEST_CASE("TOML syntax errors name the file, line and column", "[config]") {
  auto c = parse("[agent]\nmax_steps = = 3\n");
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message, Contains("/etc/scout/config.toml:2:"));
}

TEST_CASE("an API key written in the config file is refused with the variable to use instead", "[config]") {
  auto brave = parse("[search]\nbrave_api_key = \"BSA-literal-secret\"\n");
  REQUIRE_FALSE(brave);
  CHECK_THAT(brave.error().message, Contains("config.toml:2:") && Contains("BRAVE_API_KEY") && Contains("environment"));
  CHECK_THAT(brave.error().message, !Contains("BSA-literal-secret"));

  auto tavily = parse("[search]\ntavily_api_key = \"tvly-literal-secret\"\n");
  REQUIRE_FALSE(tavily);
  CHECK_THAT(tavily.error().message, Contains("TAVILY_API_KEY") && !Contains("tvly-literal-secret"));

  auto remote = parse("[remote]\napi_key_env = \"LOCAL_LLM_KEY\"\napi_key = \"sk-literal-secret\"\n");
  REQUIRE_FALSE(remote);
  CHECK_THAT(remote.error().message, Contains("config.toml:3:") && Contains("LOCAL_LLM_KEY") && !Contains("sk-literal-secret"));

  // The key pasted where the variable's name belongs is refused without being repeated.
  auto pasted = parse("[remote]\napi_key_env = \"sk-proj-abc123\"\n");
  REQUIRE_FALSE(pasted);
  CHECK_THAT(pasted.error().message, Contains("config.toml:2:") && Contains("NAME of the environment variable") &&
                                         !Contains("sk-proj-abc123"));
}

TEST_CASE("the auto search provider prefers Brave, then Tavily, then SearxNG, then the offline index", "[config]") {
  using scout::agent::effective_search_provider;
  auto none = parse("");
  REQUIRE(none);
  CHECK(effective_search_provider(*none) == SearchProviderChoice::offline);

  auto searxng = parse("[search]\nsearxng_url = \"http://127.0.0.1:8888\"\n");
  REQUIRE(searxng);
  CHECK(effective_search_provider(*searxng) == SearchProviderChoice::searxng);

  auto tavily = parse("[search]\nsearxng_url = \"http://127.0.0.1:8888\"\n", {{"TAVILY_API_KEY", "tv"}});
  REQUIRE(tavily);
  CHECK(effective_search_provider(*tavily) == SearchProviderChoice::tavily);

  auto brave = parse("[search]\nsearxng_url = \"http://127.0.0.1:8888\"\n", {{"TAVILY_API_KEY", "tv"}, {"BRAVE_API_KEY", "br"}});
  REQUIRE(brave);
  CHECK(effective_search_provider(*brave) == SearchProviderChoice::brave);

  // An explicit choice is kept whatever keys are set.
  auto offline = parse("[search]\nprovider = \"offline\"\n", {{"BRAVE_API_KEY", "br"}});
  REQUIRE(offline);
  CHECK(effective_search_provider(*offline) == SearchProviderChoice::offline);

  auto searxng_without_url = parse("[search]\nprovider = \"searxng\"\n");
  REQUIRE_FALSE(searxng_without_url);
  CHECK_THAT(searxng_without_url.error().message, Contains("searxng_url"));
}

TEST_CASE("secret_values lists the keys in effect for redaction", "[config]") {
  auto c = parse("", {{"BRAVE_API_KEY", "br-1"}, {"TAVILY_API_KEY", "tv-2"}, {"OPENAI_API_KEY", "sk-3"}});
  REQUIRE(c);
  CHECK(scout::agent::secret_values(*c) == std::vector<std::string>{"br-1", "tv-2", "sk-3"});
  auto empty_values = parse("", {{"BRAVE_API_KEY", ""}});
  REQUIRE(empty_values);
  CHECK(scout::agent::secret_values(*empty_values).empty());
}

TEST_CASE("MCP servers are read from [[plugins.mcp]] entries, and bad entries name their line", "[config][mcp]") {
  const auto dir = scratch("mcp");
  auto env = fake_env({{"HOME", dir.string()}});
  auto parse = [&](const std::string& text) { return scout::agent::parse_config(text, dir / "config.toml", env); };
  auto c = parse("[[plugins.mcp]]\nname = \"files\"\ncommand = \"npx\"\nargs = [\"-y\", \"server\"]\n"
                 "env = { LOG = \"debug\" }\ntimeout_s = 5\n\n[[plugins.mcp]]\nname = \"b\"\ncommand = \"b-server\"\n");
  REQUIRE(c);
  REQUIRE(c->mcp_servers.size() == 2);
  CHECK(c->mcp_servers[0].name == "files");
  CHECK(c->mcp_servers[0].args == std::vector<std::string>{"-y", "server"});
  CHECK(c->mcp_servers[0].env == std::vector<std::pair<std::string, std::string>>{{"LOG", "debug"}});
  CHECK(c->mcp_servers[0].timeout == std::chrono::milliseconds(5000));
  CHECK(c->mcp_servers[1].command == "b-server");

  auto no_name = parse("[[plugins.mcp]]\ncommand = \"x\"\n");
  REQUIRE_FALSE(no_name);
  CHECK_THAT(no_name.error().message, Contains("config.toml:1:") && Contains("needs a name"));
  auto bad_key = parse("[[plugins.mcp]]\nname = \"a\"\ncommand = \"x\"\nport = 5\n");
  REQUIRE_FALSE(bad_key);
  CHECK_THAT(bad_key.error().message, Contains("config.toml:4:") && Contains("unknown key 'port'"));
  auto dotted = parse("[[plugins.mcp]]\nname = \"a.b\"\ncommand = \"x\"\n");
  REQUIRE_FALSE(dotted);
  CHECK_THAT(dotted.error().message, Contains("letters, digits"));
}

TEST_CASE("HTTP MCP servers take a url and headers whose ${VARIABLES} come from the environment", "[config][mcp]") {
  const auto dir = scratch("mcp_http");
  auto env = fake_env({{"HOME", dir.string()}, {"GH_TOKEN", "ghp-123"}});
  auto parse = [&](const std::string& text) { return scout::agent::parse_config(text, dir / "config.toml", env); };
  auto c = parse("[[plugins.mcp]]\nname = \"gh\"\nurl = \"https://mcp.example.com/mcp\"\n"
                 "headers = { Authorization = \"Bearer ${GH_TOKEN}\", X-Literal = \"$${NOT_EXPANDED}\" }\n"
                 "allow = [\"search_*\", \"get_issue\"]\ndeny = [\"search_code\"]\n");
  REQUIRE(c);
  REQUIRE(c->mcp_servers.size() == 1);
  const auto& s = c->mcp_servers[0];
  CHECK(s.url == "https://mcp.example.com/mcp");
  CHECK(s.command.empty());
  CHECK(s.headers == std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer ghp-123"},
                                                                      {"X-Literal", "${NOT_EXPANDED}"}});
  CHECK(scout::plugins::mcp::tool_permitted(s, "search_issues"));
  CHECK(scout::plugins::mcp::tool_permitted(s, "get_issue"));
  CHECK_FALSE(scout::plugins::mcp::tool_permitted(s, "search_code"));  // denied
  CHECK_FALSE(scout::plugins::mcp::tool_permitted(s, "delete_repo"));  // not allowed

  auto unset = parse("[[plugins.mcp]]\nname = \"gh\"\nurl = \"https://x/mcp\"\nheaders = { A = \"${MISSING_TOKEN}\" }\n");
  REQUIRE_FALSE(unset);
  CHECK_THAT(unset.error().message, Contains("config.toml:4:") && Contains("MISSING_TOKEN is not set"));
  auto both = parse("[[plugins.mcp]]\nname = \"x\"\nurl = \"http://h/mcp\"\ncommand = \"y\"\n");
  REQUIRE_FALSE(both);
  CHECK_THAT(both.error().message, Contains("either a command") && Contains("not both"));
  auto neither = parse("[[plugins.mcp]]\nname = \"x\"\n");
  REQUIRE_FALSE(neither);
  CHECK_THAT(neither.error().message, Contains("not neither"));
  auto ftp = parse("[[plugins.mcp]]\nname = \"x\"\nurl = \"ftp://h/mcp\"\n");
  REQUIRE_FALSE(ftp);
  CHECK_THAT(ftp.error().message, Contains("http:// or https://"));
  auto boxed = parse("[[plugins.mcp]]\nname = \"x\"\ncommand = \"node\"\nsandbox = true\nsandbox_paths = [\"/opt/srv\"]\n");
  REQUIRE(boxed);
  CHECK(boxed->mcp_servers[0].sandbox);
  CHECK(boxed->mcp_servers[0].sandbox_paths == std::vector<std::string>{"/opt/srv"});
  auto boxed_url = parse("[[plugins.mcp]]\nname = \"x\"\nurl = \"http://h/mcp\"\nsandbox = true\n");
  REQUIRE_FALSE(boxed_url);
  CHECK_THAT(boxed_url.error().message, Contains("sandbox settings belong to servers started with a command"));
  auto paths_only = parse("[[plugins.mcp]]\nname = \"x\"\ncommand = \"y\"\nsandbox_network = true\n");
  REQUIRE_FALSE(paths_only);
  CHECK_THAT(paths_only.error().message, Contains("need sandbox = true"));
  auto signed_in = parse("[[plugins.mcp]]\nname = \"t\"\nurl = \"https://h/mcp\"\noauth = true\noauth_client_id = \"scout\"\n"
                         "oauth_client_secret = \"${GH_TOKEN}\"\noauth_redirect_port = 33418\n");
  REQUIRE(signed_in);
  CHECK(signed_in->mcp_servers[0].oauth);
  CHECK(signed_in->mcp_servers[0].oauth_client_id == "scout");
  CHECK(signed_in->mcp_servers[0].oauth_client_secret == "ghp-123");
  CHECK(signed_in->mcp_servers[0].oauth_redirect_port == 33418);
  CHECK_THAT(signed_in->mcp_servers[0].oauth_token_file, Catch::EndsWith("/scout/mcp-oauth/t.json"));
  auto literal_secret = parse("[[plugins.mcp]]\nname = \"t\"\nurl = \"https://h/mcp\"\noauth = true\noauth_client_secret = \"s3cr3t\"\n");
  REQUIRE_FALSE(literal_secret);
  CHECK_THAT(literal_secret.error().message, Contains("must name an environment variable"));
  auto stray = parse("[[plugins.mcp]]\nname = \"t\"\nurl = \"https://h/mcp\"\noauth_client_id = \"x\"\n");
  REQUIRE_FALSE(stray);
  CHECK_THAT(stray.error().message, Contains("need oauth = true"));
  auto headers_on_stdio = parse("[[plugins.mcp]]\nname = \"x\"\ncommand = \"y\"\nheaders = { A = \"b\" }\n");
  REQUIRE_FALSE(headers_on_stdio);
  CHECK_THAT(headers_on_stdio.error().message, Contains("headers belong to servers reached by url"));
  auto pinned = parse("[[plugins.mcp]]\nname = \"x\"\ncommand = \"y\"\nprotocol = \"2025-06-18\"\n");
  REQUIRE(pinned);
  CHECK(pinned->mcp_servers[0].protocol == "2025-06-18");
  CHECK(pinned->mcp_servers[0].oauth_token_file.empty());  // no OAuth, nothing kept
  CHECK_THAT(pinned->mcp_servers[0].era_file, Catch::EndsWith("/scout/mcp-era/x.json"));
  CHECK(parse("[[plugins.mcp]]\nname = \"x\"\nurl = \"http://h/mcp\"\n")->mcp_servers[0].protocol.empty());
  auto unknown_revision = parse("[[plugins.mcp]]\nname = \"x\"\ncommand = \"y\"\nprotocol = \"2024-01-01\"\n");
  REQUIRE_FALSE(unknown_revision);
  CHECK_THAT(unknown_revision.error().message, Contains("'2024-01-01'") && Contains("2026-07-28") && Contains("2025-11-25"));
}

TEST_CASE("a ${...} that names no environment variable is refused without repeating what it holds", "[config][mcp]") {
  // A token pasted between the braces by mistake must not reach the terminal through the error.
  auto pasted = parse("[[plugins.mcp]]\nname = \"gh\"\nurl = \"https://x/mcp\"\n"
                      "headers = { Authorization = \"Bearer ${sk-live-4f9a2b}\" }\n");
  REQUIRE_FALSE(pasted);
  CHECK_THAT(pasted.error().message, Contains("config.toml:4:") && Contains("environment variable name"));
  CHECK_THAT(pasted.error().message, !Contains("sk-live-4f9a2b"));
}

TEST_CASE("native plugins are read from [[plugins.native]] paths, relative ones against the config's folder",
          "[config][native]") {
  auto c = parse("[[plugins.native]]\npath = \"plugins/word_stats.so\"\n\n[[plugins.native]]\npath = \"~/lib/b.so\"\n"
                 "\n[[plugins.native]]\npath = \"/opt/scout/c.so\"\n");
  REQUIRE(c);
  CHECK(c->native_plugins ==
        std::vector<fs::path>{"/etc/scout/plugins/word_stats.so", "/home/u/lib/b.so", "/opt/scout/c.so"});
  CHECK(parse("")->native_plugins.empty());

  auto error = [](const std::string& text) {
    auto c = parse(text);
    REQUIRE_FALSE(c);
    return c.error().message;
  };
  CHECK_THAT(error("[[plugins.native]]\n"), Contains("config.toml:1:") && Contains("needs a path"));
  CHECK_THAT(error("[[plugins.native]]\npath = \"a.so\"\nname = \"a\"\n"),
             Contains("config.toml:3:") && Contains("unknown key 'name' in [[plugins.native]]"));
  CHECK_THAT(error("[[plugins.native]]\npath = 5\n"), Contains("config.toml:2:") && Contains("expected a path string"));
  CHECK_THAT(error("[[plugins.wasm]]\npath = \"a\"\n"), Contains("known: mcp, native"));
}
