// The engine against llama.cpp itself (node-llama-cpp's prebuilt CPU build, a black box): on the
// same GGUF files, the first 64 greedy tokens after a prompt are identical, for every
// architecture, at F32 and Q8_0. Both sides use an F16 KV cache (llama.cpp's default).
#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>

#include "tests/common/process.h"
#include "tests/engine/session/tiny_models.h"

using namespace scout;

TEST_CASE("the first 64 greedy tokens are llama.cpp's for every architecture at F32 and Q8_0", "[llama.cpp]") {
  const std::vector<int32_t> prompt{785, 6722, 315, 9625, 374, 12095, 13, 576, 6722, 315, 9856, 374};
  std::string ids;
  for (size_t i = 0; i < prompt.size(); ++i) ids += (i ? "," : "") + std::to_string(prompt[i] % 1000);

  std::vector<std::string> files;
  for (Arch arch : {Arch::qwen3moe, Arch::qwen3, Arch::qwen2, Arch::llama})
    for (GgmlType type : {GgmlType::F32, GgmlType::Q8_0})
      files.push_back(test::tiny_model_path({.arch = arch, .type = type, .separate_output = true, .seed = 11}));

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
                                       " --tokens " + ids + " -n 64 --greedy --ignore-eos --json -c 512");
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
