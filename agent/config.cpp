#include "agent/config.h"

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>

#include <toml++/toml.h>

#include "agent/chat_format.h"

namespace fs = std::filesystem;

namespace scout::agent {
namespace {

// What a setter reports: nullopt when the value was taken, else why not (without the location,
// which the caller adds). Messages never quote string values: a misplaced key must not reach
// the terminal or a log through an error message.
using SetResult = std::optional<std::string>;
using Setter = std::function<SetResult(const toml::node&)>;

struct Field {
  std::string_view key;
  Setter set;
};

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

Setter integer_field(int& out, std::int64_t min, std::int64_t max) {
  return [&out, min, max](const toml::node& node) -> SetResult {
    const auto* v = node.as_integer();
    if (!v) return "expected an integer, found " + type_name(node);
    if (v->get() < min || v->get() > max)
      return "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", found " + std::to_string(v->get());
    out = static_cast<int>(v->get());
    return std::nullopt;
  };
}

Setter int64_field(std::int64_t& out, std::int64_t min, std::int64_t max) {
  return [&out, min, max](const toml::node& node) -> SetResult {
    const auto* v = node.as_integer();
    if (!v) return "expected an integer, found " + type_name(node);
    if (v->get() < min || v->get() > max)
      return "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", found " + std::to_string(v->get());
    out = v->get();
    return std::nullopt;
  };
}

Setter size_field(std::size_t& out, std::int64_t min, std::int64_t max) {
  return [&out, min, max](const toml::node& node) -> SetResult {
    std::int64_t value = 0;
    if (auto r = int64_field(value, min, max)(node)) return r;
    out = static_cast<std::size_t>(value);
    return std::nullopt;
  };
}

// Seconds and other quantities: an integer or a float.
Setter number_field(double& out, double min, double max) {
  return [&out, min, max](const toml::node& node) -> SetResult {
    double value = 0;
    if (const auto* i = node.as_integer()) value = static_cast<double>(i->get());
    else if (const auto* f = node.as_floating_point()) value = f->get();
    else return "expected a number, found " + type_name(node);
    if (!(value >= min && value <= max))
      return "must be between " + number_text(min) + " and " + number_text(max) + ", found " + number_text(value);
    out = value;
    return std::nullopt;
  };
}

Setter bool_field(bool& out) {
  return [&out](const toml::node& node) -> SetResult {
    const auto* v = node.as_boolean();
    if (!v) return "expected true or false, found " + type_name(node);
    out = v->get();
    return std::nullopt;
  };
}

Setter string_field(std::string& out) {
  return [&out](const toml::node& node) -> SetResult {
    const auto* v = node.as_string();
    if (!v) return "expected a string, found " + type_name(node);
    out = v->get();
    return std::nullopt;
  };
}

// An http:// or https:// URL, kept without trailing slashes; "" means unset.
Setter url_field(std::string& out) {
  return [&out](const toml::node& node) -> SetResult {
    const auto* v = node.as_string();
    if (!v) return "expected a URL string, found " + type_name(node);
    std::string url = v->get();
    if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      return "expected an http:// or https:// URL";
    while (!url.empty() && url.back() == '/') url.pop_back();
    out = std::move(url);
    return std::nullopt;
  };
}

// "~/x" is under the home folder; a relative path is relative to the config file's folder.
Setter path_field(fs::path& out, fs::path base_dir, std::string home) {
  return [&out, base_dir = std::move(base_dir), home = std::move(home)](const toml::node& node) -> SetResult {
    const auto* v = node.as_string();
    if (!v) return "expected a path string, found " + type_name(node);
    const std::string& text = v->get();
    if (text.empty()) return "expected a path, found an empty string";
    if (text == "~" || text.rfind("~/", 0) == 0) {
      if (home.empty()) return "starts with ~ but HOME is not set";
      out = fs::path(home) / text.substr(text.size() > 1 ? 2 : 1);
    } else if (fs::path(text).is_relative()) {
      out = base_dir / text;
    } else {
      out = text;
    }
    out = out.lexically_normal();
    return std::nullopt;
  };
}

Setter string_list_field(std::vector<std::string>& out) {
  return [&out](const toml::node& node) -> SetResult {
    const auto* arr = node.as_array();
    if (!arr) return "expected an array of strings, found " + type_name(node);
    std::vector<std::string> values;
    for (const auto& item : *arr) {
      const auto* s = item.as_string();
      if (!s) return "expected an array of strings, found " + type_name(item) + " in it";
      values.push_back(s->get());
    }
    out = std::move(values);
    return std::nullopt;
  };
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// A key that looks like it holds a credential: refused with the variable to use instead.
// Specific names only, so a typo such as "max_token" still reads as an unknown key.
bool looks_like_secret_key(std::string_view key) {
  if (key == "key" || key == "token") return true;
  for (std::string_view suffix : {"api_key", "apikey", "api_token", "access_token", "auth_token", "secret", "password"})
    if (key.size() >= suffix.size() && key.substr(key.size() - suffix.size()) == suffix) return true;
  return false;
}

std::string secret_variable_for(std::string_view section, std::string_view key, const std::string& remote_env) {
  if (key.find("brave") != std::string_view::npos) return "BRAVE_API_KEY";
  if (key.find("tavily") != std::string_view::npos) return "TAVILY_API_KEY";
  if (section == "remote") return remote_env;
  if (section == "search") return "BRAVE_API_KEY or TAVILY_API_KEY";
  return "that holds it";
}

class ConfigReader {
 public:
  ConfigReader(fs::path file, const EnvLookup& env) : file_(std::move(file)), env_(env) {}

  Result<Config> read(const toml::table& root) {
    Config c;
    c.source_file = file_;
    const fs::path base_dir = file_.has_parent_path() ? file_.parent_path() : fs::path(".");
    const std::string home = env_("HOME").value_or("");
    c.search.index = default_data_dir() / "scout" / "index.sqlite";
    c.trace.dir = default_trace_dir(env_);

    // The [remote] section names the key's variable; read it first so messages about a key
    // written in the file can name the right variable.
    std::string remote_env = c.remote.api_key_env;
    if (const auto* remote = root["remote"].as_table())
      if (const auto* name = (*remote)["api_key_env"].as_string(); name && valid_env_name(name->get()))
        remote_env = name->get();

    const std::vector<std::pair<std::string_view, std::vector<Field>>> sections = {
        {"model",
         {{"path", path_field(model_path_, base_dir, home)},
          {"format", string_field(c.model.format)},
          {"threads", integer_field(c.model.threads, 0, 4096)},
          {"ctx", integer_field(c.model.ctx, 128, 1 << 22)}}},
        {"remote",
         {{"url", url_field(c.remote.url)},
          {"model", string_field(c.remote.model)},
          {"api_key_env", string_field(c.remote.api_key_env)},
          {"timeout_s", number_field(c.remote.timeout_s, 0.1, 86400)},
          {"max_retries", integer_field(c.remote.max_retries, 0, 20)},
          {"continuation", string_field(c.remote.continuation)},
          {"format", string_field(c.remote.format)}}},
        {"agent",
         {{"max_steps", integer_field(c.agent.max_steps, 1, 100000)},
          {"max_tool_calls", integer_field(c.agent.max_tool_calls, 0, 1000000)},
          {"max_tokens", int64_field(c.agent.max_tokens, 1, std::int64_t{1} << 40)},
          {"max_wall_s", number_field(c.agent.max_wall_s, 0.1, 31 * 86400.0)},
          {"max_result_chars", size_field(c.agent.max_result_chars, 100, std::int64_t{1} << 30)},
          {"tool_timeout_s", number_field(c.agent.tool_timeout_s, 0.1, 86400)},
          {"parallel_tools", bool_field(c.agent.parallel_tools)},
          {"thought_tools", bool_field(c.agent.thought_tools)},
          {"thought_result_chars", size_field(c.agent.thought_result_chars, 100, std::int64_t{1} << 24)}}},
        {"search",
         {{"provider", provider_field(c.search.provider)},
          {"searxng_url", url_field(c.search.searxng_url)},
          {"brave_url", url_field(c.search.brave_url)},
          {"tavily_url", url_field(c.search.tavily_url)},
          {"index", path_field(c.search.index, base_dir, home)},
          {"max_results", integer_field(c.search.max_results, 1, 20)},
          {"timeout_s", number_field(c.search.timeout_s, 0.1, 3600)}}},
        {"fetch",
         {{"allow_private_addresses", bool_field(c.fetch.allow_private_addresses)},
          {"allowed_hosts", string_list_field(c.fetch.allowed_hosts)},
          {"max_bytes", size_field(c.fetch.max_bytes, 1024, std::int64_t{1} << 32)},
          {"timeout_s", number_field(c.fetch.timeout_s, 0.1, 3600)}}},
        {"sandbox",
         {{"memory_mb", integer_field(c.sandbox.memory_mb, 16, 1 << 20)},
          {"total_memory_mb", integer_field(c.sandbox.total_memory_mb, 16, 1 << 20)},
          {"max_processes", integer_field(c.sandbox.max_processes, 4, 1 << 16)},
          {"disk_mb", integer_field(c.sandbox.disk_mb, 1, 1 << 20)},
          {"cpu_s", integer_field(c.sandbox.cpu_s, 1, 86400)},
          {"allow_unsandboxed", bool_field(c.sandbox.allow_unsandboxed)}}},
        {"trace", {{"dir", path_field(c.trace.dir, base_dir, home)}}},
    };

    for (const auto& [key, node] : root) {
      if (key.str() == "plugins") {
        if (auto r = read_plugins(node, c, base_dir, home); !r) return Unexpected{r.error()};
        continue;
      }
      const auto* section = find_section(sections, key.str());
      if (!section) {
        if (!node.is_table())
          return at(node, "unknown key '" + std::string(key.str()) +
                              "' outside any section (settings belong in a section such as [search])");
        return at(node, "unknown section [" + std::string(key.str()) + "]; known sections: " + section_names(sections));
      }
      const auto* table = node.as_table();
      if (!table) return at(node, "'" + std::string(key.str()) + "' must be a section ([" + std::string(key.str()) + "])");
      for (const auto& [field_key, value] : *table) {
        const std::string name(field_key.str());
        const Field* field = nullptr;
        for (const auto& f : section->second)
          if (f.key == name) field = &f;
        if (!field) {
          if (looks_like_secret_key(name))
            return at(value, "[" + std::string(key.str()) + "] " + name +
                                 ": API keys are not read from the config file; set the environment variable " +
                                 secret_variable_for(key.str(), name, remote_env) + " instead");
          return at(value, "unknown key '" + name + "' in [" + std::string(key.str()) + "]; known keys: " +
                               field_names(section->second));
        }
        if (auto problem = field->set(value)) return at(value, "[" + std::string(key.str()) + "] " + name + ": " + *problem);
        if (std::string_view(key.str()) == "remote" && name == "api_key_env" && !valid_env_name(c.remote.api_key_env))
          return at(value, "[remote] api_key_env must be the NAME of the environment variable that holds the key "
                           "(e.g. OPENAI_API_KEY), not the key itself");
        if (std::string_view(key.str()) == "remote" && name == "continuation" &&
            !(c.remote.continuation == "none" || c.remote.continuation == "completions" ||
              c.remote.continuation == "deepseek"))
          return at(value, "[remote] continuation must be \"none\", \"completions\" or \"deepseek\"");
        if (std::string_view(key.str()) == "remote" && name == "format" && !ChatFormat::by_name(c.remote.format))
          return at(value, "[remote] format must be \"qwen3\", \"deepseek-v3\" or \"deepseek-r1\"");
        if (std::string_view(key.str()) == "model" && name == "format" && !ChatFormat::by_name(c.model.format))
          return at(value, "[model] format must be \"qwen3\", \"deepseek-v3\" or \"deepseek-r1\"");
      }
    }
    if (!model_path_.empty()) c.model.path = model_path_.string();

    if (c.search.provider == SearchProviderChoice::searxng && c.search.searxng_url.empty())
      return make_error(file_.string() + ": [search] provider is \"searxng\" but searxng_url is not set");

    c.secrets.brave_api_key = env_("BRAVE_API_KEY").value_or("");
    c.secrets.tavily_api_key = env_("TAVILY_API_KEY").value_or("");
    c.secrets.remote_api_key = env_(c.remote.api_key_env).value_or("");
    return c;
  }

 private:
  using Sections = std::vector<std::pair<std::string_view, std::vector<Field>>>;

  static const std::pair<std::string_view, std::vector<Field>>* find_section(const Sections& sections, std::string_view name) {
    for (const auto& s : sections)
      if (s.first == name) return &s;
    return nullptr;
  }
  static std::string section_names(const Sections& sections) {
    std::string out;
    for (const auto& s : sections) out += (out.empty() ? "[" : ", [") + std::string(s.first) + "]";
    return out;
  }
  static std::string field_names(const std::vector<Field>& fields) {
    std::string out;
    for (const auto& f : fields) out += (out.empty() ? "" : ", ") + std::string(f.key);
    return out;
  }

  static Setter provider_field(SearchProviderChoice& out) {
    return [&out](const toml::node& node) -> SetResult {
      const auto* v = node.as_string();
      if (!v) return "expected a string, found " + type_name(node);
      for (auto choice : {SearchProviderChoice::automatic, SearchProviderChoice::offline, SearchProviderChoice::searxng,
                          SearchProviderChoice::brave, SearchProviderChoice::tavily}) {
        if (v->get() == search_provider_name(choice)) {
          out = choice;
          return std::nullopt;
        }
      }
      return "must be one of \"auto\", \"offline\", \"searxng\", \"brave\", \"tavily\"";
    };
  }

  // $XDG_DATA_HOME, else ~/.local/share: the rule default_index_path() follows.
  fs::path default_data_dir() const {
    if (auto xdg = env_("XDG_DATA_HOME"); xdg && fs::path(*xdg).is_absolute()) return *xdg;
    return fs::path(env_("HOME").value_or(".")) / ".local" / "share";
  }

  // [[plugins.mcp]] and [[plugins.native]] entries.
  Result<void> read_plugins(const toml::node& node, Config& c, const fs::path& base_dir, const std::string& home) const {
    const auto* table = node.as_table();
    if (!table) return at(node, "'plugins' must be a section ([[plugins.mcp]] or [[plugins.native]] entries)");
    for (const auto& [key, value] : *table) {
      if (key.str() == "native") {
        if (auto r = read_native_plugins(value, c, base_dir, home); !r) return r;
        continue;
      }
      if (key.str() != "mcp")
        return at(value, "unknown key '" + std::string(key.str()) + "' in [plugins]; known: mcp, native");
      const auto* entries = value.as_array();
      if (!entries) return at(value, "plugins.mcp must be a list of [[plugins.mcp]] entries");
      for (const auto& entry : *entries) {
        const auto* server = entry.as_table();
        if (!server) return at(entry, "each [[plugins.mcp]] entry must be a table");
        plugins::mcp::McpServerConfig s;
        double timeout_s = 60;
        for (const auto& [k, v] : *server) {
          const std::string name(k.str());
          std::optional<std::string> problem;
          if (name == "name" || name == "command") {
            std::string text;
            problem = string_field(text)(v);
            if (!problem) (name == "name" ? s.name : s.command) = text;
          } else if (name == "args") {
            problem = string_list_field(s.args)(v);
          } else if (name == "timeout_s") {
            problem = number_field(timeout_s, 0.1, 86400)(v);
          } else if (name == "sandbox" || name == "sandbox_network") {
            problem = bool_field(name == "sandbox" ? s.sandbox : s.sandbox_network)(v);
          } else if (name == "sandbox_paths") {
            problem = string_list_field(s.sandbox_paths)(v);
          } else if (name == "oauth") {
            problem = bool_field(s.oauth)(v);
          } else if (name == "oauth_client_id") {
            problem = string_field(s.oauth_client_id)(v);
          } else if (name == "oauth_client_secret") {
            std::string text;
            problem = string_field(text)(v);
            if (!problem) {
              auto expanded = expand_variables(text);
              if (!expanded) return at(v, "[[plugins.mcp]] oauth_client_secret: " + expanded.error().message);
              if (*expanded == text)
                return at(v, "[[plugins.mcp]] oauth_client_secret must name an environment variable, e.g. "
                             "\"${TRACKER_CLIENT_SECRET}\": secrets are not read from the config file");
              s.oauth_client_secret = *expanded;
            }
          } else if (name == "oauth_redirect_port") {
            double port = 0;
            problem = number_field(port, 0, 65535)(v);
            s.oauth_redirect_port = static_cast<int>(port);
          } else if (name == "url") {
            problem = string_field(s.url)(v);
          } else if (name == "protocol") {
            problem = string_field(s.protocol)(v);
            if (!problem && !s.protocol.empty() && !plugins::mcp::speaks_protocol_version(s.protocol))
              problem = "Scout does not speak protocol revision '" + s.protocol + "' (it speaks " +
                        plugins::mcp::spoken_protocol_versions() + "); leave it out to speak what the server speaks";
          } else if (name == "allow" || name == "deny") {
            problem = string_list_field(name == "allow" ? s.allow : s.deny)(v);
          } else if (name == "env" || name == "headers") {
            const auto* pairs = v.as_table();
            if (!pairs) {
              problem = name == "env" ? "expected a table of strings, e.g. env = { LOG_LEVEL = \"debug\" }"
                                      : "expected a table of strings, e.g. headers = { Authorization = \"Bearer ${TOKEN}\" }";
            } else {
              for (const auto& [ek, ev] : *pairs) {
                const auto* text = ev.as_string();
                const std::string where = "[[plugins.mcp]] " + name + "." + std::string(ek.str());
                if (!text) return at(ev, where + ": expected a string");
                auto expanded = expand_variables(text->get());
                if (!expanded) return at(ev, where + ": " + expanded.error().message);
                (name == "env" ? s.env : s.headers).emplace_back(std::string(ek.str()), *expanded);
              }
            }
          } else {
            return at(v, "unknown key '" + name +
                             "' in [[plugins.mcp]]; known keys: name, command, args, env, sandbox, sandbox_paths, sandbox_network, url, headers, oauth, oauth_client_id, "
                             "oauth_client_secret, oauth_redirect_port, protocol, allow, deny, timeout_s");
          }
          if (problem) return at(v, "[[plugins.mcp]] " + name + ": " + *problem);
        }
        if (s.name.empty() || s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                                  std::string::npos)
          return at(entry, "each [[plugins.mcp]] entry needs a name of letters, digits, '_' and '-' (its tools are "
                           "called NAME__TOOL)");
        if (s.command.empty() == s.url.empty())
          return at(entry, "[[plugins.mcp]] '" + s.name + "' needs either a command (a server started over stdio) or a url "
                           "(a Streamable HTTP server), not " + (s.url.empty() ? "neither" : "both"));
        if (!s.url.empty() && !(s.url.rfind("http://", 0) == 0 || s.url.rfind("https://", 0) == 0))
          return at(entry, "[[plugins.mcp]] '" + s.name + "' url must start with http:// or https://");
        if (!s.url.empty() && (!s.args.empty() || !s.env.empty()))
          return at(entry, "[[plugins.mcp]] '" + s.name + "': args and env belong to servers started with a command");
        if (!s.url.empty() && (s.sandbox || !s.sandbox_paths.empty() || s.sandbox_network))
          return at(entry, "[[plugins.mcp]] '" + s.name + "': the sandbox settings belong to servers started with a command");
        if (!s.sandbox && (!s.sandbox_paths.empty() || s.sandbox_network))
          return at(entry, "[[plugins.mcp]] '" + s.name + "': sandbox_paths and sandbox_network need sandbox = true");
        if (s.url.empty() && (s.oauth || !s.oauth_client_id.empty() || !s.oauth_client_secret.empty()))
          return at(entry, "[[plugins.mcp]] '" + s.name + "': OAuth belongs to servers reached by url");
        if (!s.oauth && (!s.oauth_client_id.empty() || !s.oauth_client_secret.empty() || s.oauth_redirect_port != 0))
          return at(entry, "[[plugins.mcp]] '" + s.name + "': the oauth_* settings need oauth = true");
        if (s.url.empty() && !s.headers.empty())
          return at(entry, "[[plugins.mcp]] '" + s.name + "': headers belong to servers reached by url");
        s.timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000));
        if (s.oauth) s.oauth_token_file = (default_state_dir(env_) / "mcp-oauth" / (s.name + ".json")).string();
        s.era_file = (default_state_dir(env_) / "mcp-era" / (s.name + ".json")).string();
        c.mcp_servers.push_back(std::move(s));
      }
    }
    return {};
  }

