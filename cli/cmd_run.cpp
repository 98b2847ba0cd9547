// scout run TASK: the agent. Plans with the reasoning model (local, or a remote
// OpenAI-compatible server), calls tools, and prints the answer.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include "agent/config.h"
#include "agent/local_backend.h"
#include "agent/loop.h"
#include "agent/remote/openai_backend.h"
#include "agent/toolset.h"
#include "plugins/mcp/servers.h"
#include "plugins/native/native_plugin.h"
#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/exit_codes.h"
#include "cli/run_on.h"
#include "cli/run_view.h"

namespace scout::cli {

namespace {

namespace asio = boost::asio;
using ojson = nlohmann::ordered_json;

struct RunArgs {
  std::string task;
  std::string task_file;
  std::string config_path;
  // Local model.
  std::string model;
  std::string format;
  int threads = -1;
  int32_t ctx = -1;
  float temperature = -1;
  float top_p = -1;
  int32_t top_k = -1;
  uint64_t seed = 0;
  // Remote model (-m then names the model on the server).
  std::string remote_url;
  // Tools and budgets (-1: the config's value).
  std::string tools;
  bool tools_given = false;
  int max_steps = -1;
  int max_tool_calls = -1;
  int64_t max_tokens = -1;
  double timeout_s = -1;
  // Reasoning.
  std::string effort;           // low | medium | high
  int32_t think_budget = -1;    // exact thinking tokens per turn
  bool no_thought_tools = false;
  // Output.
  bool cite = false;
  bool no_think = false;
  bool hide_thinking = false;
  bool json = false;
  std::string trace_path;
  bool no_trace = false;
};

volatile std::sig_atomic_t g_second_interrupt = 0;

std::string default_trace_file(const agent::Config& config) {
  std::filesystem::path dir = config.trace.dir.empty() ? agent::default_trace_dir(agent::process_environment())
                                                       : config.trace.dir;
  if (dir.empty()) return {};
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  return (dir / ("run-" + std::string(stamp) + "-" + std::to_string(getpid()) + ".jsonl")).string();
}

ojson sources_json(const std::vector<agent::Source>& sources) {
  ojson out = ojson::array();
  for (const auto& s : sources) out.push_back({{"url", s.url}, {"title", s.title}});
  return out;
}

// JSON result for --json.
ojson result_json(const agent::RunResult& r, const std::string& backend, const std::string& trace) {
  return ojson{{"status", agent::run_status_name(r.status)},
               {"answer", r.answer},
               {"detail", r.detail},
               {"steps", r.steps},
               {"tool_calls", r.tool_calls},
               {"thought_calls", r.thought_calls},
               {"sources", sources_json(r.sources)},
               {"usage",
                {{"prompt_tokens", r.usage.prompt_tokens},
                 {"prefilled_tokens", r.usage.prefilled_tokens},
                 {"completion_tokens", r.usage.completion_tokens},
                 {"reasoning_tokens", r.usage.reasoning_tokens}}},
               {"wall_s", r.wall_ms / 1000.0},
               {"backend", backend},
               {"trace", trace.empty() ? ojson(nullptr) : ojson(trace)}};
}

int exit_code_for(agent::RunStatus status) {
  switch (status) {
    case agent::RunStatus::answered: return kExitOk;
    case agent::RunStatus::cancelled: return kExitInterrupted;
    case agent::RunStatus::backend_error: return kExitBackend;
    default: return kExitTaskFailed;
  }
}

int run_task(RunArgs& a) {
  auto fail = [](const std::string& message, int code) {
    std::cerr << "scout run: " << message << "\n";
    return code;
  };
  if (!a.task_file.empty()) {
    std::ifstream in(a.task_file, std::ios::binary);
    if (!in) return fail(a.task_file + ": cannot open the task file", kExitModelError);
    std::ostringstream text;
    text << in.rdbuf();
    a.task = text.str();
  }
  if (a.task.empty()) return fail("no task: give it as an argument, or with --task-file FILE", kExitUsage);

  auto config = agent::load_config(a.config_path.empty() ? std::nullopt
                                                         : std::optional<std::filesystem::path>(a.config_path));
  if (!config) return fail(config.error().message, kExitModelError);
  agent::Config& c = *config;

  std::optional<std::vector<std::string>> selection;
  if (a.tools_given) {
    auto parsed = agent::parse_tool_selection(a.tools);
    if (!parsed) return fail(parsed.error().message, kExitUsage);
    selection = *parsed;
  }
  // Declared before the registry: MCP tools in the registry hold connections whose pipes belong
  // to this io_context, and a cancelled native call still ends on it, so it must be destroyed
  // after them.
  asio::io_context io;
  auto registry = agent::build_toolset(c, selection);
  if (!registry) return fail(registry.error().message, kExitModelError);

  int32_t think_budget = a.think_budget;
  if (!a.effort.empty()) {
    const auto budget = agent::think_budget_for_effort(a.effort);
    if (!budget) return fail(budget.error().message, kExitUsage);
    if (think_budget < 0) think_budget = *budget;
  }

  std::unique_ptr<agent::Backend> backend;
  bool instructions_in_user_turn = false;
  // --remote makes -m the server's model name; without either, the config decides.
  const bool remote = !a.remote_url.empty() || (a.model.empty() && c.model.path.empty() && !c.remote.url.empty());
  if (remote) {
    agent::remote::OpenAiOptions o;
    o.base_url = a.remote_url.empty() ? c.remote.url : a.remote_url;
    o.model = a.remote_url.empty() || a.model.empty() ? c.remote.model : a.model;
    if (o.model.empty()) return fail("--remote needs -m NAME, the model's name on the server (or [remote] model in the config)", kExitUsage);
    o.api_key = c.secrets.remote_api_key;
    o.api_key_source = "the " + c.remote.api_key_env + " environment variable";
    o.request_timeout = std::chrono::milliseconds(static_cast<int64_t>(c.remote.timeout_s * 1000));
    o.max_retries = c.remote.max_retries;
    using Continuation = agent::remote::OpenAiOptions::Continuation;
    o.continuation = c.remote.continuation == "completions" ? Continuation::completions
                     : c.remote.continuation == "deepseek"  ? Continuation::deepseek
                                                            : Continuation::none;
    if (!c.remote.format.empty()) o.format = *agent::ChatFormat::by_name(c.remote.format);
    if (o.continuation == Continuation::completions && !o.format)
      return fail("[remote] continuation = \"completions\" needs [remote] format (the served model's chat format)",
                  kExitModelError);
    if (a.temperature >= 0) o.temperature = a.temperature;
    if (a.top_p >= 0) o.top_p = a.top_p;
    if (!a.effort.empty()) o.reasoning_effort = a.effort;
    if (a.think_budget >= 0 && !a.json)
      std::cerr << "scout run: --think-budget is enforced by the local engine only; the server decides how long "
                   "its model thinks"
                << (a.effort.empty() ? "" : " (--effort is sent as reasoning_effort)") << "\n";
    if (!a.json)
      o.on_retry = [](const agent::remote::RetryNotice& n) {
        std::cerr << "scout run: " << n.reason << "; retry " << n.attempt << " of " << n.max_retries << " in "
                  << n.delay.count() / 1000.0 << " s\n";
      };
    backend = std::make_unique<agent::remote::OpenAiBackend>(io.get_executor(), std::move(o));
  } else {
    const std::string path = a.model.empty() ? c.model.path : a.model;
    if (path.empty())
      return fail("no model: give -m MODEL.gguf, or --remote URL --model NAME (or set [model] path or [remote] url "
                  "in the config)",
                  kExitUsage);
    auto model = Model::load(path);
    if (!model) return fail(model.error().message, kExitModelError);
    auto format = agent::chat_format_for(**model, a.format.empty() ? c.model.format : a.format);
    if (!format) return fail(format.error().message, kExitUsage);
    agent::LocalBackendOptions o;
    o.session.n_ctx = a.ctx >= 0 ? a.ctx : c.model.ctx;
    // Sampling from the model cards: Qwen3 thinking 0.6 / 0.95 / top-k 20, non-thinking 0.7 / 0.8 / 20;
    // DeepSeek-R1 0.6 / 0.95 (R1 has no non-thinking mode); DeepSeek-V3 0.3 (its API's default).
    const bool r1 = format->kind() == agent::ChatFormat::Kind::deepseek_r1;
    const bool v3 = format->kind() == agent::ChatFormat::Kind::deepseek_v3;
    const bool no_think_sampling = a.no_think && !r1;
    o.sampling.temperature = a.temperature >= 0 ? a.temperature : (v3 ? 0.3f : no_think_sampling ? 0.7f : 0.6f);
    o.sampling.top_p = a.top_p >= 0 ? a.top_p : (v3 ? 1.0f : no_think_sampling ? 0.8f : 0.95f);
    o.sampling.top_k = a.top_k >= 0 ? a.top_k : (v3 || r1 ? 0 : 20);
    // R1's card: no system prompt, every instruction in the user turn.
    instructions_in_user_turn = r1;
    o.sampling.min_p = 0.0f;
    o.sampling.seed = a.seed;
    auto local = agent::LocalBackend::create(*model, make_cpu_ops(a.threads >= 0 ? a.threads : c.model.threads),
                                             *format, o);
    if (!local) return fail(local.error().message, kExitModelError);
    backend = std::move(*local);
  }

  agent::LoopOptions options;
  options.budgets.max_steps = a.max_steps > 0 ? a.max_steps : c.agent.max_steps;
  options.budgets.max_tool_calls = a.max_tool_calls >= 0 ? a.max_tool_calls : c.agent.max_tool_calls;
  options.budgets.max_generated_tokens = a.max_tokens > 0 ? a.max_tokens : c.agent.max_tokens;
  const double wall_s = a.timeout_s > 0 ? a.timeout_s : c.agent.max_wall_s;
  options.budgets.max_wall = std::chrono::milliseconds(static_cast<int64_t>(wall_s * 1000));
  options.max_result_chars = c.agent.max_result_chars;
  options.tool_timeout = std::chrono::milliseconds(static_cast<int64_t>(c.agent.tool_timeout_s * 1000));
  options.max_parallel_tools = c.agent.parallel_tools ? 4 : 1;
  options.enable_thinking = !a.no_think;
  options.thought_tools = !a.no_thought_tools && c.agent.thought_tools;
  options.thought_result_chars = c.agent.thought_result_chars;
  options.think_budget = think_budget;
  options.instructions_in_user_turn = instructions_in_user_turn;

  std::string trace_path = a.no_trace ? std::string() : (a.trace_path.empty() ? default_trace_file(c) : a.trace_path);
  auto trace = agent::TraceWriter::open(trace_path, agent::secret_values(c));
  if (!trace) return fail(trace.error().message, kExitIoError);

  RunViewOptions view_options;
  view_options.json = a.json;
  view_options.cite = a.cite;
  view_options.show_thinking = !a.hide_thinking && !a.no_think;
  view_options.stdout_is_tty = isatty(STDOUT_FILENO);
  view_options.stderr_is_tty = isatty(STDERR_FILENO);
  view_options.color = stderr_wants_color();
  RunView view(view_options, std::cout, std::cerr);

  // MCP servers from the config join the run's tools (--tools narrows the built-in ones only).
  // One that fails is reported and left out; the run goes on.
  std::vector<std::shared_ptr<plugins::mcp::McpClient>> mcp_clients;
  if (!c.mcp_servers.empty()) {
    auto connected = run_on(io, plugins::mcp::connect_servers(io.get_executor(), c.mcp_servers, **registry,
                                                              [](const std::string& problem) {
                                                                std::cerr << "scout run: " << problem << "\n";
                                                              }));
    if (connected) mcp_clients = std::move(*connected);
  }
  // Native plugins' tools join them likewise; one that cannot be loaded is reported and skipped.
  plugins::native::add_native_plugins(c.native_plugins, **registry, [](const std::string& problem) {
    std::cerr << "scout run: " << problem << "\n";
  });

  agent::Loop loop(io.get_executor(), *backend, **registry, options, *trace,
                   [&view](const agent::LoopEvent& e) { view.on_event(e); });

  // Ctrl-C stops the model and the tools in flight; the run then ends cleanly with its trace.
  // A second Ctrl-C leaves at once.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool interrupted = false;
  std::function<void()> arm = [&] {
    signals.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      if (interrupted) std::_Exit(kExitInterrupted);
      interrupted = true;
      loop.stop(agent::RunStatus::cancelled, "interrupted");
      arm();
    });
  };
  arm();

