#include "engine/models/model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <map>

#include "engine/models/model_gguf.h"
#include "engine/tokenizer/vocab_gguf.h"
#include "kernels/cpu/quants.h"

namespace scout {

Model::Model(gguf::File file, ModelHparams hp, Tokenizer tokenizer)
    : file_(std::move(file)), hp_(hp), tokenizer_(std::move(tokenizer)) {}

namespace {

// Maps every page of the file's tensor data, in huge pages where the kernel can. MADV_POPULATE_READ
// (Linux 5.14) does it in the kernel; elsewhere one byte per page is read.
void prefault(std::span<const std::byte> bytes) {
  if (bytes.empty()) return;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<uintptr_t>(bytes.data()) & ~(page - 1);
  const auto end = reinterpret_cast<uintptr_t>(bytes.data() + bytes.size());
  // Where the kernel keeps file pages in large folios (ext4 and xfs on Linux 6.x), this has
  // the pages read from here on come in as 2 MiB folios, mapped with one TLB entry each: decode
  // streams every weight once per token, and with 4 KiB mappings the page walks cost as much as
  // a fifth of a token's time (BENCHMARKS.md). Advice only: refused or ignored elsewhere.
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_READ
  if (madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ) == 0) return;
#endif
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);
  volatile std::byte sink{};
  for (uintptr_t p = begin < reinterpret_cast<uintptr_t>(bytes.data()) ? begin + page : begin; p < end; p += page)
    sink = *reinterpret_cast<const std::byte*>(p);
  (void)sink;
}

// A view of F32 matrices the model made itself: n_mat matrices of n_out rows of n_in floats.
WeightView f32_view(const float* data, int64_t n_in, int64_t n_out, int64_t n_mat) {
  WeightView w;
  w.type = GgmlType::f32;
  w.n_in = n_in;
  w.n_out = n_out;
  w.n_mat = n_mat;
  w.data = data;
  w.row_bytes = sizeof(float) * static_cast<size_t>(n_in);
  w.mat_bytes = w.row_bytes * static_cast<size_t>(n_out);
  return w;
}

}  // namespace

