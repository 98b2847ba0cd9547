#include "engine/models/model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <map>

#include "engine/models/model_gguf.h"
#include "engine/tokenizer/vocab_gguf.h"
#include "kernels/cpu/quants.h"

namespace scout {

Model::Model(gguf::File file, ModelHparams hp, Tokenizer tokenizer)
    : file_(std::move(file)), hp_(hp), tokenizer_(std::move(tokenizer)) {}

namespace {

// Maps every page of the file's tensor data. MADV_POPULATE_READ (Linux 5.14) does it in the
// kernel; elsewhere one byte per page is read.
void prefault(std::span<const std::byte> bytes) {
  if (bytes.empty()) return;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(bytes.data()) & ~(page - 1);
  const auto end = reinterpret_cast<uintptr_t>(bytes.data() + bytes.size());
#ifdef MADV_POPULATE_READ
  if (madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ) == 0) return;
#endif
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);
  volatile std::byte sink{};
  for (uintptr_t p = begin < reinterpret_cast<uintptr_t>(bytes.data()) ? begin + page : begin; p < end; p += page)
    sink = *reinterpret_cast<const std::byte*>(p);
  (void)sink;
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::load(const std::string& path, ModelLoadOptions options) {
  auto file = gguf::File::open(path);
  if (!file) return make_error(file.error().describe());
  auto hp = read_hparams(*file);
  if (!hp) return make_error(hp.error().message);
  if (auto ok = check_model_tensors(*file, *hp); !ok) return make_error(ok.error().message);
  auto vocab = vocab_from_gguf(*file);
  if (!vocab) return make_error(path + ": " + vocab.error().message);
  auto tokenizer = Tokenizer::create(std::move(*vocab));
  if (!tokenizer) return make_error(path + ": " + tokenizer.error().message);
  if (tokenizer->n_vocab() > static_cast<int32_t>(hp->n_vocab))
    return make_error(path + ": the tokenizer has " + std::to_string(tokenizer->n_vocab()) +
                      " tokens but token_embd.weight only " + std::to_string(hp->n_vocab) + " rows");
  std::shared_ptr<Model> model(new Model(std::move(*file), *hp, std::move(*tokenizer)));
  if (auto ok = model->bind(); !ok) return make_error(ok.error().message);
  if (options.prefault) prefault(model->file_.bytes().subspan(model->file_.data_offset()));
  return std::shared_ptr<const Model>(std::move(model));
}

Result<void> Model::bind() {
  std::map<GgmlType, uint64_t> params_by_type;
  std::string error;
  auto matrix = [&](const std::string& name) {
    const auto* t = file_.find_tensor(name);
    WeightView w;
    if (!t) return w;  // check_model_tensors already refused files that lack a needed tensor
    w.type = t->type;
    w.n_in = static_cast<int64_t>(t->shape[0]);
    w.n_out = t->shape.size() > 1 ? static_cast<int64_t>(t->shape[1]) : 1;
    w.n_mat = t->shape.size() > 2 ? static_cast<int64_t>(t->shape[2]) : 1;
    w.data = t->data.data();
    w.row_bytes = ggml_row_size(t->type, w.n_in);
    w.mat_bytes = w.row_bytes * static_cast<size_t>(w.n_out);
    weight_bytes_ += t->n_bytes;
    params_by_type[t->type] += t->n_elements();
    if (reinterpret_cast<uintptr_t>(w.data) % 4 != 0 && error.empty())
      error = file_.path() + ": tensor '" + name + "' data is not 4-byte aligned; the file's alignment is unusual";
    return w;
  };
  auto vector = [&](const std::string& name) -> const float* {
    const auto* t = file_.find_tensor(name);
    if (!t) return nullptr;
    weight_bytes_ += t->n_bytes;
    if (t->type == GgmlType::f32 && reinterpret_cast<uintptr_t>(t->data.data()) % 4 == 0)
      return reinterpret_cast<const float*>(t->data.data());
    if (!quants_weight_type(t->type)) {
      if (error.empty()) error = file_.path() + ": tensor '" + name + "' has a type Scout cannot read";
      return nullptr;
    }
    auto& out = converted_.emplace_back(t->n_elements());
    dequantize_row(t->type, t->data.data(), out.data(), static_cast<int64_t>(out.size()));
    return out.data();
  };

  token_embd_ = matrix("token_embd.weight");
  output_ = hp_.tied_output ? token_embd_ : matrix("output.weight");
  output_norm_ = vector("output_norm.weight");
  if (hp_.has_rope_freqs) rope_freqs_ = vector("rope_freqs.weight");
  layers_.resize(hp_.n_layer);
  for (uint32_t i = 0; i < hp_.n_layer; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    LayerWeights& l = layers_[i];
    l.attn_norm = vector(p + "attn_norm.weight");
    l.wq = matrix(p + "attn_q.weight");
    l.wk = matrix(p + "attn_k.weight");
    l.wv = matrix(p + "attn_v.weight");
    l.wo = matrix(p + "attn_output.weight");
    l.bq = vector(p + "attn_q.bias");
    l.bk = vector(p + "attn_k.bias");
    l.bv = vector(p + "attn_v.bias");
    l.q_norm = vector(p + "attn_q_norm.weight");
    l.k_norm = vector(p + "attn_k_norm.weight");
    l.ffn_norm = vector(p + "ffn_norm.weight");
    if (hp_.is_moe()) {
      l.router = matrix(p + "ffn_gate_inp.weight");
      l.gate_exps = matrix(p + "ffn_gate_exps.weight");
      l.up_exps = matrix(p + "ffn_up_exps.weight");
      l.down_exps = matrix(p + "ffn_down_exps.weight");
    } else {
      l.gate = matrix(p + "ffn_gate.weight");
      l.up = matrix(p + "ffn_up.weight");
      l.down = matrix(p + "ffn_down.weight");
    }
  }
  if (!error.empty()) return make_error(error);
  uint64_t best = 0;
  for (const auto& [type, n] : params_by_type)
    if (n > best) {
      best = n;
      dominant_type_ = type;
    }
  return {};
}

RopeConfig Model::rope_config() const {
  RopeConfig c;
  c.n_dims = static_cast<int32_t>(hp_.rope_dims ? hp_.rope_dims : hp_.head_dim);
  // llama.cpp's rope type per architecture: Qwen models rotate halves (NEOX), Llama pairs.
  c.neox = hp_.arch != Arch::llama;
  c.freq_base = hp_.rope_freq_base;
  c.freq_factors = rope_freqs_;
  c.attn_factor = hp_.rope_attn_factor;
  c.n_ctx_orig = static_cast<int32_t>(hp_.rope_n_ctx_orig ? hp_.rope_n_ctx_orig : hp_.n_ctx_train);
  if (hp_.rope_scaling != ModelHparams::RopeScaling::none) c.freq_scale = 1.0f / hp_.rope_scaling_factor;
  if (hp_.rope_scaling == ModelHparams::RopeScaling::yarn) c.ext_factor = 1.0f;
  return c;
}

uint64_t Model::decode_bytes_per_token() const {
  uint64_t bytes = token_embd_.row_bytes + static_cast<uint64_t>(output_.mat_bytes);
  for (const auto& l : layers_) {
    for (const WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down, &l.router})
      bytes += w->data ? w->mat_bytes : 0;
    for (const WeightView* w : {&l.gate_exps, &l.up_exps, &l.down_exps})
      bytes += w->data ? w->mat_bytes * hp_.n_expert_used : 0;
  }
  return bytes;
}

}  // namespace scout
