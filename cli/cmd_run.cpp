// scout run TASK: the agent. Plans with the reasoning model (local, or a remote
// OpenAI-compatible server), calls tools, and prints the answer.
#include <unistd.h>

#include <chrono>
#include <csignal>
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
#include "agent/loop.h"
#include "agent/run_setup.h"
#include "agent/toolset.h"
#include "plugins/mcp/elicitation.h"
#include "plugins/mcp/servers.h"
#include "plugins/native/native_plugin.h"
#include "cli/commands.h"
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
  agent::RunChoices choices;  // model, backend, budgets and reasoning over the config's
  // Tools (--tools narrows the built-in ones).
  std::string tools;
  bool tools_given = false;
  // Output.
  bool cite = false;
  bool hide_thinking = false;
  bool json = false;
  std::string trace_path;
  bool no_trace = false;
};

volatile std::sig_atomic_t g_second_interrupt = 0;

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

  agent::SetupNotice notice;
  if (!a.json) notice = [](const std::string& text) { std::cerr << "scout run: " << text << "\n"; };
  auto setup = agent::prepare_run(io.get_executor(), c, a.choices, notice);
  if (!setup) return fail(setup.error().message, setup.error().usage ? kExitUsage : kExitModelError);
  std::unique_ptr<agent::Backend> backend = std::move(setup->backend);
  const agent::LoopOptions options = setup->options;

  std::string trace_path = a.no_trace ? std::string() : (a.trace_path.empty() ? agent::default_trace_path(c) : a.trace_path);
  auto trace = agent::TraceWriter::open(trace_path, agent::secret_values(c));
  if (!trace) return fail(trace.error().message, kExitIoError);

  RunViewOptions view_options;
  view_options.json = a.json;
  view_options.cite = a.cite;
  view_options.show_thinking = !a.hide_thinking && !a.choices.no_think;
  view_options.stdout_is_tty = isatty(STDOUT_FILENO);
  view_options.stderr_is_tty = isatty(STDERR_FILENO);
  view_options.color = stderr_wants_color();
  RunView view(view_options, std::cout, std::cerr);

  // MCP servers from the config join the run's tools (--tools narrows the built-in ones only).
  // One that fails is reported and left out; the run goes on.
  std::vector<std::shared_ptr<plugins::mcp::McpClient>> mcp_clients;
  if (!c.mcp_servers.empty()) {
    // A server's questions (elicitation) go to the user at a terminal; a scripted run declines them.
    plugins::mcp::ClientOptions mcp_options;
    if (isatty(STDIN_FILENO) && isatty(STDERR_FILENO) && !a.json)
      mcp_options.on_elicitation = [](const std::string& server, const plugins::mcp::Json& params) {
        return plugins::mcp::ask_on_terminal(server, params, std::cin, std::cerr);
      };
    auto connected = run_on(io, plugins::mcp::connect_servers(io.get_executor(), c.mcp_servers, **registry,
                                                              [](const std::string& problem) {
                                                                std::cerr << "scout run: " << problem << "\n";
                                                              },
                                                              mcp_options));
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
  cmd->add_option("-m,--model", a->choices.model, "A local GGUF model file; with --remote, the model's name on the server");
  cmd->add_option("--format", a->choices.format, "Chat format of the local model: qwen3, deepseek-v3, deepseek-r1 (default: from the model file)");
  cmd->add_option("-t,--threads", a->choices.threads, "CPU threads for the local model (default: one per core)");
  cmd->add_option("-c,--ctx", a->choices.ctx, "Context size of the local model in tokens (default: [model] ctx)");
  cmd->add_option("--remote", a->choices.remote_url, "OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1 (-m names the model)");
  cmd->add_option("--temp", a->choices.temperature, "Sampling temperature (default: the model card's)");
  cmd->add_option("--top-p", a->choices.top_p, "Nucleus sampling mass (default: the model card's)");
  cmd->add_option("--top-k", a->choices.top_k, "Top-k sampling for the local model (default 20)");
  cmd->add_option("--seed", a->choices.seed, "Sampling seed for the local model")->capture_default_str();
  cmd->add_option("--tools", a->tools, "Comma-separated tools to offer (default: all; '' for none)")
      ->each([a](const std::string&) { a->tools_given = true; });
  cmd->add_option("--max-steps", a->choices.max_steps, "Model turns at most (default: [agent] max_steps)");
  cmd->add_option("--max-tool-calls", a->choices.max_tool_calls, "Tool calls at most (default: [agent] max_tool_calls)");
  cmd->add_option("--max-tokens", a->choices.max_tokens, "Generated tokens at most, thinking included (default: [agent] max_tokens)");
  cmd->add_option("--timeout", a->choices.timeout_s, "Wall-time budget in seconds (default: [agent] max_wall_s)");
  cmd->add_flag("--no-think", a->choices.no_think, "Use the model's non-thinking mode (Qwen3 enable_thinking=false)");
  cmd->add_option("--effort", a->choices.effort, "Reasoning effort: low, medium or high (thinking budgets of 1024, 4096 and 16384 tokens per turn)");
  cmd->add_option("--think-budget", a->choices.think_budget, "Thinking tokens per turn, exactly; then the thinking is closed and the model answers")
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_flag("--no-thought-tools", a->choices.no_thought_tools, "Do not let the model search, fetch or run code inside its thinking");
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
