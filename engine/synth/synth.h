// `scout synth`: writes a GGUF model of a named architecture and shape with deterministic
// random weights and a real tokenizer vocabulary, in any supported tensor type. Tests build
// their models with it; nothing downloads weights.
//
// Weights are a pure function of (seed, tensor name, row): the file is byte-identical for the
// same options whatever the thread count. Quantized types use the reference quantizers, so the
// files are what llama.cpp's own quantizer would write for the same floats.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"
#include "engine/models/model_spec.h"
#include "kernels/ggml_types.h"

namespace scout {

inline constexpr uint64_t kKeepWholeVocab = UINT64_MAX;
// Set (true) in files written with SynthOptions::metadata_only.
inline constexpr std::string_view kMetadataOnlyKey = "scout.synth.metadata_only";

struct SynthOptions {
  std::string preset = "tiny";
  Arch arch = Arch::qwen3moe;
  GgmlType type = GgmlType::f32;      // type of the projection matrices and embeddings
  std::string tokenizer_path;         // a HF tokenizer.json, or a .gguf whose vocabulary is copied
  std::string tokenizer_config_path;  // optional tokenizer_config.json (bos/eos); found beside tokenizer.json if empty
  uint64_t seed = 42;
  // Keep only the first N regular tokens of the vocabulary (specials are kept, with new ids);
  // 0 = the preset's default (tiny keeps 1024 so the file stays under 10 MB; other presets keep
  // the vocabulary as it is); kKeepWholeVocab = as it is.
  uint64_t vocab_regular = 0;
  unsigned threads = 0;               // 0 = all cores
  // Write the metadata (hyperparameters and vocabulary) without tensors, like llama.cpp's
  // vocab-only files: enough to tokenize, a few MB whatever the vocabulary.
  bool vocab_only = false;
  // Write the metadata and the tensor table without tensor data: a model described for
  // `scout inspect --plan` (the 671 B deepseek-v3 preset would be 1.3 TB at F16).
  bool metadata_only = false;
  // Overrides of the preset: a separate output matrix or one tied to the embedding, and rotary
  // scaling keys (for tests of the rope variants).
  std::optional<bool> tied_output;
  std::optional<ModelHparams::RopeScaling> rope_scaling;  // unset: the preset's
  float rope_scaling_factor = 1.0f;
  uint32_t rope_n_ctx_orig = 0;
  // MLA (deepseek2): attn_k_b / attn_v_b as current conversions write them, or the older single
  // attn_kv_b (false). Unset: the preset's (split).
  std::optional<bool> mla_split_kv_b;
  // Fewer (or more) layers than the preset, same shapes otherwise: a real model's layer cut
  // short, for benchmarks that need its widths but not its size.
  std::optional<uint32_t> n_layer;
};

struct SynthReport {
  ModelHparams hparams;
  uint64_t n_params = 0;
  uint64_t file_bytes = 0;
  // Tensors stored in another type than requested because their rows are not a whole number of
  // blocks (llama.cpp's quantizer falls back the same way): name -> type used.
  std::vector<std::pair<std::string, GgmlType>> fallbacks;
};

// Called after each tensor is written: (index, count, name).
using SynthProgress = std::function<void(size_t, size_t, const std::string&)>;

struct SynthError {
  bool writing_output = false;  // true: the inputs were fine, writing the file failed
  std::string message;
};

Expected<SynthReport, SynthError> synth_model(const SynthOptions& options, const std::string& out_path,
                                const SynthProgress& progress = {});

// The type a tensor of this role and shape is stored in when `requested` is asked for.
GgmlType synth_tensor_type(TensorRole role, const std::vector<uint64_t>& shape, GgmlType requested);

// The deterministic generator behind the weights, exposed for tests: fills `out` with row `row`
// of the tensor `name` as synth_model would (before quantization).
void synth_fill_row(uint64_t seed, const TensorSpec& spec, uint64_t row, float* out);

}  // namespace scout
