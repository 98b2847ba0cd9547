#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "engine/models/model_spec.h"

using namespace scout;

namespace {
const TensorSpec* find(const std::vector<TensorSpec>& ts, const std::string& name) {
  auto it = std::find_if(ts.begin(), ts.end(), [&](const TensorSpec& t) { return t.name == name; });
  return it == ts.end() ? nullptr : &*it;
}
}  // namespace

TEST_CASE("the qwen3-30b-a3b preset has Qwen3-30B-A3B's parameter count", "[models]") {
  auto hp = preset_hparams("qwen3-30b-a3b", Arch::qwen3moe);
  REQUIRE(hp);
  hp->n_vocab = 151936;
  // Qwen3-30B-A3B: 30.5 B parameters in total (model card).
  CHECK(hp->n_params() > 30'400'000'000ull);
  CHECK(hp->n_params() < 30'600'000'000ull);
  CHECK(validate_hparams(*hp));
}

TEST_CASE("qwen3moe layers carry a router and three stacked expert tensors in ggml order", "[models]") {
  auto hp = preset_hparams("tiny", Arch::qwen3moe);
  REQUIRE(hp);
  hp->n_vocab = 1000;
  auto ts = expected_tensors(*hp);
  const auto* gate_inp = find(ts, "blk.1.ffn_gate_inp.weight");
  REQUIRE(gate_inp);
  CHECK(gate_inp->shape == std::vector<uint64_t>{hp->n_embd, hp->n_expert});
  CHECK(gate_inp->role == TensorRole::router);
  const auto* down = find(ts, "blk.0.ffn_down_exps.weight");
  REQUIRE(down);
  CHECK(down->shape == std::vector<uint64_t>{hp->n_ff_exp, hp->n_embd, hp->n_expert});
  CHECK(find(ts, "blk.0.attn_q_norm.weight"));
  CHECK_FALSE(find(ts, "blk.0.ffn_gate.weight"));
  CHECK_FALSE(find(ts, "output.weight"));  // tiny ties the output to the embedding
}

TEST_CASE("qwen2 has q/k/v biases and no qk-norm; llama has neither", "[models]") {
  for (Arch arch : {Arch::qwen2, Arch::llama}) {
    auto hp = preset_hparams("small", arch);
    REQUIRE(hp);
    hp->n_vocab = 1000;
    auto ts = expected_tensors(*hp);
    CHECK((find(ts, "blk.0.attn_k.bias") != nullptr) == (arch == Arch::qwen2));
    CHECK_FALSE(find(ts, "blk.0.attn_k_norm.weight"));
    CHECK(find(ts, "blk.23.ffn_down.weight"));
    CHECK_FALSE(find(ts, "blk.24.ffn_down.weight"));
  }
}

TEST_CASE("tensor names are unique in every preset", "[models]") {
  for (Arch arch : {Arch::qwen3moe, Arch::qwen3, Arch::qwen2, Arch::llama}) {
    for (auto preset : {"tiny", "small"}) {
      auto hp = preset_hparams(preset, arch);
      REQUIRE(hp);
      hp->n_vocab = 64;
      std::set<std::string> names;
      for (const auto& t : expected_tensors(*hp)) CHECK(names.insert(t.name).second);
    }
  }
}

TEST_CASE("hyperparameters that the forward pass cannot use are refused with the reason", "[models]") {
  auto hp = preset_hparams("tiny", Arch::qwen3moe);
  REQUIRE(hp);
  hp->n_vocab = 100;
  REQUIRE(validate_hparams(*hp));
  auto bad = *hp;
  bad.n_head_kv = 3;
  auto r = validate_hparams(bad);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("head_count_kv"));
  bad = *hp;
  bad.n_expert_used = bad.n_expert + 1;
  r = validate_hparams(bad);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("expert_used_count"));
}

TEST_CASE("an unknown preset or a MoE-only preset on a dense arch is an error", "[models]") {
  CHECK_FALSE(preset_hparams("huge", Arch::qwen3));
  CHECK_FALSE(preset_hparams("qwen3-30b-a3b", Arch::llama));
  CHECK(arch_from_name("qwen3moe") == Arch::qwen3moe);
  CHECK_FALSE(arch_from_name("gpt2"));
}
