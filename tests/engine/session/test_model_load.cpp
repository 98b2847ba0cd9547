// Model::load refuses files whose metadata and tensors disagree, naming the key or tensor.
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>

#include "engine/gguf/gguf.h"
#include "engine/models/model.h"
#include "tests/engine/session/tiny_models.h"

using namespace scout;

namespace {

struct Edit {
  std::function<void(gguf::Writer&)> metadata = [](gguf::Writer&) {};
  std::string drop_tensor{};
  bool add_stray_tensor = false;
};

// Rewrites a tiny qwen3moe model with an edit, returning the path of the edited copy.
std::string edited_model(const std::string& name, const Edit& edit) {
  const auto src_path = test::tiny_model_path({.arch = Arch::qwen3moe});
  auto src = gguf::File::open(src_path);
  REQUIRE(src);
  gguf::Writer w;
  for (const auto& kv : src->metadata()) w.set_value(std::string(kv.key), kv.value);
  edit.metadata(w);
  std::vector<const gguf::TensorInfo*> kept;
  for (const auto& t : src->tensors()) {
    if (t.name == edit.drop_tensor) continue;
    REQUIRE(w.add_tensor(t.name, t.type, t.shape));
    kept.push_back(&t);
  }
  if (edit.add_stray_tensor) REQUIRE(w.add_tensor("blk.0.mystery.weight", GgmlType::f32, {256}));
  const auto out = (test::engine_scratch_dir() / (name + ".gguf")).string();
  auto ok = w.write(out, [&](size_t i, std::span<std::byte> dst) {
    if (i < kept.size()) std::memcpy(dst.data(), kept[i]->data.data(), dst.size());
  });
  REQUIRE(ok);
  return out;
}

std::string load_error(const std::string& path) {
  auto model = Model::load(path);
  REQUIRE_FALSE(model);
  return model.error().message;
}

}  // namespace

TEST_CASE("a model whose block count promises a missing layer is refused naming the first missing tensor", "[model-load]") {
  const auto path = edited_model("bad-block-count", {.metadata = [](gguf::Writer& w) { w.set_u32("qwen3moe.block_count", 3); }});
  const auto message = load_error(path);
  CHECK_THAT(message, Catch::Contains("blk.2.attn_norm.weight") && Catch::Contains("missing") && Catch::Contains(path));
}

TEST_CASE("a model whose width disagrees with its tensors is refused naming the tensor and both shapes", "[model-load]") {
  const auto path = edited_model("bad-width", {.metadata = [](gguf::Writer& w) {
    w.set_u32("qwen3moe.expert_feed_forward_length", 512);
  }});
  const auto message = load_error(path);
  CHECK_THAT(message, Catch::Contains("ffn_gate_exps.weight") && Catch::Contains("[256, 256, 4]") &&
                          Catch::Contains("[256, 512, 4]"));
}

TEST_CASE("a model missing a tensor is refused naming it", "[model-load]") {
  const auto message = load_error(edited_model("missing-tensor", {.drop_tensor = "blk.1.attn_k_norm.weight"}));
  CHECK_THAT(message, Catch::Contains("'blk.1.attn_k_norm.weight' is missing"));
}

TEST_CASE("a model with a tensor its architecture does not use is refused naming it", "[model-load]") {
  const auto message = load_error(edited_model("stray-tensor", {.add_stray_tensor = true}));
  CHECK_THAT(message, Catch::Contains("blk.0.mystery.weight") && Catch::Contains("not part of"));
}

TEST_CASE("a model of an unknown architecture is refused naming it and the supported ones", "[model-load]") {
  const auto message = load_error(edited_model("unknown-arch", {.metadata = [](gguf::Writer& w) {
    w.set_string("general.architecture", "mamba");
  }}));
  CHECK_THAT(message, Catch::Contains("'mamba' is not supported") && Catch::Contains("qwen3moe"));
}

TEST_CASE("a model lacking a required hyperparameter is refused naming the key", "[model-load]") {
  const auto message = load_error(edited_model("missing-key", {.metadata = [](gguf::Writer& w) {
    w.remove("qwen3moe.attention.head_count");
  }}));
  CHECK_THAT(message, Catch::Contains("qwen3moe.attention.head_count"));
}

TEST_CASE("a model using more experts per token than it has is refused with the allowed range", "[model-load]") {
  const auto message = load_error(edited_model("too-many-experts", {.metadata = [](gguf::Writer& w) {
    w.set_u32("qwen3moe.expert_used_count", 9);
  }}));
  CHECK_THAT(message, Catch::Contains("expert_used_count (9)") && Catch::Contains("1..4"));
}

TEST_CASE("an unknown rope scaling type is refused naming the key", "[model-load]") {
  const auto message = load_error(edited_model("bad-rope", {.metadata = [](gguf::Writer& w) {
    w.set_string("qwen3moe.rope.scaling.type", "longrope");
  }}));
  CHECK_THAT(message, Catch::Contains("qwen3moe.rope.scaling.type") && Catch::Contains("longrope"));
}

TEST_CASE("a truncated model file is refused with the byte where it ends", "[model-load]") {
  const auto src = test::tiny_model_path({.arch = Arch::qwen3moe});
  const auto out = (test::engine_scratch_dir() / "truncated.gguf").string();
  std::filesystem::copy_file(src, out, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(out, std::filesystem::file_size(src) / 2);
  CHECK_THAT(load_error(out), Catch::Contains("truncated.gguf") && Catch::Contains("past the end of the file"));
}
