// Setting up an agent run from the configuration and a command line's choices: the model
// backend (the local engine, or a remote OpenAI-compatible server) and the loop's options.
// `scout run` and the scout_run tool of `scout mcp-server` both set runs up here, so a task
// given to either runs the same way.
//
// Which backend: --remote, or neither -m nor [model] path but a [remote] url → remote; else the
// local model file (-m, or [model] path). Sampling defaults for the local model follow the model
// cards (Qwen3 thinking 0.6 / 0.95 / top-k 20, non-thinking 0.7 / 0.8 / 20; DeepSeek-R1 0.6 /
// 0.95; DeepSeek-V3 0.3).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "agent/backend.h"
#include "agent/config.h"
#include "agent/loop.h"
#include "common/expected.h"
#include "engine/models/model.h"

namespace scout::agent {

// What a command line may choose over the configuration. -1 or empty: the config's value.
struct RunChoices {
  // Local model.
  std::string model;   // a GGUF file; with remote_url, the model's name on the server
  std::string format;  // chat format of the local model
  int threads = -1;
  std::int32_t ctx = -1;
  float temperature = -1;
  float top_p = -1;
  std::int32_t top_k = -1;
  std::uint64_t seed = 0;
  // Remote model.
  std::string remote_url;
  // Budgets.
  int max_steps = -1;
  int max_tool_calls = -1;
  std::int64_t max_tokens = -1;
  double timeout_s = -1;
  // Reasoning.
  std::string effort;              // low | medium | high
  std::int32_t think_budget = -1;  // exact thinking tokens per turn
  bool no_thought_tools = false;
  bool no_think = false;
};

struct RunSetup {
  std::unique_ptr<Backend> backend;
  LoopOptions options;
};

struct SetupError {
  std::string message;
  bool usage = false;  // the choices are at fault (a bad --effort, a missing -m); else the config or the model
};

// Things worth telling the person running the task once (a retry of a remote request, an
// option the backend ignores). Empty: say nothing.
using SetupNotice = std::function<void(const std::string&)>;

// Model files loaded once and kept for later runs: the scout_run tool of `scout mcp-server`
// gives every call the same loaded model (its weights are read-only) and each call a backend of
// its own (its own context and cache), so calls after the first start at once. Thread-safe; a
// file being loaded is loaded once even when asked for twice at the same time.
class ModelCache {
 public:
  Result<std::shared_ptr<const Model>> load(const std::string& path);
  int files_read() const;  // how many loads read a file (the rest were kept ones)

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const Model>> models_;
  int files_read_ = 0;
};

// The backend and loop options for one run. Loads the local model when that is the backend
// (slow: seconds for a large file), through `models` when given. The backend runs on `executor`.
Expected<RunSetup, SetupError> prepare_run(asio::any_io_executor executor, const Config& config,
                                           const RunChoices& choices, SetupNotice notice = {},
                                           ModelCache* models = nullptr);

// Where a run's trace goes by default: [trace] dir (or default_trace_dir()) /
// run-YYYYMMDD-HHMMSS-PID[-SUFFIX].jsonl; empty when there is no such folder. A process that
// starts several runs a second gives each its own suffix.
std::string default_trace_path(const Config& config, std::string_view suffix = {});

}  // namespace scout::agent