  // "${NAME}" in a value is replaced by the environment variable NAME (secrets such as tokens stay
  // out of the file); "$${" is a literal "${". An unset variable is an error naming it.
  Result<std::string> expand_variables(const std::string& text) const {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 2;
        continue;
      }
      if (text.compare(i, 2, "${") != 0) {
        out += text[i];
        continue;
      }
      const std::size_t end = text.find('}', i + 2);
      if (end == std::string::npos) return make_error("unterminated ${ (write $${ for a literal ${)");
      const std::string var = text.substr(i + 2, end - i - 2);
      // Not quoted: what sits between the braces may be the secret itself, pasted in by mistake.
      if (!valid_env_name(var))
        return make_error("${...} holds something other than an environment variable name (letters, digits and '_', "
                          "not starting with a digit); write $${ for a literal ${");
      const auto value = env_(var);
      if (!value) return make_error("the environment variable " + var + " is not set");
      out += *value;
      i = end;
    }
    return out;
  }

  // [[plugins.native]] entries: one `path` each.
  Result<void> read_native_plugins(const toml::node& node, Config& c, const fs::path& base_dir,
                                   const std::string& home) const {
    const auto* entries = node.as_array();
    if (!entries) return at(node, "plugins.native must be a list of [[plugins.native]] entries");
    for (const auto& entry : *entries) {
      const auto* plugin = entry.as_table();
      if (!plugin) return at(entry, "each [[plugins.native]] entry must be a table");
      fs::path path;
      for (const auto& [k, v] : *plugin) {
        const std::string name(k.str());
        if (name != "path") return at(v, "unknown key '" + name + "' in [[plugins.native]]; known keys: path");
        if (auto problem = path_field(path, base_dir, home)(v)) return at(v, "[[plugins.native]] path: " + *problem);
      }
      if (path.empty()) return at(entry, "each [[plugins.native]] entry needs a path (the plugin's .so file)");
      c.native_plugins.push_back(std::move(path));
    }
    return {};
  }

  Unexpected<Error> at(const toml::node& node, const std::string& message) const {
    return make_error(file_.string() + ":" + std::to_string(node.source().begin.line) + ": " + message);
  }

  fs::path file_;
  const EnvLookup& env_;
  fs::path model_path_;
};

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

