// Native tool plugins: shared libraries speaking the C ABI of plugins/native/scout_plugin.h,
// loaded with dlopen and exposed as registry Tools beside the built-in and MCP ones.
//
//   load_native_plugin(path)          dlopen, find SCOUT_PLUGIN_ENTRY, check the ABI version
//        |                            and every tool; any fault is an Error naming the path
//        v
//   NativePlugin (shared)             the dlopen handle + descriptor + a worker pool
//        ^  ^
//        |  +--- NativeTool "b"       each tool holds the plugin; invoke runs the C call on
//        +------ NativeTool "a"       the plugin's workers (async_run_blocking)
//
// Ownership: the library stays loaded while any of its tools or any call in flight holds it;
// the last holder closes it (dlclose). Destroying the last tool first waits for the plugin's
// workers, so a call that was cancelled but still runs inside the plugin ends before the
// library is unloaded. Hence a registry holding native tools must not be destroyed from one of
// those workers (it never is: tools are dropped on the caller's executor).
//
// Calls: the executor is never blocked. When a call is cancelled or its deadline passes the
// coroutine resumes at once; the C call runs on to its end on its worker, its result is freed
// unread. The io_context that ran invoke must outlive that call (run() does not return before
// it has ended, as for run_code). Calls beyond kNativeWorkerThreads at once queue.
//
// Results: see "RESULT FORMAT" in scout_plugin.h. A result that breaks it (NULL, not UTF-8 JSON,
// no "text") becomes an error output telling the model the tool failed.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "tools/registry/registry.h"
#include "tools/registry/tool.h"

namespace scout::plugins::native {

// Worker threads per plugin: how many of its calls run at once.
inline constexpr int kNativeWorkerThreads = 4;

// What a plugin says about itself, checked at load.
struct NativePluginInfo {
  std::filesystem::path path;  // as given to load_native_plugin
  std::string name;
  std::string version;         // "" when the plugin gives none
};

// One loaded plugin: its tools, ready to add to a registry. The tools keep the library loaded;
// this value may be dropped once they are registered.
struct NativePlugin {
  NativePluginInfo info;
  std::vector<std::shared_ptr<tools::Tool>> tools;
};

// Loads the library at `path` and checks it against the rules in scout_plugin.h. Every fault is
// an Error naming the path and the reason (dlerror's text for a library that will not load).
Result<NativePlugin> load_native_plugin(const std::filesystem::path& path);

// Loads each plugin and adds its tools to `registry`. A plugin that fails to load is reported
// through `report` ("native plugin PATH: reason") and skipped, and so is each tool the registry
// refuses (its name is taken); the rest are added. Returns the plugins loaded, in order.
std::vector<NativePluginInfo> add_native_plugins(const std::vector<std::filesystem::path>& paths,
                                                 tools::Registry& registry,
                                                 const std::function<void(const std::string&)>& report);

// The output for a plugin's raw result (see scout_plugin.h, RESULT FORMAT): `raw` is the text
// invoke returned, `is_error` what it set. `tool` and `plugin` name the source in messages for
// a malformed result. Exposed for tests.
tools::ToolOutput native_result_to_output(std::string_view raw, bool is_error, const std::string& tool,
                                          const std::string& plugin);

}  // namespace scout::plugins::native
