// Writes the seed corpus for fuzz_gguf_reader: small valid GGUF files made by our writer that
// between them reach every part of the reader (every value type, nested arrays, a vocabulary,
// tensors of several types and dims, alignments 32 and 64, a v2 header, an empty file).
//   make_gguf_seeds fuzz/corpus/gguf
// Seed names avoid the .gguf extension, which the repository ignores.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "engine/gguf/gguf.h"

namespace {

using namespace scout;
using namespace scout::gguf;

constexpr size_t kMaxSeedBytes = 64 * 1024;

void fill_pattern(size_t i, std::span<std::byte> dst) {
  for (size_t k = 0; k < dst.size(); ++k) dst[k] = static_cast<std::byte>((k * 7 + i * 13) & 0xff);
}

bool add(Writer& w, const char* name, GgmlType type, std::vector<uint64_t> shape) {
  const auto r = w.add_tensor(name, type, std::move(shape));
  if (!r) std::fprintf(stderr, "make_gguf_seeds: %s\n", r.error().describe().c_str());
  return r.has_value();
}

Writer all_value_types() {
  Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u8("t.u8", 200);
  w.set_i8("t.i8", -7);
  w.set_u16("t.u16", 60000);
  w.set_i16("t.i16", -300);
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", -2);
  w.set_f32("t.f32", 0.5f);
  w.set_bool("t.bool", true);
  w.set_string("t.string", "h\xC3\xA9llo");
  w.set_u64("t.u64", ~uint64_t{0});
  w.set_i64("t.i64", -5);
  w.set_f64("t.f64", 0.1);
  ArrayBuilder u8s(ValueType::uint8), i64s(ValueType::int64), bools(ValueType::boolean), f64s(ValueType::float64),
      empty(ValueType::string);
  u8s.add_u8(1).add_u8(2);
  i64s.add_i64(-1).add_i64(1);
  bools.add_bool(false).add_bool(true);
  f64s.add_f64(1.5);
  w.set_array("t.u8s", u8s);
  w.set_array("t.i64s", i64s);
  w.set_array("t.bools", bools);
  w.set_array("t.f64s", f64s);
  w.set_array("t.empty", empty);
  ArrayBuilder s(ValueType::string), inner(ValueType::array), outer(ValueType::array);
  s.add_string("a").add_string("bc");
  inner.add_array(s).add_array(ArrayBuilder(ValueType::string));
  outer.add_array(inner);
  w.set_array("t.nested", outer);
  return w;
}

Writer vocabulary() {
  Writer w;
  w.set_string("general.architecture", "qwen3");
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "qwen2");
  std::vector<std::string> tokens, merges;
  std::vector<float> scores;
  std::vector<int32_t> types;
  for (int i = 0; i < 300; ++i) {
    tokens.push_back(i < 256 ? std::string(1, static_cast<char>(i)) : "tok" + std::to_string(i));
    scores.push_back(-static_cast<float>(i));
    types.push_back(i < 3 ? 3 : 1);
  }
  for (int i = 0; i < 40; ++i) merges.push_back(std::string(1, static_cast<char>('a' + i % 26)) + " b");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_f32_array("tokenizer.ggml.scores", scores);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_string_array("tokenizer.ggml.merges", merges);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  return w;
}

bool model_like(Writer& w, uint32_t alignment) {
  w.set_string("general.architecture", "qwen3moe");
  w.set_u32("general.quantization_version", 2);
  if (alignment != 32 && !w.set_alignment(alignment)) return false;
  w.set_u32("qwen3moe.block_count", 1);
  w.set_u32("qwen3moe.embedding_length", 64);
  w.set_f32("qwen3moe.attention.layer_norm_rms_epsilon", 1e-6f);
  return add(w, "token_embd.weight", GgmlType::q8_0, {64, 8}) &&
         add(w, "blk.0.attn_norm.weight", GgmlType::f32, {64}) &&
         add(w, "blk.0.attn_q.weight", GgmlType::f16, {64, 4}) &&
         add(w, "blk.0.ffn_gate_exps.weight", GgmlType::q4_0, {64, 2, 2}) &&
         add(w, "blk.0.ffn_down_exps.weight", GgmlType::q4_k, {256, 1, 2}) &&
         add(w, "blk.0.ffn_up_exps.weight", GgmlType::q6_k, {256, 1, 1, 1}) &&
         add(w, "output.weight", GgmlType::bf16, {64, 3}) &&
         add(w, "rope_freqs", GgmlType::i32, {5});
}

bool save(const std::string& dir, const std::string& name, const std::vector<std::byte>& bytes) {
  if (bytes.size() > kMaxSeedBytes || !File::from_memory(bytes, name)) {
    std::fprintf(stderr, "make_gguf_seeds: %s is not a small valid file\n", name.c_str());
    return false;
  }
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

bool write_seed(const std::string& dir, const std::string& name, const Writer& w) {
  std::vector<std::byte> bytes;
  const auto r = w.write(bytes, fill_pattern);
  if (!r) {
    std::fprintf(stderr, "make_gguf_seeds: %s: %s\n", name.c_str(), r.error().describe().c_str());
    return false;
  }
  return save(dir, name, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_gguf_seeds OUTPUT_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  bool ok = write_seed(dir, "empty.seed", Writer()) && write_seed(dir, "all-value-types.seed", all_value_types()) &&
            write_seed(dir, "vocabulary.seed", vocabulary());
  Writer m32, m64;
  ok = ok && model_like(m32, 32) && model_like(m64, 64) && write_seed(dir, "model-align32.seed", m32) &&
       write_seed(dir, "model-align64.seed", m64);
  // The same model with a v2 header: v2 and v3 share the layout.
  std::vector<std::byte> v2;
  ok = ok && m32.write(v2, fill_pattern).has_value();
  if (ok) {
    const uint32_t version = 2;
    std::memcpy(v2.data() + 4, &version, sizeof version);
    ok = save(dir, "model-v2.seed", v2);
  }
  return ok ? 0 : 1;
}
