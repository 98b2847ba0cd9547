#include "plugins/native/native_plugin.h"

#include <dlfcn.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <optional>
#include <set>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json.h"
#include "plugins/native/scout_plugin.h"
#include "tools/registry/run_blocking.h"

namespace scout::plugins::native {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using tools::Json;
using tools::ToolOutput;

// The size of version 1's descriptor: a plugin's struct_size must cover at least this much.
constexpr std::size_t kAbi1DescriptorSize = offsetof(scout_plugin, free_result) + sizeof(scout_free_result_fn);

// nlohmann's strict dump refuses ill-formed UTF-8; that check is all that is wanted here.
bool is_utf8(const std::string& text) {
  try {
    (void)Json(text).dump();
    return true;
  } catch (const Json::type_error&) {
    return false;
  }
}

std::string dlerror_text() {
  const char* e = dlerror();
  return e ? e : "unknown dlopen error";
}

// An open dlopen handle and the descriptor the library returned; dlclose on destruction.
// Shared by the plugin's tools and by every call in flight, so the code stays mapped while
// anything may still run it.
class Library {
 public:
  explicit Library(void* handle) : handle_(handle) {}
  ~Library() { dlclose(handle_); }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  const scout_plugin& descriptor() const { return *descriptor_; }
  void set_descriptor(const scout_plugin* d) { descriptor_ = d; }

 private:
  void* handle_;
  const scout_plugin* descriptor_ = nullptr;
};

// What the tools of one plugin share. Members are destroyed bottom-up: the workers are joined
// first, so a call still running inside the plugin ends before the library can be closed.
struct PluginState {
  explicit PluginState(std::shared_ptr<Library> lib, NativePluginInfo i)
      : library(std::move(lib)), info(std::move(i)) {}
  std::shared_ptr<Library> library;
  NativePluginInfo info;
  asio::thread_pool workers{kNativeWorkerThreads};
};

// One C call's outcome, copied out of the plugin's memory (which is freed before this returns).
struct RawResult {
  std::string text;
  bool is_error = false;
  std::string fault;  // non-empty: the call gave no usable text (NULL, too long)
};

// Runs on a worker thread. Never throws: an exception would end the worker.
RawResult call_plugin(const Library& library, const std::string& tool, const std::string& arguments) noexcept {
  const scout_plugin& plugin = library.descriptor();
  int is_error = 0;
  char* result = plugin.invoke(tool.c_str(), arguments.c_str(), &is_error);
  RawResult out;
  out.is_error = is_error != 0;
  if (!result) {
    out.fault = "it returned NULL instead of a result";
    return out;
  }
  const std::size_t n = strnlen(result, SCOUT_PLUGIN_MAX_RESULT_BYTES + 1);
  if (n > SCOUT_PLUGIN_MAX_RESULT_BYTES) {
    out.fault = "its result is longer than " + std::to_string(SCOUT_PLUGIN_MAX_RESULT_BYTES >> 20) + " MiB";
  } else {
    try {
      out.text.assign(result, n);
    } catch (const std::bad_alloc&) {
      out.fault = "its result did not fit in memory";
    }
  }
  plugin.free_result(result);
  return out;
}

std::string malformed_text(const std::string& tool, const std::string& plugin, const std::string& why) {
  return "Tool '" + tool + "' failed: native plugin '" + plugin + "' broke its contract (" + why +
         "). This is a fault in the plugin, not in the arguments.";
}

class NativeTool final : public tools::Tool {
 public:
  NativeTool(std::shared_ptr<PluginState> plugin, std::string name, std::string description, Json schema)
      : plugin_(std::move(plugin)), name_(std::move(name)), description_(std::move(description)),
        schema_(std::move(schema)) {}

  std::string name() const override { return name_; }
  std::string description() const override { return description_; }
  Json parameters() const override { return schema_; }
  std::string origin() const override {
    return "native plugin '" + plugin_->info.name + "' (" + plugin_->info.path.string() + ")";
  }

