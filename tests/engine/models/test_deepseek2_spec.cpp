// deepseek2's shapes, its cache layout and the metadata its loader refuses (no model file
// needed: these are functions of the hyperparameters).
#include <catch2/catch.hpp>

#include <algorithm>

#include "engine/models/model_spec.h"

using namespace scout;

namespace {

const TensorSpec* find(const std::vector<TensorSpec>& ts, const std::string& name) {
  auto it = std::find_if(ts.begin(), ts.end(), [&](const TensorSpec& t) { return t.name == name; });
  return it == ts.end() ? nullptr : &*it;
}

ModelHparams preset(const char* name) {
  auto hp = preset_hparams(name, Arch::deepseek2);
  REQUIRE(hp);
  if (hp->n_vocab == 0) hp->n_vocab = 2000;
  return *hp;
}

}  // namespace

TEST_CASE("the deepseek-v3 preset has DeepSeek-V3's 671 B parameters without its prediction module", "[models][deepseek2]") {
  const ModelHparams hp = preset("deepseek-v3");
  CHECK(hp.n_vocab == 129280);
  // 671 B in the model card counts the main model; the 14 B multi-token-prediction module
  // (685 B on the hub) is not part of the graph.
  CHECK(hp.n_params() > 670'000'000'000ull);
  CHECK(hp.n_params() < 672'000'000'000ull);
  CHECK(validate_hparams(hp));
}

TEST_CASE("the deepseek-v2-lite preset has V2-Lite's 15.7 B parameters with its 102400-token vocabulary", "[models][deepseek2]") {
  ModelHparams hp = preset("deepseek-v2-lite");
  hp.n_vocab = 102400;
  CHECK(hp.n_params() > 15'600'000'000ull);
  CHECK(hp.n_params() < 15'800'000'000ull);
}

TEST_CASE("MLA caches one latent per token: DeepSeek-V3 at F16 takes 68.6 KiB a token against 4.8 MiB for per-head K and V",
          "[models][deepseek2]") {
  const ModelHparams hp = preset("deepseek-v3");
  const KvLayout layout = hp.kv_layout();
  CHECK(layout.n_head_kv == 1);
  CHECK(layout.k_dim == 512 + 64);
  CHECK(layout.v_dim == 512);
  CHECK(layout.v_in_k);
  CHECK(hp.kv_bytes_per_position(2) == 61ull * 576 * 2);                // 70272 bytes
  CHECK(hp.kv_bytes_per_position(2, true) == 61ull * 128 * 320 * 2);   // 4997120 bytes
}

TEST_CASE("grouped-query models keep per-head K and V in the cache", "[models][deepseek2]") {
  auto hp = preset_hparams("tiny", Arch::qwen3);
  REQUIRE(hp);
  const KvLayout layout = hp->kv_layout();
  CHECK(layout.n_head_kv == hp->n_head_kv);
  CHECK(layout.k_dim == hp->head_dim_k);
  CHECK_FALSE(layout.v_in_k);
  CHECK(hp->kv_bytes_per_position(2) == hp->kv_bytes_per_position(2, true));
}

TEST_CASE("deepseek2 leads with dense layers and carries shared experts in the others", "[models][deepseek2]") {
  const ModelHparams hp = preset("deepseek-v3");
  const auto ts = expected_tensors(hp);
  CHECK(find(ts, "blk.2.ffn_gate.weight"));
  CHECK_FALSE(find(ts, "blk.2.ffn_gate_inp.weight"));
  const auto* shexp = find(ts, "blk.3.ffn_down_shexp.weight");
  REQUIRE(shexp);
  CHECK(shexp->shape == std::vector<uint64_t>{2048, 7168});
  const auto* bias = find(ts, "blk.3.exp_probs_b.bias");
  REQUIRE(bias);
  CHECK(bias->role == TensorRole::bias);
  CHECK(find(ts, "blk.60.ffn_up_exps.weight"));
}

TEST_CASE("deepseek2 attention tensors follow q-LoRA and the kv_b form", "[models][deepseek2]") {
  ModelHparams hp = preset("tiny-deepseek");
  auto ts = expected_tensors(hp);
  REQUIRE(find(ts, "blk.0.attn_q_a.weight"));
  CHECK(find(ts, "blk.0.attn_q_b.weight")->shape == std::vector<uint64_t>{96, 4 * 96});
  CHECK(find(ts, "blk.0.attn_kv_a_mqa.weight")->shape == std::vector<uint64_t>{256, 128 + 32});
  CHECK(find(ts, "blk.0.attn_k_b.weight")->shape == std::vector<uint64_t>{64, 128, 4});
  CHECK(find(ts, "blk.0.attn_v_b.weight")->shape == std::vector<uint64_t>{128, 64, 4});
  CHECK_FALSE(find(ts, "blk.0.attn_q.weight"));
  CHECK_FALSE(find(ts, "blk.0.attn_kv_b.weight"));

  hp = preset("tiny-deepseek-lite");
  hp.mla_split_kv_b = false;
  ts = expected_tensors(hp);
  CHECK(find(ts, "blk.0.attn_q.weight"));
  CHECK_FALSE(find(ts, "blk.0.attn_q_a.weight"));
  CHECK(find(ts, "blk.0.attn_kv_b.weight")->shape == std::vector<uint64_t>{128, 4 * (64 + 64)});
  CHECK_FALSE(find(ts, "blk.0.attn_k_b.weight"));
  // A shape that disagrees is reported with the keys that set it.
  CHECK_THAT(find(ts, "blk.0.attn_kv_b.weight")->shape_from, Catch::Contains("kv_lora_rank = 128"));
}

TEST_CASE("expert groups that do not divide the experts are refused naming the key", "[models][deepseek2]") {
  ModelHparams hp = preset("tiny-deepseek");
  hp.n_expert_groups = 3;
  auto ok = validate_hparams(hp);
  REQUIRE_FALSE(ok);
  CHECK_THAT(ok.error().message, Catch::Contains("deepseek2.expert_group_count") && Catch::Contains("(3)"));
  hp.n_expert_groups = 4;
  hp.n_expert_groups_used = 5;
  ok = validate_hparams(hp);
  REQUIRE_FALSE(ok);
  CHECK_THAT(ok.error().message, Catch::Contains("deepseek2.expert_group_used_count"));
}

TEST_CASE("a rope part as long as the key is refused naming rope.dimension_count", "[models][deepseek2]") {
  ModelHparams hp = preset("tiny-deepseek");
  hp.rope_dims = hp.head_dim_k;
  auto ok = validate_hparams(hp);
  REQUIRE_FALSE(ok);
  CHECK_THAT(ok.error().message, Catch::Contains("deepseek2.rope.dimension_count") && Catch::Contains("key length"));
  hp.rope_dims = 200;
  CHECK_FALSE(validate_hparams(hp));
}

TEST_CASE("a deepseek preset names its architecture and is refused for another", "[models][deepseek2]") {
  CHECK(preset_arch("tiny-deepseek") == Arch::deepseek2);
  CHECK(preset_arch("deepseek-v3") == Arch::deepseek2);
  CHECK(preset_arch("qwen3-30b-a3b") == Arch::qwen3moe);
  CHECK_FALSE(preset_arch("tiny"));
  auto hp = preset_hparams("deepseek-v3", Arch::qwen3);
  REQUIRE_FALSE(hp);
  CHECK_THAT(hp.error().message, Catch::Contains("--arch deepseek2"));
  CHECK_FALSE(preset_hparams("tiny", Arch::deepseek2));
}
