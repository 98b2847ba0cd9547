// The engine against a from-scratch PyTorch forward pass (tests/reference/torch_reference):
// fixtures hold the reference logits for a 40-token prompt on tiny F32 models of every
// architecture; the prompt is read in batches of 16, so attention crosses batch boundaries.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "engine/session/session.h"
#include "tests/engine/session/tiny_models.h"

using namespace scout;

namespace {

struct Fixture {
  nlohmann::json header;
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;
  std::vector<float> logits;  // positions.size() rows of n_vocab
};

Fixture read_fixture(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  INFO(path << ": made by tests/reference/torch_reference/make_fixtures.py");
  REQUIRE(in);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  size_t at = 0;
  auto take = [&](void* dst, size_t n) {
    REQUIRE(at + n <= bytes.size());
    std::memcpy(dst, bytes.data() + at, n);
    at += n;
  };
  auto u32 = [&] {
    uint32_t v = 0;
    take(&v, 4);
    return v;
  };
  char magic[8];
  take(magic, 8);
  REQUIRE(std::string(magic, 8) == "SCOUTREF");
  REQUIRE(u32() == 1);
  const uint32_t header_len = u32();
  REQUIRE(at + header_len <= bytes.size());
  Fixture f;
  f.header = nlohmann::json::parse(bytes.substr(at, header_len));
  at += header_len;
  f.tokens.resize(u32());
  take(f.tokens.data(), f.tokens.size() * 4);
  f.positions.resize(u32());
  take(f.positions.data(), f.positions.size() * 4);
  f.logits.resize(f.positions.size() * f.header.at("n_vocab").get<size_t>());
  take(f.logits.data(), f.logits.size() * 4);
  REQUIRE(at == bytes.size());
  return f;
}

// Reads the fixture's prompt in batches of 16 with the model at `path` (rebuilt from the synth
// arguments the fixture records) and compares the logits at the fixture's positions.
void check_fixture(const std::string& name, const std::vector<std::string>& expected_args, const std::string& path,
                   SessionOptions options = {}) {
  const Fixture f = read_fixture(std::string(SCOUT_TEST_DATA_DIR) + "/reference_logits/" + name + ".bin");
  const std::vector<std::string> args = f.header.at("synth_args");
  REQUIRE(args == expected_args);
  auto model = Model::load(path);
  REQUIRE(model);
  const size_t n_vocab = (*model)->hparams().n_vocab;
  REQUIRE(n_vocab == f.header.at("n_vocab").get<size_t>());

  options.n_ctx = 64;
  options.n_batch = 16;
  options.kv_type = KvType::f32;
  auto session = Session::create(*model, make_cpu_ops(2), options);
  REQUIRE(session);
  REQUIRE(session->append(f.tokens, /*all_logits=*/true));
  for (size_t i = 0; i < f.positions.size(); ++i) {
    const auto ours = session->logits_at(static_cast<size_t>(f.positions[i]));
    float max_diff = 0;
    for (size_t v = 0; v < n_vocab; ++v) max_diff = std::max(max_diff, std::fabs(ours[v] - f.logits[i * n_vocab + v]));
    INFO(name << " position " << f.positions[i] << ": max |diff| " << max_diff
              << " (if synth's weights changed on purpose, re-run make_fixtures.py)");
    CHECK(max_diff <= 1e-3f);
  }
}

}  // namespace

struct Case {
  std::string fixture;
  test::TinyModel model;
  std::vector<std::string> extra_synth_args;
};

TEST_CASE("logits match the PyTorch reference forward pass within 1e-3 for every architecture and rope scaling",
          "[reference]") {
  using RS = ModelHparams::RopeScaling;
  const std::vector<Case> cases{
      {"qwen3moe", {.arch = Arch::qwen3moe}, {}},
      {"qwen3", {.arch = Arch::qwen3}, {}},
      {"qwen2", {.arch = Arch::qwen2}, {}},
      {"llama", {.arch = Arch::llama}, {}},
      {"qwen3moe-yarn",
       {.arch = Arch::qwen3moe, .rope_scaling = RS::yarn, .rope_factor = 4, .rope_n_ctx_orig = 1024},
       {"--rope-scaling", "yarn:4:1024"}},
      {"llama-linear", {.arch = Arch::llama, .rope_scaling = RS::linear, .rope_factor = 2}, {"--rope-scaling", "linear:2"}},
  };
  for (Case c : cases) {
    // The fixture names the synth arguments of its model; rebuild that exact model.
    std::vector<std::string> expected_args{"--preset", "tiny", "--arch", std::string(arch_name(c.model.arch)),
                                           "--type", "f32", "--seed", "7"};
    expected_args.insert(expected_args.end(), c.extra_synth_args.begin(), c.extra_synth_args.end());
    c.model.type = GgmlType::f32;
    c.model.separate_output = false;
    c.model.seed = 7;
    check_fixture(c.fixture, expected_args, test::tiny_model_path(c.model));
  }
}

// deepseek2 V3-like (q-LoRA, sigmoid routing with bias and groups, YaRN with mscale_all_dim)
// and V2-Lite-like, in both attention tensor forms, through both MLA paths.
TEST_CASE("deepseek2 logits match the PyTorch reference within 1e-3 in both flavours, forms and MLA paths",
          "[reference][deepseek2]") {
  for (bool lite : {false, true})
    for (bool split : {true, false})
      for (MlaAttention mla : {MlaAttention::absorbed, MlaAttention::naive}) {
        const std::string name = std::string(lite ? "deepseek2-lite" : "deepseek2-v3") + (split ? "" : "-single");
        std::vector<std::string> args{"--preset", lite ? "tiny-deepseek-lite" : "tiny-deepseek", "--arch", "deepseek2",
                                      "--type", "f32", "--seed", "7"};
        if (!split) args.insert(args.end(), {"--kv-b", "single"});
        INFO((mla == MlaAttention::naive ? "naive" : "absorbed"));
        check_fixture(name, args, test::tiny_deepseek_path({.lite = lite, .split_kv_b = split, .seed = 7}),
                      {.mla_attention = mla});
      }
}
