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

void check_greedy_parity(const std::vector<std::string>& files) {
  const std::vector<int32_t> prompt{785, 6722, 315, 9625, 374, 12095, 13, 576, 6722, 315, 9856, 374};
  std::string ids;
  for (size_t i = 0; i < prompt.size(); ++i) ids += (i ? "," : "") + std::to_string(prompt[i] % 1000);

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

struct Agreement {
  double max_diff = 0.0;         // over every logit of the 64 steps
  int exact_argmax = 0;          // steps where Scout's argmax is llama.cpp's token
  float worst_gap_ours = 0.0f;   // where they differ: Scout's argmax minus llama.cpp's token, in Scout's logits
};

// Teacher-forced comparison on llama.cpp's own 64-token greedy continuation of the prompt: Scout
// reads prompt + continuation and its logits at every step are compared with llama.cpp's.
Agreement teacher_forced_agreement(const std::string& file) {
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

  Agreement a;
  for (size_t step = 0; step < theirs.size(); ++step) {
    const size_t pos = prompt.size() - 1 + step;
    const auto ours = session->logits_at(pos);
    const auto& row = their_logits.at(pos);
    REQUIRE(row.size() == ours.size());
    for (size_t v = 0; v < ours.size(); ++v)
      a.max_diff = std::max(a.max_diff, std::abs(static_cast<double>(ours[v]) - row[v].get<double>()));
    const auto argmax = static_cast<int32_t>(std::max_element(ours.begin(), ours.end()) - ours.begin());
    if (argmax == theirs[step]) {
      ++a.exact_argmax;
      continue;
    }
    const auto mine = static_cast<size_t>(argmax), chosen = static_cast<size_t>(theirs[step]);
    a.worst_gap_ours = std::max(a.worst_gap_ours, ours[mine] - ours[chosen]);
  }
  return a;
}

struct Parting {
  int step = -1;     // first step where Scout's greedy token is not llama.cpp's; -1: none in 64
  float gap = 0.0f;  // there, llama.cpp's logit of its token minus its logit of Scout's token
};

// Where Scout's greedy continuation first leaves llama.cpp's, and how close the choice was in
// llama.cpp's own logits at that step (both engines have read the same tokens up to it).
Parting first_parting(const std::string& file) {
  std::vector<int32_t> prompt{785, 6722, 315, 9625, 374, 12095, 13, 576, 6722, 315, 9856, 374};
  for (auto& id : prompt) id %= 1000;
  std::string ids;
  for (size_t i = 0; i < prompt.size(); ++i) ids += (i ? "," : "") + std::to_string(prompt[i]);
  const auto peer = test::run_command("cd " + test::shell_quote(SCOUT_REFERENCE_DIR) + " && node llama_cpp_greedy.mjs 64 " +
                                      ids + " " + test::shell_quote(file));
  INFO(peer.output);
  REQUIRE(peer.exit_code == 0);
  const std::vector<int32_t> theirs = nlohmann::json::parse(peer.output).at(0).at("greedy");
  const auto run = test::run_command(test::shell_quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout") + " generate -m " +
                                     test::shell_quote(file) + " --tokens " + ids +
                                     " -n 64 --greedy --ignore-eos --json -c 512 --kv-type f32");
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  const std::vector<int32_t> ours = nlohmann::json::parse(run.output).at("tokens");
  REQUIRE(theirs.size() == 64);
  REQUIRE(ours.size() == 64);
  Parting p;
  const auto it = std::mismatch(ours.begin(), ours.end(), theirs.begin()).first;
  if (it == ours.end()) return p;
  p.step = static_cast<int>(it - ours.begin());
  std::vector<int32_t> sequence = prompt;
  sequence.insert(sequence.end(), theirs.begin(), theirs.begin() + p.step);
  nlohmann::json sequence_json = sequence;
  const auto logits_run = test::run_command("cd " + test::shell_quote(SCOUT_REFERENCE_DIR) +
                                            " && node torch_reference/llama_cpp_logits.mjs " + test::shell_quote(file) +
                                            " " + test::shell_quote(sequence_json.dump()));
  REQUIRE(logits_run.exit_code == 0);
  const auto reference = nlohmann::json::parse(logits_run.output);
  const auto& row = reference.at("logits").back();
  p.gap = row.at(static_cast<size_t>(theirs[static_cast<size_t>(p.step)])).get<float>() -
          row.at(static_cast<size_t>(ours[static_cast<size_t>(p.step)])).get<float>();
  return p;
}

}  // namespace

