// Tokens read per agent task: Scout's way (one Session per task, tool results appended, searches
// answered inside the thinking) against the naive way (the whole conversation prefilled again at
// every step, as a stateless server does), on the same model and the same 6-step task.
//
// The model's outputs are replayed through the real engine (LocalBackend::replay: each token is
// read one at a time like a sampled one), so both ways compute the same conversation; the tools
// are real (web_search over an offline index built here, run_code in the bubblewrap sandbox).
// Then three tasks run in one process on one backend, to show the shared system prompt and tool
// schemas being read once per process (prefix reuse).
//
//   scout_bench_agent_prefill --model FILE [--threads N] [--json]
//
// Prints, per way: steps, prefilled tokens, unique prompt tokens of the tasks (each task's final
// context minus its generated tokens, summed), their ratio, prefill time, model time (prefill +
// decode) and wall time (with the tools). Below 1.00 across tasks means the shared prefix (system
// prompt, tool schemas) was read once for all of them.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "agent/config.h"
#include "agent/local_backend.h"
#include "agent/loop.h"
#include "agent/toolset.h"
#include "tools/search/offline_index.h"

namespace fs = std::filesystem;
using namespace scout;
using namespace scout::agent;
using ojson = nlohmann::ordered_json;

namespace {

std::string call(const std::string& name, const ojson& arguments) {
  return "<tool_call>\n" + ojson{{"name", name}, {"arguments", arguments}}.dump() + "\n</tool_call><|im_end|>";
}

std::string print_lines(int n, const std::string& what) {
  return "for i in range(" + std::to_string(n) + "): print(f'" + what + " line {i}: the measured value is {i * 7}')";
}

// The six steps, as the model writes them (one entry per generation segment: a search inside the
// thinking splits a step in two).
std::deque<std::string> script() {
  return {
      "<think>\nThe task needs the docs first.\n<search>asyncio task group cancellation</search>",
      "\nThe index has it. Now measure.\n</think>\n\n" +
          call("run_code", {{"language", "python"}, {"code", print_lines(30, "first")}}),
      "<think>\nStep two: a second measurement.\n</think>\n\n" +
          call("run_code", {{"language", "python"}, {"code", print_lines(30, "second")}}),
      "<think>\nStep three: search the usual way.\n</think>\n\n" + call("web_search", {{"query", "timeouts in asyncio"}}),
      "<think>\nStep four.\n<search>structured concurrency exceptions</search>",
      "\nEnough reading.\n</think>\n\n" + call("run_code", {{"language", "python"}, {"code", print_lines(30, "third")}}),
      "<think>\nStep five: one more number.\n</think>\n\n" +
          call("run_code", {{"language", "python"}, {"code", print_lines(20, "fourth")}}),
      "<think>\nAll six steps done; answer.\n</think>\n\nTaskGroup cancels the remaining tasks when one fails.<|im_end|>",
  };
}

void write_corpus(const fs::path& dir) {
  fs::create_directories(dir);
  const char* topics[] = {"asyncio task group cancellation", "timeouts in asyncio", "structured concurrency exceptions",
                          "event loop policies", "subprocess transports", "queues and semaphores"};
  int n = 0;
  for (const char* topic : topics) {
    std::ofstream out(dir / ("doc" + std::to_string(n++) + ".md"));
    out << "# " << topic << "\n\n";
    for (int p = 0; p < 12; ++p)
      out << "Paragraph " << p << " about " << topic << ": when a task fails, the group cancels its siblings and "
          << "raises an exception group once every task has finished; timeouts wrap the awaited work.\n\n";
  }
}

struct WayResult {
  std::string way;
  int tasks = 0;
  int steps = 0;
  std::int64_t prefilled = 0;
  std::int64_t unique = 0;
  double prefill_ms = 0;  // reading prompts (time to each segment's first token)
  double model_ms = 0;    // prefill and decode
  double wall_ms = 0;     // with the tools
};

// Runs the scripted task `tasks` times in a row on one backend.
WayResult run_way(const std::string& way, const std::shared_ptr<const Model>& model, int threads, bool keep_cache,
                  int tasks, const tools::Registry& registry) {
  LocalBackendOptions options;
  options.session.n_ctx = 8192;
  options.sampling = SamplerConfig::greedy();
  options.keep_cache = keep_cache;
  auto backend = LocalBackend::create(model, make_cpu_ops(threads), ChatFormat(ChatFormat::Kind::qwen3), options);
  if (!backend) throw std::runtime_error(backend.error().message);
  WayResult w{way, tasks};
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < tasks; ++t) {
    (*backend)->replay(script());
    boost::asio::io_context io;
    TraceWriter trace = TraceWriter::disabled();
    LoopOptions loop_options;
    loop_options.system_prompt =
        "You are a careful research assistant. Check facts against the documentation before answering, run code to "
        "measure rather than guess, and keep answers short.";
    Loop loop(io.get_executor(), **backend, registry, loop_options, trace);
    RunResult r;
    boost::asio::co_spawn(io, loop.run("How does asyncio.TaskGroup handle a failing task? (task " +
                                       std::to_string(t + 1) + ")"),
                          [&](std::exception_ptr e, RunResult result) {
                            if (e) std::rethrow_exception(e);
                            r = std::move(result);
                          });
    io.run();
    if (r.status != RunStatus::answered) throw std::runtime_error("the scripted task did not finish: " + r.detail);
    w.steps += r.steps;
    w.prefilled += r.usage.prefilled_tokens;
    w.model_ms += r.usage.prompt_ms + r.usage.generate_ms;
    w.prefill_ms += r.usage.prompt_ms;
    // Unique prompt tokens: what the task's final context holds that the model did not write.
    w.unique += (*backend)->session().n_past() - r.usage.completion_tokens;
  }
  w.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path;
  int threads = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) model_path = argv[++i];
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--json") json = true;
    else {
      std::fprintf(stderr, "usage: %s --model FILE [--threads N] [--json]\n", argv[0]);
      return 2;
    }
  }
  if (model_path.empty()) {
    std::fprintf(stderr, "scout_bench_agent_prefill: give --model FILE (a qwen3/qwen3moe GGUF)\n");
    return 2;
  }
  try {
    auto model = Model::load(model_path);
    if (!model) throw std::runtime_error(model.error().message);
    const fs::path dir = fs::temp_directory_path() / ("scout-agent-prefill-" + std::to_string(::getpid()));
    write_corpus(dir / "docs");
    {
      auto index = OfflineIndex::create(dir / "index.sqlite");
      if (!index) throw std::runtime_error(index.error().message);
      auto files = find_indexable_files({dir / "docs"});
      if (!files || !index->add_files(*files, {})) throw std::runtime_error("indexing the corpus failed");
    }
    auto config = parse_config("[search]\nprovider = \"offline\"\nindex = \"" + (dir / "index.sqlite").string() + "\"\n",
                               dir / "config.toml", [](const std::string&) { return std::nullopt; });
    if (!config) throw std::runtime_error(config.error().message);
    auto registry = build_toolset(*config, std::vector<std::string>{"web_search", "run_code"});
    if (!registry) throw std::runtime_error(registry.error().message);

    std::vector<WayResult> rows{run_way("Scout (one Session per task)", *model, threads, true, 1, **registry),
                                run_way("naive (whole conversation every step)", *model, threads, false, 1, **registry),
                                run_way("Scout, 3 tasks in one process", *model, threads, true, 3, **registry),
                                run_way("naive, 3 tasks", *model, threads, false, 3, **registry)};
    fs::remove_all(dir);
    if (json) {
      ojson out = ojson::array();
      for (const auto& w : rows)
        out.push_back({{"way", w.way}, {"tasks", w.tasks}, {"steps", w.steps}, {"prefilled", w.prefilled},
                       {"unique", w.unique}, {"prefill_ms", w.prefill_ms}, {"model_ms", w.model_ms},
                       {"wall_ms", w.wall_ms}});
      std::cout << out.dump(2) << "\n";
    } else {
      std::printf("%-40s %5s %5s %10s %8s %7s %10s %10s %10s\n", "way", "tasks", "steps", "prefilled", "unique",
                  "ratio", "prefill ms", "model ms", "wall ms");
      for (const auto& w : rows)
        std::printf("%-40s %5d %5d %10lld %8lld %7.2f %10.0f %10.0f %10.0f\n", w.way.c_str(), w.tasks, w.steps,
                    static_cast<long long>(w.prefilled), static_cast<long long>(w.unique),
                    static_cast<double>(w.prefilled) / static_cast<double>(w.unique), w.prefill_ms, w.model_ms,
                    w.wall_ms);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scout_bench_agent_prefill: %s\n", e.what());
    return 1;
  }
  return 0;
}
