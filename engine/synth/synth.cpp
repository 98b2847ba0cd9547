#include "engine/synth/synth.h"

#include <algorithm>
#include <filesystem>
#include <thread>
#include <vector>

#include "common/files.h"
#include "engine/gguf/gguf.h"
#include "engine/models/model_gguf.h"
#include "engine/tokenizer/vocab.h"
#include "engine/tokenizer/vocab_gguf.h"
#include "kernels/cpu/quants.h"

namespace scout {
namespace {

// llama.cpp's general.file_type (enum llama_ftype) for a file whose matrices are all `type`.
uint32_t llama_file_type(GgmlType type) {
  switch (type) {
    case GgmlType::f32: return 0;
    case GgmlType::f16: return 1;
    case GgmlType::q4_0: return 2;
    case GgmlType::q8_0: return 7;
    case GgmlType::q4_k: return 14;  // Q4_K_S: every matrix Q4_K
    case GgmlType::q5_k: return 16;  // Q5_K_S
    case GgmlType::q6_k: return 18;
    case GgmlType::bf16: return 32;
    default: return 0;
  }
}

Result<Vocab> load_vocab(const SynthOptions& o) {
  if (o.tokenizer_path.empty())
    return make_error("synth needs a vocabulary: pass --tokenizer with a tokenizer.json or a .gguf model");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(o.tokenizer_path, ec))
    return make_error(o.tokenizer_path + ": no such file (expected a tokenizer.json or a .gguf model)");
  if (o.tokenizer_path.ends_with(".gguf")) {
    auto file = gguf::File::open(o.tokenizer_path);
    if (!file) return make_error(file.error().describe());
    return vocab_from_gguf(*file);
  }
  std::string config = o.tokenizer_config_path;
  if (config.empty()) {
    auto beside = std::filesystem::path(o.tokenizer_path).parent_path() / "tokenizer_config.json";
    if (std::filesystem::is_regular_file(beside, ec)) config = beside.string();
  }
  return vocab_from_tokenizer_json(o.tokenizer_path, config);
}

// Pads with "[PAD<id>]" unused tokens up to the model's embedding rows, as llama.cpp's
// converter does when config.json's vocab_size exceeds the tokenizer's token count.
void pad_vocab(Vocab& vocab, size_t n_vocab) {
  while (vocab.tokens.size() < n_vocab) {
    vocab.tokens.push_back("[PAD" + std::to_string(vocab.tokens.size()) + "]");
    vocab.token_types.push_back(TokenType::unused);
    if (!vocab.added_flags.empty()) vocab.added_flags.push_back(0);
  }
}

// Fills one tensor's bytes: rows are generated and encoded independently, split across threads
// in contiguous ranges. Output does not depend on the thread count.
void fill_tensor(uint64_t seed, const TensorSpec& spec, GgmlType type, std::span<std::byte> dst, unsigned threads) {
  const uint64_t row_len = spec.shape[0];
  uint64_t n_rows = 1;
  for (size_t i = 1; i < spec.shape.size(); ++i) n_rows *= spec.shape[i];
  const uint64_t row_bytes = ggml_row_size(type, row_len);
  auto work = [&](uint64_t begin, uint64_t end) {
    std::vector<float> row(row_len);
    for (uint64_t r = begin; r < end; ++r) {
      synth_fill_row(seed, spec, r, row.data());
      quantize_row_ref(type, row.data(), dst.data() + r * row_bytes, static_cast<int64_t>(row_len));
    }
  };
  const unsigned n_threads = static_cast<unsigned>(std::min<uint64_t>(threads, std::max<uint64_t>(1, n_rows / 64)));
  if (n_threads <= 1) {
    work(0, n_rows);
    return;
  }
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < n_threads; ++t)
    pool.emplace_back(work, n_rows * t / n_threads, n_rows * (t + 1) / n_threads);
  for (auto& th : pool) th.join();
}

// Projection matrices and embeddings take the requested type; norms, biases and the MoE router
// stay F32, as llama.cpp's quantizer leaves them.
bool takes_file_type(TensorRole role) {
  return role != TensorRole::norm && role != TensorRole::bias && role != TensorRole::router;
}

Unexpected<SynthError> input_error(std::string message) { return {SynthError{false, std::move(message)}}; }

}  // namespace

