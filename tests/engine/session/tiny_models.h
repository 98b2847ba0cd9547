// Tiny synthetic models for engine tests, written once into the build tree by the project's
// own writer (synth is deterministic, so concurrent test processes write identical files and
// the temp-file-and-rename keeps each file whole).
#pragma once

#include <filesystem>
#include <string>

#include "engine/models/model_spec.h"
#include "engine/synth/synth.h"
#include "kernels/ggml_types.h"

namespace scout::test {

std::string qwen3_tokenizer_json_path();
std::filesystem::path engine_scratch_dir();

struct TinyModel {
  Arch arch = Arch::qwen3moe;
  GgmlType type = GgmlType::f32;
  // Untied output: greedy text of a tied random model repeats its last token, which would make
  // greedy comparisons meaningless; with a separate output matrix it wanders.
  bool separate_output = true;
  uint64_t seed = 42;
  ModelHparams::RopeScaling rope_scaling = ModelHparams::RopeScaling::none;
  float rope_factor = 1.0f;
  uint32_t rope_n_ctx_orig = 0;
};

// Path of the model, synthesizing it if it is not there yet.
std::string tiny_model_path(const TinyModel& spec);

// The deepseek2 presets, with a truncated DeepSeek-V3 vocabulary (1842 tokens).
struct TinyDeepseek {
  bool lite = false;        // tiny-deepseek-lite (V2-Lite-like) or tiny-deepseek (V3-like)
  bool split_kv_b = true;   // attn_k_b / attn_v_b, or the older single attn_kv_b
  GgmlType type = GgmlType::f32;
  uint64_t seed = 42;
};
std::string deepseek_v3_tokenizer_json_path();
std::string tiny_deepseek_path(const TinyDeepseek& spec);

}  // namespace scout::test
