// scout synth: write a model file of a named architecture and shape, deterministic weights and
// a real vocabulary (see engine/synth/synth.h).
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "engine/synth/synth.h"

namespace scout::cli {
namespace {

struct SynthArgs {
  std::string preset = "tiny";
  std::string arch;  // empty: the preset's architecture, else qwen3moe
  std::string type = "f32";
  std::string tokenizer;
  std::string tokenizer_config;
  std::string vocab_keep;
  std::string out;
  uint64_t seed = 42;
  unsigned threads = 0;
  bool quiet = false;
  bool vocab_only = false;
  bool metadata_only = false;
  uint32_t layers = 0;
  std::string output_head;
  std::string rope_scaling;
  std::string kv_b;
};

int run_synth(const SynthArgs& a) {
  SynthOptions o;
  o.preset = a.preset;
  auto arch = a.arch.empty() ? preset_arch(a.preset).value_or(Arch::qwen3moe) : arch_from_name(a.arch);
  if (!arch) {
    std::cerr << "scout synth: unknown --arch '" << a.arch << "' (known: " << arch_names() << ")\n";
    return kExitUsage;
  }
  o.arch = *arch;
  if (!a.kv_b.empty()) o.mla_split_kv_b = a.kv_b == "split";
  auto type = ggml_type_from_name(a.type);
  if (!type) {
    std::cerr << "scout synth: unknown --type '" << a.type << "' (known: f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K)\n";
    return kExitUsage;
  }
  o.type = *type;
  o.tokenizer_path = a.tokenizer;
  o.tokenizer_config_path = a.tokenizer_config;
  o.seed = a.seed;
  o.threads = a.threads;
  o.vocab_only = a.vocab_only;
  o.metadata_only = a.metadata_only;
  if (a.layers) o.n_layer = a.layers;
  if (!a.output_head.empty()) o.tied_output = a.output_head == "tied";
  if (!a.rope_scaling.empty()) {
    // TYPE:FACTOR[:ORIGINAL_CONTEXT]
    const auto bad = [&] {
      std::cerr << "scout synth: --rope-scaling '" << a.rope_scaling
                << "' is not linear:FACTOR or yarn:FACTOR[:ORIGINAL_CONTEXT] (e.g. yarn:4:32768)\n";
      return kExitUsage;
    };
    const auto c1 = a.rope_scaling.find(':');
    if (c1 == std::string::npos) return bad();
    const std::string type = a.rope_scaling.substr(0, c1);
    const auto c2 = a.rope_scaling.find(':', c1 + 1);
    try {
      size_t used = 0;
      const std::string factor = a.rope_scaling.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
      o.rope_scaling_factor = std::stof(factor, &used);
      if (used != factor.size() || !(o.rope_scaling_factor > 0.0f)) return bad();
      if (c2 != std::string::npos) {
        const std::string ctx = a.rope_scaling.substr(c2 + 1);
        const unsigned long v = std::stoul(ctx, &used);
        if (used != ctx.size() || v == 0 || v > UINT32_MAX) return bad();
        o.rope_n_ctx_orig = static_cast<uint32_t>(v);
      }
    } catch (const std::exception&) {
      return bad();
    }
    if (type == "linear") {
      o.rope_scaling = ModelHparams::RopeScaling::linear;
    } else if (type == "yarn") {
      o.rope_scaling = ModelHparams::RopeScaling::yarn;
    } else {
      return bad();
    }
  }
  if (a.vocab_keep == "all") {
    o.vocab_regular = kKeepWholeVocab;
  } else if (!a.vocab_keep.empty()) {
    try {
      o.vocab_regular = std::stoull(a.vocab_keep);
    } catch (const std::exception&) {
      std::cerr << "scout synth: --vocab-keep takes a count or 'all', not '" << a.vocab_keep << "'\n";
      return kExitUsage;
    }
    if (o.vocab_regular == 0) {
      std::cerr << "scout synth: --vocab-keep must be at least 1\n";
      return kExitUsage;
    }
  }
  SynthProgress progress;
  if (!a.quiet && isatty(STDERR_FILENO))
    progress = [](size_t i, size_t n, const std::string& name) {
      std::fprintf(stderr, "\r[%zu/%zu] %-40s", i + 1, n, name.c_str());
      if (i + 1 == n) std::fprintf(stderr, "\n");
    };
  auto report = synth_model(o, a.out, progress);
  if (!report) {
    std::cerr << "scout synth: " << report.error().message << "\n";
    return report.error().writing_output ? kExitIoError : kExitModelError;
  }
  const auto& hp = report->hparams;
  const double mib = static_cast<double>(report->file_bytes) / (1024.0 * 1024.0);
  if (o.vocab_only) {
    std::printf("wrote %s: %s vocabulary only (no tensors), %u tokens, %.1f MiB\n", a.out.c_str(),
                std::string(arch_name(hp.arch)).c_str(), hp.n_vocab, mib);
    return kExitOk;
  }
  std::printf("wrote %s: %s %s, %s, %.3f B parameters, %u tokens, %.1f MiB\n", a.out.c_str(), a.preset.c_str(),
              std::string(arch_name(hp.arch)).c_str(), std::string(ggml_type_name(o.type)).c_str(),
              static_cast<double>(report->n_params) / 1e9, hp.n_vocab, mib);
  // Fallbacks grouped by the type used: a count and the first few names.
  std::map<std::string, std::vector<std::string>> by_type;
  for (const auto& [name, t] : report->fallbacks) by_type[std::string(ggml_type_name(t))].push_back(name);
  for (const auto& [t, names] : by_type) {
    std::printf("  %zu tensors stored as %s (rows not a whole number of %s blocks):", names.size(), t.c_str(),
                std::string(ggml_type_name(o.type)).c_str());
    for (size_t i = 0; i < names.size() && i < 3; ++i) std::printf(" %s", names[i].c_str());
    std::printf("%s\n", names.size() > 3 ? " ..." : "");
  }
  return kExitOk;
}

}  // namespace

void register_synth(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<SynthArgs>();
  auto* cmd = app.add_subcommand("synth", "Write a GGUF model with deterministic random weights and a real vocabulary");
  cmd->add_option("--preset", a->preset,
                  "tiny (tests, < 10 MB), small (~0.5 B), qwen3-30b-a3b (real shape); deepseek2: tiny-deepseek "
                  "(V3-like), tiny-deepseek-lite (V2-Lite-like), deepseek-v2-lite, deepseek-v3 (real shapes)")
      ->capture_default_str();
  cmd->add_option("--arch", a->arch, "qwen3moe, qwen3, qwen2, llama or deepseek2 (default: the preset's, else qwen3moe)");
  cmd->add_option("--kv-b", a->kv_b,
                  "deepseek2 attention tensors: split (attn_k_b and attn_v_b, as current conversions write) or "
                  "single (the older attn_kv_b); default split")
      ->check(CLI::IsMember({"split", "single"}));
  cmd->add_option("--type", a->type, "f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K")->capture_default_str();
  cmd->add_option("--tokenizer", a->tokenizer, "A Hugging Face tokenizer.json, or a .gguf to copy the vocabulary from")
      ->required();
  cmd->add_option("--tokenizer-config", a->tokenizer_config,
                  "tokenizer_config.json for BOS/EOS (default: the one beside tokenizer.json)");
  cmd->add_option("--vocab-keep", a->vocab_keep,
                  "Keep the first N regular tokens (plus all special tokens), or 'all' (default: 1024 for tiny, all otherwise)");
  cmd->add_option("--seed", a->seed, "Seed of the weights")->capture_default_str();
  cmd->add_option("-t,--threads", a->threads, "Threads (default: all cores)");
  cmd->add_option("-o,--output", a->out, "Output .gguf file")->required();
  cmd->add_flag("-q,--quiet", a->quiet, "No progress line");
  cmd->add_flag("--vocab-only", a->vocab_only, "Write the metadata and vocabulary without tensors (for tokenizing)");
  cmd->add_option("--layers", a->layers, "Block count instead of the preset's (e.g. a real shape cut short for a benchmark)")
      ->check(CLI::Range(1, 4096));
  cmd->add_flag("--metadata-only", a->metadata_only,
                "Write the metadata and tensor table without tensor data (for inspect --plan on shapes too large to "
                "write, e.g. deepseek-v3)");
  cmd->add_option("--output-head", a->output_head, "tied (logits from token_embd) or separate (output.weight); default: the preset's")
      ->check(CLI::IsMember({"tied", "separate"}));
  cmd->add_option("--rope-scaling", a->rope_scaling, "linear:FACTOR or yarn:FACTOR[:ORIGINAL_CONTEXT] (default: none)");
  cmd->callback([a, &exit_code] { exit_code = run_synth(*a); });
}

}  // namespace scout::cli