fs::path default_config_path(const EnvLookup& env) {
  if (auto xdg = env("XDG_CONFIG_HOME"); xdg && fs::path(*xdg).is_absolute()) return fs::path(*xdg) / "scout" / "config.toml";
  if (auto home = env("HOME"); home && !home->empty()) return fs::path(*home) / ".config" / "scout" / "config.toml";
  return {};
}

fs::path default_state_dir(const EnvLookup& env) {
  if (auto xdg = env("XDG_STATE_HOME"); xdg && fs::path(*xdg).is_absolute()) return fs::path(*xdg) / "scout";
  return fs::path(env("HOME").value_or(".")) / ".local" / "state" / "scout";
}

fs::path default_trace_dir(const EnvLookup& env) { return default_state_dir(env) / "traces"; }

Result<Config> parse_config(std::string_view toml_text, const fs::path& file_name, const EnvLookup& env) {
  toml::table root;
  try {
    root = toml::parse(toml_text, file_name.string());
  } catch (const toml::parse_error& e) {
    return make_error(file_name.string() + ":" + std::to_string(e.source().begin.line) + ":" +
                      std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  return ConfigReader(file_name, env).read(root);
}

Result<Config> load_config(const std::optional<fs::path>& explicit_file, const EnvLookup& env) {
  fs::path file;
  if (explicit_file) {
    file = *explicit_file;
  } else {
    file = default_config_path(env);
    std::error_code ec;
    if (file.empty() || !fs::exists(file, ec)) return parse_config("", fs::path(), env);
  }
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return make_error("the config file " + file.string() + " does not exist");
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error("cannot read the config file " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), file, env);
}

SearchProviderChoice effective_search_provider(const Config& config) {
  if (config.search.provider != SearchProviderChoice::automatic) return config.search.provider;
  if (!config.secrets.brave_api_key.empty()) return SearchProviderChoice::brave;
  if (!config.secrets.tavily_api_key.empty()) return SearchProviderChoice::tavily;
  if (!config.search.searxng_url.empty()) return SearchProviderChoice::searxng;
  return SearchProviderChoice::offline;
}

const char* search_provider_name(SearchProviderChoice choice) {
  switch (choice) {
    case SearchProviderChoice::automatic: return "auto";
    case SearchProviderChoice::offline: return "offline";
    case SearchProviderChoice::searxng: return "searxng";
    case SearchProviderChoice::brave: return "brave";
    case SearchProviderChoice::tavily: return "tavily";
  }
  return "auto";
}

std::vector<std::string> secret_values(const Config& config) {
  std::vector<std::string> out;
  for (const std::string* s : {&config.secrets.brave_api_key, &config.secrets.tavily_api_key, &config.secrets.remote_api_key})
    if (!s->empty()) out.push_back(*s);
  return out;
}

}  // namespace scout::agent