GgmlType synth_tensor_type(TensorRole role, const std::vector<uint64_t>& shape, GgmlType requested) {
  if (!takes_file_type(role)) return GgmlType::f32;
  const uint64_t row = shape.at(0);
  if (row % ggml_type_traits(requested).block_size == 0) return requested;
  if (row % ggml_type_traits(GgmlType::q8_0).block_size == 0 &&
      ggml_type_traits(requested).block_size > 1)
    return GgmlType::q8_0;
  return GgmlType::f32;
}

Expected<SynthReport, SynthError> synth_model(const SynthOptions& o, const std::string& out_path, const SynthProgress& progress) {
  // Before any work: a large model takes half an hour to generate.
  if (const auto refused = not_a_regular_file(out_path)) return Unexpected{SynthError{true, out_path + ": " + *refused}};
  const auto& traits = ggml_type_traits(o.type);
  if (!traits.supported || o.type == GgmlType::q8_k)
    return input_error("type " + std::string(traits.name) +
                      " cannot be written (supported: f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K)");
  auto hp = preset_hparams(o.preset, o.arch);
  if (!hp) return input_error(hp.error().message);
  if (o.tied_output) hp->tied_output = *o.tied_output;
  if (o.rope_scaling) {
    hp->rope_scaling = *o.rope_scaling;
    hp->rope_scaling_factor = o.rope_scaling_factor;
    hp->rope_n_ctx_orig = o.rope_n_ctx_orig;
  }
  if (o.mla_split_kv_b) hp->mla_split_kv_b = *o.mla_split_kv_b;
  if (o.n_layer) {
    if (*o.n_layer == 0 || *o.n_layer <= hp->n_layer_dense_lead)
      return input_error("--layers " + std::to_string(*o.n_layer) + " leaves no layer after the preset's " +
                         std::to_string(hp->n_layer_dense_lead) + " leading dense layers (and must be > 0)");
    hp->n_layer = *o.n_layer;
  }

  auto vocab = load_vocab(o);
  if (!vocab) return input_error(vocab.error().message);
  const uint64_t keep = o.vocab_regular ? o.vocab_regular : (o.preset.starts_with("tiny") ? 1024 : kKeepWholeVocab);
  if (keep != kKeepWholeVocab) *vocab = truncate_vocab(*vocab, keep);
  if (hp->n_vocab != 0) {
    if (vocab->size() > hp->n_vocab)
      return input_error("the vocabulary has " + std::to_string(vocab->size()) + " tokens but preset " + o.preset +
                        " has room for " + std::to_string(hp->n_vocab));
    pad_vocab(*vocab, hp->n_vocab);
  }
  hp->n_vocab = static_cast<uint32_t>(vocab->size());
  if (auto ok = validate_hparams(*hp); !ok) return input_error(ok.error().message);

  gguf::Writer writer;
  write_hparams(writer, *hp);
  writer.set_string("general.name", "scout-synth-" + o.preset + "-" + std::string(arch_name(o.arch)));
  writer.set_u32("general.file_type", llama_file_type(o.type));
  writer.set_u32("general.quantization_version", 2);
  writer.set_u64("scout.synth.seed", o.seed);
  writer.set_string("scout.synth.preset", o.preset);
  if (o.metadata_only) writer.set_bool(std::string(kMetadataOnlyKey), true);
  write_vocab(writer, *vocab);

  SynthReport report;
  report.hparams = *hp;
  const auto specs = o.vocab_only ? std::vector<TensorSpec>{} : expected_tensors(*hp);
  std::vector<GgmlType> types;
  for (const auto& spec : specs) {
    const GgmlType type = synth_tensor_type(spec.role, spec.shape, o.type);
    if (takes_file_type(spec.role) && type != o.type) report.fallbacks.emplace_back(spec.name, type);
    types.push_back(type);
    if (auto ok = writer.add_tensor(spec.name, type, spec.shape); !ok) return input_error(ok.error().describe());
  }
  const unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  if (o.metadata_only) {
    if (auto written = writer.write_metadata_only(out_path); !written)
      return Unexpected{SynthError{true, written.error().describe()}};
    report.n_params = hp->n_params();
    std::error_code ec;
    report.file_bytes = std::filesystem::file_size(out_path, ec);
    return report;
  }
  auto written = writer.write(out_path, [&](size_t i, std::span<std::byte> dst) {
    fill_tensor(o.seed, specs[i], types[i], dst, threads);
    if (progress) progress(i, specs.size(), specs[i].name);
  });
  if (!written) return Unexpected{SynthError{true, written.error().describe()}};
  report.n_params = o.vocab_only ? 0 : hp->n_params();
  std::error_code ec;
  report.file_bytes = std::filesystem::file_size(out_path, ec);
  return report;
}

}  // namespace scout
