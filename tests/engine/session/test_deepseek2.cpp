// deepseek2 end to end in the engine: the two ways of computing multi-head latent attention
// agree, the latent cache behaves like any other across batches, and malformed metadata is
// refused at load naming the key.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <functional>

#include "engine/gguf/gguf.h"
#include "engine/session/session.h"
#include "tests/engine/session/tiny_models.h"

using namespace scout;

namespace {

std::vector<int32_t> prompt(size_t n) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>((i * 131 + 17) % 1000));
  return ids;
}

// Logits after every token of `ids`, read in batches of n_batch.
std::vector<std::vector<float>> all_logits(const std::shared_ptr<const Model>& model, const std::vector<int32_t>& ids,
                                           MlaAttention mla, int32_t n_batch) {
  auto session = Session::create(model, make_cpu_ops(2),
                                 {.n_ctx = 256, .n_batch = n_batch, .kv_type = KvType::f32, .mla_attention = mla});
  REQUIRE(session);
  std::vector<std::vector<float>> rows;
  // The prompt in one append (split into batches), then decode steps one token at a time.
  const size_t prefill = ids.size() - 8;
  REQUIRE(session->append(std::span(ids).first(prefill), true));
  for (size_t i = 0; i < prefill; ++i) rows.emplace_back(session->logits_at(i).begin(), session->logits_at(i).end());
  for (size_t i = prefill; i < ids.size(); ++i) {
    REQUIRE(session->append(std::span(ids).subspan(i, 1)));
    rows.emplace_back(session->logits().begin(), session->logits().end());
  }
  return rows;
}

double max_abs_diff(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0.0;
  for (size_t r = 0; r < a.size(); ++r) {
    REQUIRE(a[r].size() == b[r].size());
    for (size_t v = 0; v < a[r].size(); ++v) worst = std::max(worst, std::abs(double{a[r][v]} - double{b[r][v]}));
  }
  return worst;
}

}  // namespace

TEST_CASE("absorbed and naive MLA give the same logits to 1e-5 in both tensor forms", "[deepseek2]") {
  for (bool lite : {false, true})
    for (bool split : {true, false}) {
      const auto path = test::tiny_deepseek_path({.lite = lite, .split_kv_b = split});
      INFO(path);
      auto model = Model::load(path);
      REQUIRE(model);
      const auto ids = prompt(40);
      const auto absorbed = all_logits(*model, ids, MlaAttention::absorbed, 16);
      const auto naive = all_logits(*model, ids, MlaAttention::naive, 16);
      const double diff = max_abs_diff(absorbed, naive);
      INFO("max |absorbed - naive| = " << diff);
      CHECK(diff <= 1e-5);
    }
}

TEST_CASE("the latent cache gives the same logits whether a prompt is read at once or token by token", "[deepseek2]") {
  auto model = Model::load(test::tiny_deepseek_path({}));
  REQUIRE(model);
  const auto ids = prompt(24);
  const double diff = max_abs_diff(all_logits(*model, ids, MlaAttention::absorbed, 512),
                                   all_logits(*model, ids, MlaAttention::absorbed, 1));
  INFO("max |batched - one by one| = " << diff);
  CHECK(diff <= 1e-4);
}

TEST_CASE("a deepseek2 session caches the latent: bytes per position are kv_lora_rank plus rope dims per layer",
          "[deepseek2]") {
  auto model = Model::load(test::tiny_deepseek_path({}));
  REQUIRE(model);
  auto session = Session::create(*model, make_cpu_ops(1), {.n_ctx = 64});
  REQUIRE(session);
  CHECK(session->kv_bytes_per_position() == 3u * (128 + 32) * 2);
}

namespace {

// A copy of the tiny V3-like model with edited metadata.
std::string edited(const std::string& name, const std::function<void(gguf::Writer&)>& edit) {
  auto src = gguf::File::open(test::tiny_deepseek_path({}));
  REQUIRE(src);
  gguf::Writer w;
  for (const auto& kv : src->metadata()) w.set_value(std::string(kv.key), kv.value);
  edit(w);
  for (const auto& t : src->tensors()) REQUIRE(w.add_tensor(t.name, t.type, t.shape));
  const auto out = (test::engine_scratch_dir() / ("deepseek2-" + name + ".gguf")).string();
  const auto& tensors = src->tensors();
  REQUIRE(w.write(out, [&](size_t i, std::span<std::byte> dst) { std::memcpy(dst.data(), tensors[i].data.data(), dst.size()); }));
  return out;
}

std::string load_error(const std::string& path) {
  auto model = Model::load(path);
  REQUIRE_FALSE(model);
  return model.error().message;
}

}  // namespace

TEST_CASE("a kv_lora_rank that does not match the tensors is refused naming the rank and the tensor", "[deepseek2][model-load]") {
  const auto message = load_error(edited("kv-rank", [](gguf::Writer& w) {
    w.set_u32("deepseek2.attention.kv_lora_rank", 96);
    w.set_u32("deepseek2.attention.key_length", 96 + 32);
    w.set_u32("deepseek2.attention.value_length", 96);
  }));
  CHECK_THAT(message, Catch::Contains("kv_lora_rank = 96") && Catch::Contains("attn_kv_a_norm.weight"));
}

TEST_CASE("a latent key length that is not kv_lora_rank plus the rope dims is refused naming key_length", "[deepseek2][model-load]") {
  const auto message = load_error(edited("key-length", [](gguf::Writer& w) { w.set_u32("deepseek2.attention.key_length", 150); }));
  CHECK_THAT(message, Catch::Contains("deepseek2.attention.key_length") && Catch::Contains("160"));
}

TEST_CASE("a q_lora_rank that does not match the tensors is refused naming the rank", "[deepseek2][model-load]") {
  const auto message = load_error(edited("q-rank", [](gguf::Writer& w) { w.set_u32("deepseek2.attention.q_lora_rank", 64); }));
  CHECK_THAT(message, Catch::Contains("q_lora_rank = 64") && Catch::Contains("attn_q_a"));
}

TEST_CASE("expert groups that do not divide the experts are refused at load naming the key", "[deepseek2][model-load]") {
  const auto message = load_error(edited("groups", [](gguf::Writer& w) { w.set_u32("deepseek2.expert_group_count", 3); }));
  CHECK_THAT(message, Catch::Contains("deepseek2.expert_group_count (3)"));
}

TEST_CASE("a rope dimension larger than the key is refused at load naming the key", "[deepseek2][model-load]") {
  const auto message = load_error(edited("rope-dims", [](gguf::Writer& w) { w.set_u32("deepseek2.rope.dimension_count", 128); }));
  CHECK_THAT(message, Catch::Contains("deepseek2.rope.dimension_count (128)"));
}

TEST_CASE("an unknown expert gating function is refused naming the key", "[deepseek2][model-load]") {
  const auto message = load_error(edited("gating", [](gguf::Writer& w) { w.set_u32("deepseek2.expert_gating_func", 4); }));
  CHECK_THAT(message, Catch::Contains("deepseek2.expert_gating_func") && Catch::Contains("sigmoid"));
}
