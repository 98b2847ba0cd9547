#include "cli/engine_args.h"

#include "kernels/cpu/cpu_features.h"

namespace scout::cli {

void add_engine_options(CLI::App* cmd, EngineArgs& a) {
  cmd->add_option("-m,--model", a.model, "GGUF model file")->required();
  cmd->add_option("-t,--threads", a.threads, "Threads (default: one per core)")->check(CLI::Range(0, 1024));
  cmd->add_option("-c,--ctx", a.ctx, "Context size in tokens (default: min(training context, 4096))")
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_option("-b,--batch", a.batch, "Tokens per forward pass while reading a prompt")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--kv-type", a.kv_type, "KV cache element type")->capture_default_str()->check(CLI::IsMember({"f16", "f32"}));
  cmd->add_option("--isa", a.isa, "SIMD level: portable, avx2, avx512 (default: the best the CPU has)")
      ->check(CLI::IsMember({"portable", "avx2", "avx512"}));
  cmd->add_option("--mla", a.mla,
                  "deepseek2 attention: absorbed (attend over the cached latent), naive (decompress per-head K and "
                  "V), or auto (naive for batches of 256 tokens or more, absorbed otherwise)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "absorbed", "naive"}));
}

Result<std::shared_ptr<const Model>> load_model(const EngineArgs& a) {
  if (!a.isa.empty()) set_cpu_isa(*cpu_isa_from_name(a.isa));
  return Model::load(a.model);
}

Result<Session> make_session(std::shared_ptr<const Model> model, const EngineArgs& a) {
  SessionOptions o;
  o.n_ctx = a.ctx;
  o.n_batch = a.batch;
  o.kv_type = a.kv_type == "f32" ? KvType::f32 : KvType::f16;
  o.mla_attention = a.mla == "naive" ? MlaAttention::naive : a.mla == "absorbed" ? MlaAttention::absorbed : MlaAttention::automatic;
  return Session::create(std::move(model), make_cpu_ops(a.threads), o);
}

}  // namespace scout::cli
