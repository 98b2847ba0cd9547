#include "agent/run_setup.h"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <sstream>

#include "agent/local_backend.h"
#include "agent/remote/openai_backend.h"

namespace scout::agent {

namespace {

Unexpected<SetupError> usage_error(std::string message) { return {SetupError{std::move(message), true}}; }
Unexpected<SetupError> config_error(std::string message) { return {SetupError{std::move(message), false}}; }

std::chrono::milliseconds seconds(double s) { return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000)); }

}  // namespace

Result<std::shared_ptr<const Model>> ModelCache::load(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (const auto it = models_.find(path); it != models_.end()) return it->second;
  auto model = Model::load(path);
  if (!model) return Unexpected{model.error()};
  ++files_read_;
  models_.emplace(path, *model);
  return *model;
}

int ModelCache::files_read() const {
  std::lock_guard lock(mutex_);
  return files_read_;
}

Expected<RunSetup, SetupError> prepare_run(asio::any_io_executor executor, const Config& c, const RunChoices& a,
                                           SetupNotice notice, ModelCache* models) {
  std::int32_t think_budget = a.think_budget;
  if (!a.effort.empty()) {
    const auto budget = think_budget_for_effort(a.effort);
    if (!budget) return usage_error(budget.error().message);
    if (think_budget < 0) think_budget = *budget;
  }

  RunSetup setup;
  bool instructions_in_user_turn = false;
  // --remote makes -m the server's model name; without either, the config decides.
  const bool remote = !a.remote_url.empty() || (a.model.empty() && c.model.path.empty() && !c.remote.url.empty());
  if (remote) {
    remote::OpenAiOptions o;
    o.base_url = a.remote_url.empty() ? c.remote.url : a.remote_url;
    o.model = a.remote_url.empty() || a.model.empty() ? c.remote.model : a.model;
    if (o.model.empty())
      return usage_error("--remote needs -m NAME, the model's name on the server (or [remote] model in the config)");
    o.api_key = c.secrets.remote_api_key;
    o.api_key_source = "the " + c.remote.api_key_env + " environment variable";
    o.request_timeout = seconds(c.remote.timeout_s);
    o.max_retries = c.remote.max_retries;
    using Continuation = remote::OpenAiOptions::Continuation;
    o.continuation = c.remote.continuation == "completions" ? Continuation::completions
                     : c.remote.continuation == "deepseek"  ? Continuation::deepseek
                                                            : Continuation::none;
    if (!c.remote.format.empty()) o.format = *ChatFormat::by_name(c.remote.format);
    if (o.continuation == Continuation::completions && !o.format)
      return config_error("[remote] continuation = \"completions\" needs [remote] format (the served model's chat format)");
    if (a.temperature >= 0) o.temperature = a.temperature;
    if (a.top_p >= 0) o.top_p = a.top_p;
    if (!a.effort.empty()) o.reasoning_effort = a.effort;
    if (a.think_budget >= 0 && notice)
      notice(std::string("--think-budget is enforced by the local engine only; the server decides how long its model "
                         "thinks") +
             (a.effort.empty() ? "" : " (--effort is sent as reasoning_effort)"));
    if (notice)
      o.on_retry = [notice](const remote::RetryNotice& n) {
        std::ostringstream text;
        text << n.reason << "; retry " << n.attempt << " of " << n.max_retries << " in " << n.delay.count() / 1000.0
             << " s";
        notice(text.str());
      };
    setup.backend = std::make_unique<remote::OpenAiBackend>(executor, std::move(o));
  } else {
    const std::string path = a.model.empty() ? c.model.path : a.model;
    if (path.empty())
      return usage_error(
          "no model: give -m MODEL.gguf, or --remote URL --model NAME (or set [model] path or [remote] url in the "
          "config)");
    auto model = models ? models->load(path) : Model::load(path);
    if (!model) return config_error(model.error().message);
    auto format = chat_format_for(**model, a.format.empty() ? c.model.format : a.format);
    if (!format) return usage_error(format.error().message);
    LocalBackendOptions o;
    o.session.n_ctx = a.ctx >= 0 ? a.ctx : c.model.ctx;
    const bool r1 = format->kind() == ChatFormat::Kind::deepseek_r1;
    const bool v3 = format->kind() == ChatFormat::Kind::deepseek_v3;
    const bool no_think_sampling = a.no_think && !r1;  // R1 has no non-thinking mode
    o.sampling.temperature = a.temperature >= 0 ? a.temperature : (v3 ? 0.3f : no_think_sampling ? 0.7f : 0.6f);
    o.sampling.top_p = a.top_p >= 0 ? a.top_p : (v3 ? 1.0f : no_think_sampling ? 0.8f : 0.95f);
    o.sampling.top_k = a.top_k >= 0 ? a.top_k : (v3 || r1 ? 0 : 20);
    // R1's card: no system prompt, every instruction in the user turn.
    instructions_in_user_turn = r1;
    o.sampling.min_p = 0.0f;
    o.sampling.seed = a.seed;
    auto local = LocalBackend::create(*model, make_cpu_ops(a.threads >= 0 ? a.threads : c.model.threads), *format, o);
    if (!local) return config_error(local.error().message);
    setup.backend = std::move(*local);
  }

  LoopOptions& options = setup.options;
  options.budgets.max_steps = a.max_steps > 0 ? a.max_steps : c.agent.max_steps;
  options.budgets.max_tool_calls = a.max_tool_calls >= 0 ? a.max_tool_calls : c.agent.max_tool_calls;
  options.budgets.max_generated_tokens = a.max_tokens > 0 ? a.max_tokens : c.agent.max_tokens;
  options.budgets.max_wall = seconds(a.timeout_s > 0 ? a.timeout_s : c.agent.max_wall_s);
  options.max_result_chars = c.agent.max_result_chars;
  options.tool_timeout = seconds(c.agent.tool_timeout_s);
  options.max_parallel_tools = c.agent.parallel_tools ? 4 : 1;
  options.enable_thinking = !a.no_think;
  options.thought_tools = !a.no_thought_tools && c.agent.thought_tools;
  options.thought_result_chars = c.agent.thought_result_chars;
  options.think_budget = think_budget;
  options.instructions_in_user_turn = instructions_in_user_turn;
  return setup;
}

std::string default_trace_path(const Config& config, std::string_view suffix) {
  const std::filesystem::path dir =
      config.trace.dir.empty() ? default_trace_dir(process_environment()) : config.trace.dir;
  if (dir.empty()) return {};
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  std::string name = "run-" + std::string(stamp) + "-" + std::to_string(getpid());
  if (!suffix.empty()) name += "-" + std::string(suffix);
  return (dir / (name + ".jsonl")).string();
}

}  // namespace scout::agent
