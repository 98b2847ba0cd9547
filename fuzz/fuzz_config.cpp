// libFuzzer target: the TOML config loader (agent/config.h, parse_config — the text entry point
// load_config reads files through) on arbitrary text, with a fixed environment.
//
// Checked: parsing never throws or crashes; an error names the file; an accepted config holds
// values inside the documented ranges; and, as config.h promises, error messages never quote
// the file's string values (a key pasted into the wrong place must not reach a terminal or a
// log). That last check looks at values shaped like API keys — 8 bytes or more holding "sk-",
// which no message text holds — and only for text TOML accepts (parse errors come from toml++
// and point at the text by line and column).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "agent/config.h"
#include "fuzz/fuzz_check.h"

namespace {

using scout::fuzz::check;

const char* const kFile = "/home/fuzz/.config/scout/config.toml";

std::optional<std::string> fixed_environment(const std::string& name) {
  static const std::map<std::string, std::string> env = {
      {"HOME", "/home/fuzz"},          {"OPENAI_API_KEY", "sk-env-openai"}, {"BRAVE_API_KEY", "env-brave"},
      {"TRACKER_TOKEN", "env-token"},  {"XDG_STATE_HOME", "/state"},       {"EMPTY", ""}};
  const auto it = env.find(name);
  if (it == env.end()) return std::nullopt;
  return it->second;
}

bool plain_name(std::string_view s) {
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// String values shaped like API keys, and every key (a value equal to a key may show up as the
// key). An MCP server's name and protocol revision are left out: messages name them on purpose
// (a name is letters, digits, '_' and '-'; a revision is checked against the known ones).
void collect(const toml::node& node, std::string_view key, std::vector<std::string>& values,
             std::vector<std::string>& keys) {
  if (const auto* t = node.as_table()) {
    for (const auto& [k, v] : *t) {
      keys.emplace_back(k.str());
      collect(v, k.str(), values, keys);
    }
  } else if (const auto* a = node.as_array()) {
    for (const auto& v : *a) collect(v, key, values, keys);
  } else if (const auto* s = node.as_string()) {
    if (key == "name" || key == "protocol") return;
    if (s->get().size() >= 8 && s->get().find("sk-") != std::string::npos) values.push_back(s->get());
  }
}

void check_ranges(const scout::agent::Config& c) {
  check(c.model.threads >= 0 && c.model.threads <= 4096 && c.model.ctx >= 128, "[model] out of range");
  check(c.remote.timeout_s >= 0.1 && c.remote.max_retries >= 0 && c.remote.max_retries <= 20, "[remote] out of range");
  check(c.remote.continuation == "none" || c.remote.continuation == "completions" || c.remote.continuation == "deepseek",
        "[remote] continuation unknown");
  check(c.agent.max_steps >= 1 && c.agent.max_tool_calls >= 0 && c.agent.max_tokens >= 1 && c.agent.max_wall_s >= 0.1 &&
            c.agent.max_result_chars >= 100 && c.agent.tool_timeout_s >= 0.1 && c.agent.thought_result_chars >= 100,
        "[agent] out of range");
  check(c.search.max_results >= 1 && c.search.max_results <= 20 && c.search.timeout_s >= 0.1, "[search] out of range");
  check(c.fetch.max_bytes >= 1024 && c.fetch.timeout_s >= 0.1, "[fetch] out of range");
  check(c.sandbox.memory_mb >= 16 && c.sandbox.cpu_s >= 1, "[sandbox] out of range");
  for (const auto& s : c.mcp_servers) {
    check(!s.name.empty() && plain_name(s.name), "an MCP server without a plain name");
    check(s.command.empty() != s.url.empty(), "an MCP server with both or neither of command and url");
    check(s.timeout.count() > 0, "an MCP server without a timeout");
  }
  for (const auto& p : c.native_plugins) check(!p.empty() && p.is_absolute(), "a native plugin path that is not absolute");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  scout::Result<scout::agent::Config> config = scout::agent::parse_config(text, kFile, fixed_environment);
  if (config) {
    check_ranges(*config);
    return 0;
  }
  const std::string& message = config.error().message;
  check(message.rfind(kFile, 0) == 0, "an error that does not name the file");

  toml::table root;
  try {
    root = toml::parse(text, std::string_view(kFile));
  } catch (const toml::parse_error&) {
    return 0;
  }
  std::vector<std::string> values, keys;
  collect(root, "", values, keys);
  for (const std::string& v : values) {
    if (message.find(v) == std::string::npos) continue;
    bool is_key_too = false;
    for (const std::string& k : keys) is_key_too = is_key_too || k.find(v) != std::string::npos;
    if (is_key_too) continue;
    std::fprintf(stderr, "message: %s\n", message.c_str());
    check(false, "an error message quotes a string value from the file");
  }
  return 0;
}
