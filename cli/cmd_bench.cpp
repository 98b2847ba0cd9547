// scout bench: prompt processing (ppN) and decode (tgN) speed, measured as llama-bench measures
// them, so the two can be compared on the same file (bench/run_engine_bench.sh does).
//
//   ppN: N tokens read in one call from an empty context (batches of --batch tokens).
//   tgN: N tokens decoded one at a time from an empty context.
// Each test runs once to warm up, then --runs times; the median is reported. Token ids are a
// fixed pseudo-random sequence over the vocabulary (speed does not depend on them).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <fstream>
#include <memory>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/exit_codes.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/memory_bandwidth.h"

namespace scout::cli {
namespace {

struct BenchArgs {
  EngineArgs engine;
  int32_t n_prompt = 512;
  int32_t n_gen = 128;
  int runs = 3;
  bool json = false;
};

// Resident memory of this process from /proc/self/status, in bytes: file-backed (the mapped
// model) and anonymous (KV cache, activations, everything else), and the peak.
struct Resident {
  uint64_t file = 0, anon = 0, peak = 0;
};
Resident resident_memory() {
  Resident r;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    const auto kb = [&] { return std::strtoull(line.c_str() + line.find(':') + 1, nullptr, 10) * 1024; };
    if (line.starts_with("RssFile:")) r.file = kb();
    if (line.starts_with("RssAnon:")) r.anon = kb();
    if (line.starts_with("VmHWM:")) r.peak = kb();
  }
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

int run_bench(BenchArgs a) {
  auto model = load_model(a.engine);
  if (!model) {
    std::cerr << "scout bench: " << model.error().message << "\n";
    return kExitModelError;
  }
  const auto& hp = (*model)->hparams();
  if (a.engine.ctx == 0) a.engine.ctx = std::max(a.n_prompt, a.n_gen) + 1;
  auto session = make_session(*model, a.engine);
  if (!session) {
    std::cerr << "scout bench: " << session.error().message << "\n";
    return kExitUsage;
  }
  std::vector<int32_t> ids(static_cast<size_t>(std::max(a.n_prompt, a.n_gen)));
  uint64_t state = 0x9E3779B97F4A7C15ull;
  for (auto& id : ids) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<int32_t>((state >> 33) % hp.n_vocab);
  }
  const int threads = a.engine.threads > 0 ? a.engine.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  struct Test {
    std::string name;
    int32_t n_prompt, n_gen;
    std::vector<double> tokens_per_s;
  };
  std::vector<Test> tests;
  const bool progress = !a.json && isatty(STDERR_FILENO);
  if (a.n_prompt > 0) tests.push_back({"pp" + std::to_string(a.n_prompt), a.n_prompt, 0, {}});
  if (a.n_gen > 0) tests.push_back({"tg" + std::to_string(a.n_gen), 0, a.n_gen, {}});
  for (auto& test : tests) {
    for (int run = 0; run <= a.runs; ++run) {  // run 0 warms up
      (void)session->truncate(0);
      const auto start = std::chrono::steady_clock::now();
      if (test.n_prompt > 0) {
        if (auto ok = session->append(std::span(ids).first(static_cast<size_t>(test.n_prompt))); !ok) {
          std::cerr << "scout bench: " << ok.error().message << "\n";
          return kExitTaskFailed;
        }
      } else {
        for (int32_t i = 0; i < test.n_gen; ++i) (void)session->append(std::span(ids).subspan(static_cast<size_t>(i), 1));
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (run > 0) test.tokens_per_s.push_back((test.n_prompt + test.n_gen) / s);
      if (progress) std::cerr << "\r" << test.name << " run " << run << "/" << a.runs << std::flush;
    }
  }
  if (progress) std::cerr << "\r                    \r" << std::flush;
  // After the runs: the cache holds its longest test's K/V, and the model is mapped in.
  const Resident memory = resident_memory();
  const uint64_t kv_used = static_cast<uint64_t>(std::max(a.n_prompt, a.n_gen)) * session->kv_bytes_per_position();
  const double bandwidth = measure_read_bandwidth_gbs(threads);
  const double bytes_per_token = static_cast<double>((*model)->decode_bytes_per_token());
  double tg = 0;
  for (const auto& t : tests)
    if (t.n_gen > 0) tg = median(t.tokens_per_s);
  const double fraction = bandwidth > 0 ? tg * bytes_per_token / (bandwidth * 1e9) : 0;

  if (a.json) {
    nlohmann::json out = {
        {"model", (*model)->path()},
        {"arch", arch_name(hp.arch)},
        {"weight_type", ggml_type_name((*model)->dominant_type())},
        {"model_bytes", (*model)->weight_bytes()},
        {"n_params", hp.n_params()},
        {"threads", threads},
        {"isa", cpu_isa_name(cpu_isa())},
        {"memory_bandwidth_gbs", bandwidth},
        {"decode_bytes_per_token", bytes_per_token},
        {"decode_bandwidth_fraction", fraction},
        {"rss_file_bytes", memory.file},
        {"rss_anon_bytes", memory.anon},
        {"kv_cache_bytes", kv_used},
    };
    out["tests"] = nlohmann::json::array();
    for (const auto& t : tests)
      out["tests"].push_back({{"name", t.name},
                              {"n_prompt", t.n_prompt},
                              {"n_gen", t.n_gen},
                              {"runs_tokens_per_s", t.tokens_per_s},
                              {"median_tokens_per_s", median(t.tokens_per_s)}});
    std::cout << out.dump() << "\n";
    return kExitOk;
  }
  std::printf("model: %s (%s, %s, %.2f GiB, %.2f B params)\n", (*model)->path().c_str(),
              std::string(arch_name(hp.arch)).c_str(), std::string(ggml_type_name((*model)->dominant_type())).c_str(),
              static_cast<double>((*model)->weight_bytes()) / (1 << 30), static_cast<double>(hp.n_params()) / 1e9);
  std::printf("threads: %d, isa: %s, runs: %d\n", threads, std::string(cpu_isa_name(cpu_isa())).c_str(), a.runs);
  std::printf("%-8s %14s\n", "test", "tokens/s");
  for (const auto& t : tests) std::printf("%-8s %14.2f\n", t.name.c_str(), median(t.tokens_per_s));
  if (tg > 0)
    std::printf("decode reads %.1f MB of weights per token: %.1f GB/s, %.0f%% of the measured %.1f GB/s read bandwidth\n",
                bytes_per_token / 1e6, tg * bytes_per_token / 1e9, fraction * 100, bandwidth);
  std::printf("memory: %.1f MiB of the model mapped in, %.1f MiB anonymous (KV cache %.1f MiB, other %.1f MiB)\n",
              memory.file / 1048576.0, memory.anon / 1048576.0, kv_used / 1048576.0,
              (static_cast<double>(memory.anon) - static_cast<double>(kv_used)) / 1048576.0);
  return kExitOk;
}

}  // namespace

void register_bench(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Measure prompt processing and decode speed (like llama-bench)");
  add_engine_options(cmd, a->engine);
  cmd->add_option("-p,--n-prompt", a->n_prompt, "Prompt tokens for the ppN test (0: skip)")->capture_default_str()->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-n,--n-gen", a->n_gen, "Generated tokens for the tgN test (0: skip)")->capture_default_str()->check(CLI::Range(0, 1 << 20));
  cmd->add_option("-r,--runs", a->runs, "Measured runs per test (after one warm-up)")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_flag("--json", a->json, "Print one JSON object with every run");
  cmd->callback([a, &exit_code] { exit_code = run_bench(*a); });
}

}  // namespace scout::cli
