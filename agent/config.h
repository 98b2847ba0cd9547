// Config: Scout's settings, read from a TOML file (config.toml) and the environment.
//
// Where the file comes from: an explicit `--config FILE` (which must exist), else
// $XDG_CONFIG_HOME/scout/config.toml, else ~/.config/scout/config.toml; the default file is
// optional and every setting has a default (documented next to each field below).
//
// Strictness: an unknown section or key is an error naming the file, the line and the key, so a
// typo never silently falls back to a default; a value of the wrong type or out of range is an
// error naming file:line. Relative paths in the file are relative to the file's folder, and a
// leading "~/" means the home folder.
//
// Secrets: API keys are read ONLY from environment variables (BRAVE_API_KEY, TAVILY_API_KEY and
// the variable named by [remote] api_key_env). A key written in the file is refused with a
// message naming the variable to use instead, so config files can be shared and committed.
// secret_values() lists the keys in effect for trace and log writers to redact.
//
// Example:
//   [search]
//   provider = "searxng"
//   searxng_url = "http://127.0.0.1:8888"
//   [agent]
//   max_steps = 30
//
// A Config is a plain value: copy it freely; nothing in it is shared.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "plugins/mcp/servers.h"

namespace scout::agent {

// [model]: the local model.
struct ModelConfig {
  std::string path;              // GGUF file; empty: none configured (give one on the command line)
  std::string format;            // chat format: "qwen3", "deepseek-v3", "deepseek-r1"; empty: from the model file
  int threads = 0;               // CPU threads for the engine; 0: one per core
  int ctx = 8192;                // context window in tokens
};

// [remote]: an OpenAI-compatible server used instead of the local model.
struct RemoteConfig {
  std::string url;                           // e.g. "http://127.0.0.1:8080/v1"; empty: unused
  std::string model;                         // model name sent in requests
  std::string api_key_env = "OPENAI_API_KEY";  // NAME of the environment variable holding the key
  double timeout_s = 120;                    // one request, streaming included
  int max_retries = 2;                       // retries of a failed request (connect errors, 429, 5xx)
  // How the server continues a turn paused inside the thinking, for searching there: "none",
  // "completions" (POST /completions with a prompt Scout renders: llama.cpp's server, vLLM,
  // SGLang; needs `format`) or "deepseek" (DeepSeek's prefix completion).
  std::string continuation = "none";
  std::string format;  // the served model's chat format ("qwen3", "deepseek-v3", "deepseek-r1")
};

// [agent]: the loop's budgets.
struct AgentConfig {
  int max_steps = 20;               // model turns per task
  int max_tool_calls = 40;          // tool calls per task, all tools together
  std::int64_t max_tokens = 65536;  // tokens generated per task, thinking included
  double max_wall_s = 900;          // wall time per task
  std::size_t max_result_chars = 12000;  // a tool result longer than this is cut (with a marker)
  double tool_timeout_s = 60;       // one tool call
  bool parallel_tools = true;       // run the tool calls of one turn concurrently
  bool thought_tools = true;        // let the model search, fetch and run code inside its thinking
  std::size_t thought_result_chars = 4000;  // a result written into the thinking is condensed to this
};

enum class SearchProviderChoice { automatic, offline, searxng, brave, tavily };

// [search]: the web_search tool.
struct SearchConfig {
  // "auto": Brave when BRAVE_API_KEY is set, else Tavily when TAVILY_API_KEY is set, else
  // SearxNG when searxng_url is set, else the offline index.
  SearchProviderChoice provider = SearchProviderChoice::automatic;
  std::string searxng_url;                                // e.g. "http://127.0.0.1:8888"
  std::string brave_url = "https://api.search.brave.com";
  std::string tavily_url = "https://api.tavily.com";
  std::filesystem::path index;                            // default: default_index_path()
  int max_results = 5;                                    // when the model does not say (1..20)
  double timeout_s = 20;                                  // one search request
};

// [fetch]: the fetch_url tool.
struct FetchConfig {
  bool allow_private_addresses = false;    // loopback, private and link-local addresses allowed
  std::vector<std::string> allowed_hosts;  // host names allowed to resolve to private addresses
  std::size_t max_bytes = 5u << 20;        // largest response body read
  double timeout_s = 30;                   // one fetch, redirects included
};

// [sandbox]: the run_code tool (tools/sandbox/sandbox.h: SandboxLimits).
struct SandboxConfig {
  int memory_mb = 512;             // address space per process
  int total_memory_mb = 1024;      // all processes of one run together, its /tmp and work folder files included (cgroup)
  int max_processes = 64;          // processes and threads of one run together
  int disk_mb = 256;               // size of the run's /tmp and of its work folder, each
  int cpu_s = 10;                  // CPU seconds per process
  bool allow_unsandboxed = false;  // run with rlimits only when bubblewrap is unavailable
};

// [trace]: the JSONL run traces.
struct TraceConfig {
  std::filesystem::path dir;  // default: default_trace_dir()
};

// Key values taken from the environment when the config was loaded; "" when not set.
struct Secrets {
  std::string brave_api_key;
  std::string tavily_api_key;
  std::string remote_api_key;  // from the variable named by RemoteConfig::api_key_env
};

struct Config {
  ModelConfig model;
  // [[plugins.mcp]]: MCP servers whose tools join the run's (name, command, args, env, timeout_s).
  std::vector<plugins::mcp::McpServerConfig> mcp_servers;
  // [[plugins.native]]: shared libraries of tools (plugins/native/scout_plugin.h), by `path`:
  // a relative path is resolved against the config file's folder, "~/" against the home folder.
  std::vector<std::filesystem::path> native_plugins;
  RemoteConfig remote;
  AgentConfig agent;
  SearchConfig search;
  FetchConfig fetch;
  SandboxConfig sandbox;
  TraceConfig trace;
  Secrets secrets;
  std::filesystem::path source_file;  // the file read; empty when none was (all defaults)
};

// Reads one environment variable; nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

// $XDG_CONFIG_HOME/scout/config.toml (when XDG_CONFIG_HOME is an absolute path), else
// $HOME/.config/scout/config.toml; empty when neither variable is set.
std::filesystem::path default_config_path(const EnvLookup& env);

// $XDG_STATE_HOME/scout (when XDG_STATE_HOME is an absolute path), else ~/.local/state/scout:
// what Scout keeps between runs.
std::filesystem::path default_state_dir(const EnvLookup& env);

// default_state_dir/traces.
std::filesystem::path default_trace_dir(const EnvLookup& env);

// Loads the configuration: `explicit_file` when given (an error if it cannot be read), else the
// default file when it exists, else the defaults. Secrets are read from `env`.
Result<Config> load_config(const std::optional<std::filesystem::path>& explicit_file,
                           const EnvLookup& env = process_environment());

// Parses TOML text as if read from `file_name` (used in messages and to resolve relative paths).
Result<Config> parse_config(std::string_view toml_text, const std::filesystem::path& file_name,
                            const EnvLookup& env);

// The provider web_search uses: the configured one, or the "auto" choice resolved.
SearchProviderChoice effective_search_provider(const Config& config);
// "auto", "offline", "searxng", "brave", "tavily".
const char* search_provider_name(SearchProviderChoice choice);

// The API key values in effect (non-empty ones only), for redacting traces and logs.
std::vector<std::string> secret_values(const Config& config);

}  // namespace scout::agent