Result<std::shared_ptr<const Model>> Model::load(const std::string& path, ModelLoadOptions options) {
  auto file = gguf::File::open(path);
  if (!file) {
    // A description without weights gets its own message rather than "runs past the end".
    if (auto described = gguf::File::open_metadata(path); described && !described->tensor_data_present())
      return make_error(path + ": the file holds a model's metadata and tensor table but no tensor data (a "
                        "metadata-only file, e.g. from scout synth --metadata-only): use it with scout inspect --plan");
    return make_error(file.error().describe());
  }
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

  // An F32 matrix the model owns (made from the file's weights), n_mat matrices of n_out rows.
  auto owned = [&](std::vector<float> data, int64_t n_in, int64_t n_out, int64_t n_mat) {
    return f32_view(converted_.emplace_back(std::move(data)).data(), n_in, n_out, n_mat);
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
    if (hp_.is_mla()) {
      l.wkv_a = matrix(p + "attn_kv_a_mqa.weight");
      l.kv_a_norm = vector(p + "attn_kv_a_norm.weight");
      if (hp_.q_lora_rank) {
        l.wq_a = matrix(p + "attn_q_a.weight");
        l.q_a_norm = vector(p + "attn_q_a_norm.weight");
        l.wq_b = matrix(p + "attn_q_b.weight");
      } else {
        l.wq = matrix(p + "attn_q.weight");
      }
      const int64_t n_head = hp_.n_head, nope = hp_.qk_nope_dims(), v = hp_.head_dim_v, r = hp_.kv_lora_rank;
      if (hp_.mla_split_kv_b) {
        l.k_b = matrix(p + "attn_k_b.weight");
        l.v_b = matrix(p + "attn_v_b.weight");
      } else {
        // attn_kv_b holds, per head, nope rows that decompress the key and v rows that
        // decompress the value, each over the latent. The value rows are v_b as they are (a
        // view that steps over the key rows); the absorbed path needs the key rows transposed,
        // made once here in F32.
        const WeightView kv_b = matrix(p + "attn_kv_b.weight");
        if (!kv_b.data) continue;
        l.v_b = kv_b;
        l.v_b.data = static_cast<const char*>(kv_b.data) + static_cast<size_t>(nope) * kv_b.row_bytes;
        l.v_b.n_out = v;
        l.v_b.n_mat = n_head;
        l.v_b.mat_bytes = kv_b.row_bytes * static_cast<size_t>(nope + v);
        WeightView decompress = l.v_b;
        decompress.data = kv_b.data;
        decompress.n_out = nope;
        mla_k_decompress_.resize(hp_.n_layer);
        mla_k_decompress_[i] = decompress;
        std::vector<float> row(static_cast<size_t>(r)), k_b(static_cast<size_t>(n_head * r * nope));
        for (int64_t h = 0; h < n_head; ++h)
          for (int64_t j = 0; j < nope; ++j) {
            dequantize_row(kv_b.type, decompress.row(h, j), row.data(), r);
            for (int64_t c = 0; c < r; ++c) k_b[static_cast<size_t>((h * r + c) * nope + j)] = row[static_cast<size_t>(c)];
          }
        l.k_b = owned(std::move(k_b), nope, r, n_head);
      }
    } else {
      l.wq = matrix(p + "attn_q.weight");
      l.wk = matrix(p + "attn_k.weight");
      l.wv = matrix(p + "attn_v.weight");
      l.bq = vector(p + "attn_q.bias");
      l.bk = vector(p + "attn_k.bias");
      l.bv = vector(p + "attn_v.bias");
      l.q_norm = vector(p + "attn_q_norm.weight");
      l.k_norm = vector(p + "attn_k_norm.weight");
    }
    l.wo = matrix(p + "attn_output.weight");
    l.ffn_norm = vector(p + "ffn_norm.weight");
    if (hp_.layer_is_moe(i)) {
      l.router = matrix(p + "ffn_gate_inp.weight");
      l.expert_bias = vector(p + "exp_probs_b.bias");
      l.gate_exps = matrix(p + "ffn_gate_exps.weight");
      l.up_exps = matrix(p + "ffn_up_exps.weight");
      l.down_exps = matrix(p + "ffn_down_exps.weight");
      l.gate_shexp = matrix(p + "ffn_gate_shexp.weight");
      l.up_shexp = matrix(p + "ffn_up_shexp.weight");
      l.down_shexp = matrix(p + "ffn_down_shexp.weight");
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

const WeightView& Model::mla_k_decompress(uint32_t il) const {
  std::call_once(mla_k_decompress_once_, [&] {
    if (!mla_k_decompress_.empty()) return;  // an older file: views of attn_kv_b, made at load
    // attn_k_b stores each head's key decompression transposed (kv_lora_rank rows of nope);
    // the naive path needs nope rows of kv_lora_rank.
    const int64_t n_head = hp_.n_head, nope = hp_.qk_nope_dims(), r = hp_.kv_lora_rank;
    mla_k_decompress_.resize(hp_.n_layer);
    mla_k_decompress_storage_.resize(hp_.n_layer);
    std::vector<float> row(static_cast<size_t>(nope));
    for (uint32_t l = 0; l < hp_.n_layer; ++l) {
      const WeightView& k_b = layers_[l].k_b;
      auto& out = mla_k_decompress_storage_[l];
      out.resize(static_cast<size_t>(n_head * nope * r));
      for (int64_t h = 0; h < n_head; ++h)
        for (int64_t c = 0; c < r; ++c) {
          dequantize_row(k_b.type, k_b.row(h, c), row.data(), nope);
          for (int64_t j = 0; j < nope; ++j) out[static_cast<size_t>((h * nope + j) * r + c)] = row[static_cast<size_t>(j)];
        }
      mla_k_decompress_[l] = f32_view(out.data(), r, nope, n_head);
    }
  });
  return mla_k_decompress_[il];
}

RopeConfig Model::rope_config() const {
  RopeConfig c;
  c.n_dims = static_cast<int32_t>(hp_.rope_dims_or_head());
  // llama.cpp's rope type per architecture: Qwen models rotate halves (NEOX), Llama and
  // DeepSeek pairs.
  c.neox = hp_.traits().rope == RopeStyle::neox;
  c.freq_base = hp_.rope_freq_base;
  c.freq_factors = rope_freqs_;
  c.attn_factor = hp_.rope_attn_factor;
  c.n_ctx_orig = static_cast<int32_t>(hp_.rope_n_ctx_orig ? hp_.rope_n_ctx_orig : hp_.n_ctx_train);
  if (hp_.rope_scaling != ModelHparams::RopeScaling::none) c.freq_scale = 1.0f / hp_.rope_scaling_factor;
  if (hp_.rope_scaling == ModelHparams::RopeScaling::yarn) {
    c.ext_factor = 1.0f;
    // DeepSeek's YaRN, as llama.cpp sets it up: with mscale_all_dim the rope keeps unit
    // magnitude (the (1 + 0.1 ln s) that ggml's rope multiplies in is cancelled) and the
    // correction goes to the score scale (attention_scale) instead.
    if (hp_.is_mla()) {
      const float s = 1.0f / c.freq_scale;
      const float mscale = hp_.rope_yarn_mscale_all_dim != 0.0f || s <= 1.0f ? 1.0f : 0.1f * std::log(s) + 1.0f;
      c.attn_factor = mscale * (1.0f / (1.0f + 0.1f * std::log(s))) * hp_.rope_attn_factor;
    }
  }
  return c;
}

float Model::attention_scale() const {
  const float head = static_cast<float>(hp_.head_dim_k);
  if (!hp_.is_mla()) return 1.0f / std::sqrt(head);
  // As llama.cpp computes it for deepseek2: mscale = attn_factor * (1 + 0.1 ln s) *
  // (1 + 0.1 * mscale_all_dim * ln s), scale = mscale^2 / sqrt(key length).
  const RopeConfig rope = rope_config();
  const float ln = std::log(1.0f / rope.freq_scale);
  const float mscale = rope.attn_factor * (1.0f + 0.1f * ln) * (1.0f + 0.1f * hp_.rope_yarn_mscale_all_dim * ln);
  return mscale * mscale / std::sqrt(head);
}

uint64_t Model::decode_bytes_per_token() const {
  uint64_t bytes = token_embd_.row_bytes + static_cast<uint64_t>(output_.mat_bytes);
  for (const auto& l : layers_) {
    for (const WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down, &l.router, &l.gate_shexp,
                                &l.up_shexp, &l.down_shexp, &l.wq_a, &l.wq_b, &l.wkv_a, &l.k_b, &l.v_b})
      bytes += w->data ? w->mat_bytes * static_cast<uint64_t>(w->n_mat) : 0;
    for (const WeightView* w : {&l.gate_exps, &l.up_exps, &l.down_exps})
      bytes += w->data ? w->mat_bytes * hp_.n_expert_used : 0;
  }
  return bytes;
}

}  // namespace scout