  std::optional<agent::RunResult> result;
  std::exception_ptr failure;
  // The MCP servers are shut down with the run, which also ends their background reads.
  auto run_then_close = [](agent::Loop& loop, std::string task,
                           std::vector<std::shared_ptr<plugins::mcp::McpClient>>& clients) -> asio::awaitable<agent::RunResult> {
    agent::RunResult r = co_await loop.run(std::move(task));
    for (auto& client : clients) co_await client->close();
    co_return r;
  };
  asio::co_spawn(io, run_then_close(loop, a.task, mcp_clients), [&](std::exception_ptr e, agent::RunResult r) {
    failure = e;
    result = std::move(r);
    signals.cancel();
  });
  io.run();
  if (failure || !result) return fail("the run ended unexpectedly (internal error)", kExitTaskFailed);

  view.finish(*result, trace->path());
  if (!trace->failed().empty()) std::cerr << "scout run: " << trace->failed() << "\n";
  if (a.json) {
    std::cout << result_json(*result, backend->describe(), trace->path()).dump(-1, ' ', false,
                                                                               ojson::error_handler_t::replace)
              << "\n";
    std::cout.flush();
  }
  if (!std::cout) return kExitIoError;
  return exit_code_for(result->status);
}

}  // namespace

void register_run(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Complete a task with the agent: think, search, fetch, run code, answer");
  auto* task = cmd->add_option("TASK", a->task, "What to do (or --task-file)");
  cmd->add_option("--task-file", a->task_file, "Read the task from a file")->excludes(task);
  cmd->add_option("--config", a->config_path, "Config file (default: ~/.config/scout/config.toml when present)");
  cmd->add_option("-m,--model", a->model, "A local GGUF model file; with --remote, the model's name on the server");
  cmd->add_option("--format", a->format, "Chat format of the local model: qwen3, deepseek-v3, deepseek-r1 (default: from the model file)");
  cmd->add_option("-t,--threads", a->threads, "CPU threads for the local model (default: one per core)");
  cmd->add_option("-c,--ctx", a->ctx, "Context size of the local model in tokens (default: [model] ctx)");
  cmd->add_option("--remote", a->remote_url, "OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (-m names the model)");
  cmd->add_option("--temp", a->temperature, "Sampling temperature (default: the model card's)");
  cmd->add_option("--top-p", a->top_p, "Nucleus sampling mass (default: the model card's)");
  cmd->add_option("--top-k", a->top_k, "Top-k sampling for the local model (default 20)");
  cmd->add_option("--seed", a->seed, "Sampling seed for the local model")->capture_default_str();
  cmd->add_option("--tools", a->tools, "Comma-separated tools to offer (default: all; '' for none)")
      ->each([a](const std::string&) { a->tools_given = true; });
  cmd->add_option("--max-steps", a->max_steps, "Model turns at most (default: [agent] max_steps)");
  cmd->add_option("--max-tool-calls", a->max_tool_calls, "Tool calls at most (default: [agent] max_tool_calls)");
  cmd->add_option("--max-tokens", a->max_tokens, "Generated tokens at most, thinking included (default: [agent] max_tokens)");
  cmd->add_option("--timeout", a->timeout_s, "Wall-time budget in seconds (default: [agent] max_wall_s)");
  cmd->add_flag("--no-think", a->no_think, "Use the model's non-thinking mode (Qwen3 enable_thinking=false)");
  cmd->add_option("--effort", a->effort, "Reasoning effort: low, medium or high (thinking budgets of 1024, 4096 and 16384 tokens per turn)");
  cmd->add_option("--think-budget", a->think_budget, "Thinking tokens per turn, exactly; then the thinking is closed and the model answers")
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_flag("--no-thought-tools", a->no_thought_tools, "Do not let the model search, fetch or run code inside its thinking");
  cmd->add_flag("--cite", a->cite, "After the answer, list the sources the run read (search hits, fetched pages)");
  cmd->add_flag("--hide-thinking", a->hide_thinking, "Let the model think, but do not show its thinking");
  cmd->add_flag("--json", a->json, "Print one JSON object (status, answer, usage, trace) instead of streaming");
  cmd->add_option("--trace", a->trace_path, "Write the JSONL trace here (default: [trace] dir)");
  cmd->add_flag("--no-trace", a->no_trace, "Do not write a trace");
  cmd->footer(
      "Exit codes: 0 answered; 1 no answer (step, token, tool-call or time budget spent, turn too long, context "
      "full); 2 usage; 3 model, config or task file error; 4 output or trace I/O error; 5 the model backend failed "
      "(server unreachable, key refused); 130 interrupted.");
  cmd->callback([a, &exit_code] { exit_code = run_task(*a); });
}

}  // namespace scout::cli
