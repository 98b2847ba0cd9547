// The engine against llama.cpp itself (node-llama-cpp's prebuilt CPU build, a black box): on the
// same GGUF files, the first 64 greedy tokens after a prompt are identical, for every
// architecture, at F32 and Q8_0. Both sides keep the KV cache in F32 (flash attention off in
// llama.cpp), so what is compared is the model arithmetic: with F16 caches the two engines
// round in different places and near-ties (logit gaps of ~1e-3) can go either way.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "engine/session/session.h"
#include "tests/common/process.h"
#include "tests/engine/session/tiny_models.h"

using namespace scout;

namespace {

void check_greedy_parity(const std::vector<test::TinyModel>& models) {
  const std::vector<int32_t> prompt{785, 6722, 315, 9625, 374, 12095, 13, 576, 6722, 315, 9856, 374};
  std::string ids;
  for (size_t i = 0; i < prompt.size(); ++i) ids += (i ? "," : "") + std::to_string(prompt[i] % 1000);

  std::vector<std::string> files;
  for (const auto& m : models) files.push_back(test::tiny_model_path(m));

  std::string command = "cd " + test::shell_quote(SCOUT_REFERENCE_DIR) + " && node llama_cpp_greedy.mjs 64 " + ids;
  for (const auto& f : files) command += " " + test::shell_quote(f);
  const auto peer = test::run_command(command);
  INFO(peer.output);
  REQUIRE(peer.exit_code == 0);
  const auto peer_results = nlohmann::json::parse(peer.output);
  REQUIRE(peer_results.size() == files.size());

  const std::string scout = std::string(SCOUT_BINARY_DIR) + "/cli/scout";
  for (size_t i = 0; i < files.size(); ++i) {
    INFO(files[i]);
    REQUIRE(peer_results[i].at("ok").get<bool>());
    const std::vector<int32_t> theirs = peer_results[i].at("greedy");
    const auto run = test::run_command(test::shell_quote(scout) + " generate -m " + test::shell_quote(files[i]) +
                                       " --tokens " + ids + " -n 64 --greedy --ignore-eos --json -c 512 --kv-type f32");
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    const auto out = nlohmann::json::parse(run.output);
    const std::vector<int32_t> ours = out.at("tokens");
    REQUIRE(theirs.size() == 64);
    CHECK(ours == theirs);
    // A random model could fall into repeating one token, which would make the comparison weak.
    CHECK(std::set<int32_t>(ours.begin(), ours.end()).size() >= 8);
  }
}

}  // namespace

TEST_CASE("the first 64 greedy tokens are llama.cpp's for every architecture at F32 and Q8_0", "[llama.cpp]") {
  std::vector<test::TinyModel> models;
  for (Arch arch : {Arch::qwen3moe, Arch::qwen3, Arch::qwen2, Arch::llama})
    for (GgmlType type : {GgmlType::f32, GgmlType::q8_0})
      if (!(arch == Arch::qwen2 && type == GgmlType::q8_0))
        models.push_back({.arch = arch, .type = type, .separate_output = true, .seed = 11});
  check_greedy_parity(models);
}

// qwen2 at Q8_0 is the one model whose greedy path parts from llama.cpp's (at token 31). The
// cause is known and is not a defect of either engine: the two compute attention in different
// float orders (ggml uses its own SIMD exp and sums over positions in another order), so about
// 84% of attention outputs differ in the last bit. Layer 0's attention output at prompt position
// 6 has an element that scales to -80.50001 in llama.cpp and -80.499985 here; quantized to Q8_0
// for the output projection, one rounds to -81 and the other to -80, and that one level moves
// every later logit by ~0.04. Bit-equal paths would need ggml's exp approximation itself.
// What is checked instead: teacher-forced on llama.cpp's own 64-token greedy continuation, every
// logit stays within 0.25 of llama.cpp's, and wherever Scout's argmax is not llama.cpp's token,
// the two are within 0.1 of each other in Scout's logits (a near-tie one rounding step decides).
TEST_CASE("qwen2 at Q8_0 follows llama.cpp's greedy path to within one activation rounding step", "[llama.cpp]") {
  const test::TinyModel tiny{.arch = Arch::qwen2, .type = GgmlType::q8_0, .separate_output = true, .seed = 11};
  const std::string file = test::tiny_model_path(tiny);
  std::vector<int32_t> prompt{785, 6722, 315, 9625, 374, 12095, 13, 576, 6722, 315, 9856, 374};
  for (auto& id : prompt) id %= 1000;
  std::string ids;
  for (size_t i = 0; i < prompt.size(); ++i) ids += (i ? "," : "") + std::to_string(prompt[i]);

  // llama.cpp's greedy continuation, then its logits at every position of prompt + continuation.
  const auto greedy_run = test::run_command("cd " + test::shell_quote(SCOUT_REFERENCE_DIR) +
                                            " && node llama_cpp_greedy.mjs 64 " + ids + " " + test::shell_quote(file));
  INFO(greedy_run.output);
  REQUIRE(greedy_run.exit_code == 0);
  const auto greedy_json = nlohmann::json::parse(greedy_run.output);
  REQUIRE(greedy_json.at(0).at("ok").get<bool>());
  const std::vector<int32_t> theirs = greedy_json.at(0).at("greedy");
  REQUIRE(theirs.size() == 64);
  std::vector<int32_t> sequence = prompt;
  sequence.insert(sequence.end(), theirs.begin(), theirs.end() - 1);
  nlohmann::json sequence_json = sequence;
  const auto logits_run = test::run_command("cd " + test::shell_quote(SCOUT_REFERENCE_DIR) +
                                            " && node torch_reference/llama_cpp_logits.mjs " +
                                            test::shell_quote(file) + " " + test::shell_quote(sequence_json.dump()));
  REQUIRE(logits_run.exit_code == 0);
  const auto reference = nlohmann::json::parse(logits_run.output);
  const auto& their_logits = reference.at("logits");
  REQUIRE(their_logits.size() == sequence.size());

  auto model = Model::load(file);
  REQUIRE(model.has_value());
  auto session = Session::create(*model, make_cpu_ops(1), {.n_ctx = 512, .kv_type = KvType::f32});
  REQUIRE(session.has_value());
  REQUIRE(session->append(sequence, true).has_value());

  double max_diff = 0.0;
  int exact_argmax = 0;
  for (size_t step = 0; step < theirs.size(); ++step) {
    const size_t pos = prompt.size() - 1 + step;
    const auto ours = session->logits_at(pos);
    const auto& row = their_logits.at(pos);
    REQUIRE(row.size() == ours.size());
    for (size_t v = 0; v < ours.size(); ++v)
      max_diff = std::max(max_diff, std::abs(static_cast<double>(ours[v]) - row[v].get<double>()));
    const auto argmax = static_cast<int32_t>(std::max_element(ours.begin(), ours.end()) - ours.begin());
    INFO("step " << step << ": llama.cpp chose " << theirs[step] << ", Scout's argmax is " << argmax);
    if (argmax == theirs[step]) {
      ++exact_argmax;
    } else {
      CHECK(ours[static_cast<size_t>(argmax)] - ours[static_cast<size_t>(theirs[step])] <= 0.1f);
    }
  }
  INFO("max |logit difference| " << max_diff << ", argmax equal at " << exact_argmax << " of 64 steps");
  CHECK(max_diff <= 0.25);
  CHECK(exact_argmax >= 60);
}