  asio::awaitable<ToolOutput> invoke(Json arguments, tools::ToolContext) override {
    // The worker's copy of the library keeps it loaded until the C call has returned, even
    // when this coroutine has long moved on (cancelled).
    auto call = [library = plugin_->library, tool = name_,
                 args = arguments.dump(-1, ' ', false, Json::error_handler_t::replace)] {
      return call_plugin(*library, tool, args);
    };
    auto [ec, raw] = co_await tools::async_run_blocking(plugin_->workers.get_executor(), std::move(call),
                                                        asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted)
      co_return ToolOutput::failure("Tool '" + name_ + "' was cancelled; its result was discarded.",
                                    Json{{"cancelled", true}});
    if (ec || !raw) co_return ToolOutput::failure("Tool '" + name_ + "' failed: " + ec.message());
    if (!raw->fault.empty())
      co_return ToolOutput::failure(malformed_text(name_, plugin_->info.name, raw->fault),
                                    Json{{"plugin_fault", raw->fault}});
    co_return native_result_to_output(raw->text, raw->is_error, name_, plugin_->info.name);
  }

 private:
  std::shared_ptr<PluginState> plugin_;
  std::string name_;
  std::string description_;
  Json schema_;
};

// The reason a tool's parameters_schema is unusable, or nullopt.
std::optional<std::string> schema_problem(const char* text, Json& schema) {
  if (!text) return "has no parameters schema";
  const std::string source = text;
  if (!is_utf8(source)) return "has a parameters schema that is not UTF-8";
  auto parsed = parse_json<Json>(source);
  if (!parsed) return "has a parameters schema that is not valid JSON: " + parsed.error().message;
  schema = std::move(*parsed);
  if (!schema.is_object() || schema.value("type", Json()) != "object")
    return "has a parameters schema that is not a JSON object with \"type\": \"object\"";
  if (schema.contains("properties") && !schema["properties"].is_object())
    return "has a parameters schema whose \"properties\" is not an object";
  if (schema.contains("required")) {
    const Json& required = schema["required"];
    bool strings = required.is_array();
    for (const Json& r : required) strings = strings && r.is_string();
    if (!strings) return "has a parameters schema whose \"required\" is not an array of names";
  }
  return std::nullopt;
}

// Checks the descriptor and builds the tools; the reason for the first fault otherwise.
Result<NativePlugin> build_plugin(const fs::path& path, std::shared_ptr<Library> library) {
  auto fail = [&](const std::string& reason) { return make_error("native plugin " + path.string() + ": " + reason); };
  const scout_plugin& d = library->descriptor();
  if (d.abi_version != SCOUT_PLUGIN_ABI_VERSION)
    return make_error("native plugin " + path.string() + " was built for Scout plugin ABI " +
                      std::to_string(d.abi_version) + "; this Scout speaks ABI " +
                      std::to_string(SCOUT_PLUGIN_ABI_VERSION) +
                      " — rebuild it against this Scout's plugins/native/scout_plugin.h");
  if (d.struct_size < kAbi1DescriptorSize)
    return fail("its descriptor's struct_size is " + std::to_string(d.struct_size) + " bytes, less than the " +
                std::to_string(kAbi1DescriptorSize) + " of ABI version 1");
  if (!d.name || !*d.name || !is_utf8(d.name)) return fail("the descriptor has no name (a non-empty UTF-8 string)");
  if (d.version && !is_utf8(d.version)) return fail("its version is not UTF-8");
  if (!d.invoke) return fail("the descriptor has no invoke function");
  if (!d.free_result) return fail("the descriptor has no free_result function");
  if (d.tool_count == 0) return fail("it declares no tools");
  if (d.tool_count > SCOUT_PLUGIN_MAX_TOOLS)
    return fail("it declares " + std::to_string(d.tool_count) + " tools; at most " +
                std::to_string(SCOUT_PLUGIN_MAX_TOOLS) + " are allowed");
  if (!d.tools) return fail("it declares " + std::to_string(d.tool_count) + " tools but its tools array is NULL");

  NativePluginInfo info{path, d.name, d.version ? d.version : ""};
  auto state = std::make_shared<PluginState>(std::move(library), info);
  NativePlugin plugin{std::move(info), {}};
  std::set<std::string> seen;
  for (std::size_t i = 0; i < d.tool_count; ++i) {
    const scout_tool& t = d.tools[i];
    if (!t.name) return fail("tool #" + std::to_string(i + 1) + " has no name");
    const std::string name = t.name;
    if (!tools::is_valid_tool_name(name))
      return fail("tool #" + std::to_string(i + 1) + " has the name '" + name +
                  "', which is invalid: use 1 to 64 letters, digits, '_' or '-'");
    if (!seen.insert(name).second) return fail("two of its tools are named '" + name + "'");
    if (!t.description || !is_utf8(t.description)) return fail("tool '" + name + "' has no UTF-8 description");
    Json schema;
    if (auto problem = schema_problem(t.parameters_schema, schema)) return fail("tool '" + name + "' " + *problem);
    plugin.tools.push_back(std::make_shared<NativeTool>(state, name, t.description, std::move(schema)));
  }
  return plugin;
}

}  // namespace

