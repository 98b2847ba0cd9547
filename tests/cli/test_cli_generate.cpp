// scout generate and scout bench end to end: output formats and exit codes (README.md).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "tests/common/process.h"
#include "tests/engine/session/tiny_models.h"

using scout::test::run_command;
const auto quote = scout::test::shell_quote;

namespace {

scout::test::CommandResult scout_cli(const std::string& args, bool with_stderr = true) {
  return run_command(quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout") + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

std::string tiny() { return quote(scout::test::tiny_model_path({.arch = scout::Arch::qwen3moe})); }

}  // namespace

TEST_CASE("scout generate --json prints the prompt ids, the generated ids, the text and timings", "[cli][generate]") {
  auto r = scout_cli("generate -m " + tiny() + " -p 'Hello there' -n 5 --greedy --ignore-eos --json", false);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j.at("prompt_tokens").size() >= 2);
  CHECK(j.at("tokens").size() == 5);
  CHECK(j.at("stop_reason") == "max_tokens");
  CHECK(j.at("timings").at("n_generated") == 5);
  CHECK(j.at("text").is_string());
}

TEST_CASE("scout generate streams text and reports speed on stderr", "[cli][generate]") {
  auto r = scout_cli("generate -m " + tiny() + " -p 'Hello' -n 4 --seed 1 --ignore-eos");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("generated at") && Catch::Contains("stop: max_tokens"));
}

TEST_CASE("a prompt longer than the context fails with exit 1 and a hint, or is truncated on request", "[cli][generate]") {
  std::string ids;
  for (int i = 0; i < 40; ++i) ids += (i ? "," : "") + std::to_string(100 + i);
  auto r = scout_cli("generate -m " + tiny() + " --tokens " + ids + " -c 16 -n 2");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("40 tokens") && Catch::Contains("--truncate"));
  auto t = scout_cli("generate -m " + tiny() + " --tokens " + ids + " -c 16 -n 2 --greedy --json --truncate", false);
  INFO(t.output);
  REQUIRE(t.exit_code == 0);
  const auto j = nlohmann::json::parse(t.output);
  CHECK(j.at("prompt_tokens").size() == 15);
  CHECK(j.at("prompt_tokens").back() == 139);  // the end of the prompt is kept
  CHECK(j.at("tokens").size() == 2);  // the last one sampled from the full context, not stored
  CHECK(j.at("stop_reason") == "context_full");
}

TEST_CASE("scout generate refuses bad arguments with exit 2 and missing models with exit 3", "[cli][generate]") {
  auto bias = scout_cli("generate -m " + tiny() + " -p hi --logit-bias 12");
  CHECK(bias.exit_code == 2);
  CHECK_THAT(bias.output, Catch::Contains("ID=VALUE"));
  auto ids = scout_cli("generate -m " + tiny() + " --tokens 1,x,3");
  CHECK(ids.exit_code == 2);
  CHECK_THAT(ids.output, Catch::Contains("'x' is not a token id"));
  auto top_p = scout_cli("generate -m " + tiny() + " -p hi --top-p -2");
  CHECK(top_p.exit_code == 2);
  CHECK_THAT(top_p.output, Catch::Contains("top_p"));
  auto oob = scout_cli("generate -m " + tiny() + " --tokens 5,99999999");
  CHECK(oob.exit_code == 1);
  CHECK_THAT(oob.output, Catch::Contains("outside the vocabulary"));
  auto missing = scout_cli("generate -m /nonexistent/model.gguf -p hi");
  CHECK(missing.exit_code == 3);
  CHECK_THAT(missing.output, Catch::Contains("/nonexistent/model.gguf"));
}

TEST_CASE("scout generate --stop ends the output before the stop string", "[cli][generate]") {
  auto free_run = scout_cli("generate -m " + tiny() + " -p 'Once upon' -n 20 --greedy --ignore-eos --json", false);
  REQUIRE(free_run.exit_code == 0);
  const std::string text = nlohmann::json::parse(free_run.output).at("text");
  REQUIRE(text.size() > 10);
  const std::string stop = text.substr(text.size() / 2, 2);
  auto r = scout_cli("generate -m " + tiny() + " -p 'Once upon' -n 20 --greedy --ignore-eos --json --stop " + quote(stop), false);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j.at("stop_reason") == "stop_string");
  CHECK(j.at("text") == text.substr(0, text.find(stop)));
}

TEST_CASE("scout bench --json reports ppN and tgN runs, their medians and the bandwidth share", "[cli][bench]") {
  auto r = scout_cli("bench -m " + tiny() + " -p 32 -n 8 -r 2 -t 1 --json", false);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.output);
  CHECK(j.at("arch") == "qwen3moe");
  CHECK(j.at("weight_type") == "f32");
  CHECK(j.at("threads") == 1);
  REQUIRE(j.at("tests").size() == 2);
  CHECK(j.at("tests")[0].at("name") == "pp32");
  CHECK(j.at("tests")[1].at("name") == "tg8");
  CHECK(j.at("tests")[1].at("runs_tokens_per_s").size() == 2);
  CHECK(j.at("tests")[1].at("median_tokens_per_s").get<double>() > 0);
  CHECK(j.at("memory_bandwidth_gbs").get<double>() > 0);
  CHECK(j.at("decode_bytes_per_token").get<double>() > 0);
}