TEST_CASE("the first 64 greedy tokens are llama.cpp's for every architecture at F32 and Q8_0", "[llama.cpp]") {
  std::vector<test::TinyModel> models;
  for (Arch arch : {Arch::qwen3moe, Arch::qwen3, Arch::qwen2, Arch::llama})
    for (GgmlType type : {GgmlType::f32, GgmlType::q8_0})
      if (!(arch == Arch::qwen2 && type == GgmlType::q8_0))
        models.push_back({.arch = arch, .type = type, .separate_output = true, .seed = 11});
  std::vector<std::string> files;
  for (const auto& m : models) files.push_back(test::tiny_model_path(m));
  check_greedy_parity(files);
}

// deepseek2 in both tensor forms (the split attn_k_b / attn_v_b that llama.cpp runs in the
// absorbed form, and the older attn_kv_b that it runs as plain multi-head attention) and both
// flavours: V3-like (q-LoRA, sigmoid routing with bias and groups, YaRN) and V2-Lite-like.
// At Q8_0 only the V2-Lite-like split file is identical; the others are checked below.
TEST_CASE("the first 64 greedy tokens are llama.cpp's for deepseek2 in both tensor forms at F32", "[llama.cpp][deepseek2]") {
  std::vector<std::string> files;
  for (bool lite : {false, true})
    for (bool split : {true, false})
      files.push_back(test::tiny_deepseek_path({.lite = lite, .split_kv_b = split, .type = GgmlType::f32, .seed = 11}));
  files.push_back(test::tiny_deepseek_path({.lite = true, .split_kv_b = true, .type = GgmlType::q8_0, .seed = 11}));
  check_greedy_parity(files);
}

// qwen2 at Q8_0 is the one model of these four whose greedy path parts from llama.cpp's (at token 31). The
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
  const auto agreement = teacher_forced_agreement(test::tiny_model_path(tiny));
  INFO("max |logit difference| " << agreement.max_diff << ", argmax equal at " << agreement.exact_argmax
                                 << " of 64 steps");
  CHECK(agreement.max_diff <= 0.25);
  CHECK(agreement.exact_argmax >= 60);
  CHECK(agreement.worst_gap_ours <= 0.1f);
}

// deepseek2 at Q8_0: the V2-Lite-like split file is identical (above). The others part from
// llama.cpp's greedy path at a step where llama.cpp's own two best logits are nearly tied, for
// reasons that are not defects:
// - llama.cpp runs single-attn_kv_b files as plain multi-head attention, quantizing the latent
//   to Q8_0 before decompressing K and V, while Scout decodes every file in the absorbed form
//   (the query goes into the latent space through the exact transposed key matrix): the two
//   differ by a Q8_0 rounding of the latent;
// - as for qwen2, the engines sum attention in different float orders, and a last-bit
//   difference can move a Q8_0 activation by one level.
// Measured: the paths part at steps 6, 19 and 56, where llama.cpp's top two differ by 0.018,
// 0.0017 and 0.0021. After a different token the continuations are unrelated, and with V3's
// sigmoid routing a near-tied expert choice can move later logits by ~2, so teacher forcing
// is not a useful measure there.
TEST_CASE("deepseek2 at Q8_0 follows llama.cpp's greedy path until a near-tie in llama.cpp's own logits",
          "[llama.cpp][deepseek2]") {
  for (const auto& spec : {test::TinyDeepseek{.lite = true, .split_kv_b = false, .type = GgmlType::q8_0, .seed = 11},
                           test::TinyDeepseek{.lite = false, .split_kv_b = false, .type = GgmlType::q8_0, .seed = 11},
                           test::TinyDeepseek{.lite = false, .split_kv_b = true, .type = GgmlType::q8_0, .seed = 11}}) {
    const auto file = test::tiny_deepseek_path(spec);
    INFO(file);
    const auto parting = first_parting(file);
    INFO("paths part at step " << parting.step << " where llama.cpp's logits favour its token by " << parting.gap);
    CHECK(parting.gap <= 0.05f);
  }
}