Result<NativePlugin> load_native_plugin(const fs::path& path) {
  // dlopen searches the library path for a bare file name; a plugin path means this file.
  const fs::path file = path.has_parent_path() || path.is_absolute() ? path : fs::path(".") / path;
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return make_error("native plugin " + path.string() + ": cannot load it: " + dlerror_text());
  auto library = std::make_shared<Library>(handle);  // closes the handle on every return below

  dlerror();
  void* symbol = dlsym(handle, SCOUT_PLUGIN_ENTRY_NAME);
  if (!symbol)
    return make_error("native plugin " + path.string() + ": not a Scout plugin: it exports no " +
                      SCOUT_PLUGIN_ENTRY_NAME + " function (" + dlerror_text() + ")");
  const auto entry = reinterpret_cast<scout_plugin_entry_fn>(symbol);
  const scout_plugin* descriptor = entry();
  if (!descriptor)
    return make_error("native plugin " + path.string() + ": " + SCOUT_PLUGIN_ENTRY_NAME + "() returned NULL");
  library->set_descriptor(descriptor);
  return build_plugin(path, std::move(library));
}

std::vector<NativePluginInfo> add_native_plugins(const std::vector<fs::path>& paths, tools::Registry& registry,
                                                 const std::function<void(const std::string&)>& report) {
  std::vector<NativePluginInfo> loaded;
  for (const fs::path& path : paths) {
    auto plugin = load_native_plugin(path);
    if (!plugin) {
      report(plugin.error().message);
      continue;
    }
    for (auto& tool : plugin->tools) {
      const std::string name = tool->name();
      if (auto added = registry.add(std::move(tool)); !added)
        report("native plugin " + path.string() + ": tool '" + name + "' left out: " + added.error().message);
    }
    loaded.push_back(std::move(plugin->info));
  }
  return loaded;
}

ToolOutput native_result_to_output(std::string_view raw, bool is_error, const std::string& tool,
                                   const std::string& plugin) {
  auto malformed = [&](const std::string& why) {
    return ToolOutput::failure(malformed_text(tool, plugin, why), Json{{"plugin_fault", why}});
  };
  auto read = parse_json<Json>(raw);
  if (!read)
    return malformed(is_utf8(std::string(raw)) ? "its result is not JSON (" + read.error().message + ")"
                                               : "its result is not valid UTF-8");
  const Json& result = *read;
  if (!result.is_object()) return malformed("its result is not a JSON object");
  const auto text = result.find("text");
  if (text == result.end() || !text->is_string()) return malformed("its result has no string \"text\"");
  std::optional<Json> structured;
  if (const auto s = result.find("structured"); s != result.end() && !s->is_null()) structured = std::move(*s);
  std::string observation = text->get<std::string>();
  return is_error ? ToolOutput::failure(std::move(observation), std::move(structured))
                  : ToolOutput::success(std::move(observation), std::move(structured));
}

}  // namespace scout::plugins::native
