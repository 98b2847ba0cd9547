// The hand-written pre-tokenizer scanners against the regexes they stand for. The reference is
// the vocabulary's own Split regexes run by node (JavaScript RegExp with the 'u' flag, built as
// transformers.js builds them), on the corpus and on many thousands of random strings of tricky
// code points. Oniguruma (used by the HF tokenizers library) and JavaScript disagree on \s for
// U+0085 and U+FEFF and on whether (?i:'s) matches U+017F; Scout follows Oniguruma, so strings
// holding those are compared with the patterns rewritten to Oniguruma's meaning, and, when the
// HF library is installed, with its own pre-tokenizer too.
#include <catch2/catch.hpp>

#include "engine/tokenizer/pretokenize.h"
#include "tests/engine/tokenizer/tokenizer_test_util.h"

namespace scout {
namespace {

using nlohmann::json;

std::vector<std::string> split(PreType type, std::string_view text) {
  std::vector<std::string_view> views;
  pre_tokenize(type, text, views);
  return {views.begin(), views.end()};
}

std::string show(const std::vector<std::string>& pieces) { return json(pieces).dump(); }

// Compares Scout's pieces with the reference's for every text; reports the first mismatches.
void compare_splits(PreType type, const std::vector<std::string>& texts, const json& expected, const char* what) {
  REQUIRE(expected.size() == texts.size());
  size_t mismatches = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const auto ours = split(type, texts[i]);
    const auto theirs = expected[i].get<std::vector<std::string>>();
    if (ours != theirs) {
      if (++mismatches <= 5) {
        UNSCOPED_INFO(what << " " << pre_type_name(type) << " input " << json(texts[i]).dump() << "\n  scout:     "
                           << show(ours) << "\n  reference: " << show(theirs));
      }
    }
  }
  INFO(what << ": " << texts.size() - mismatches << " of " << texts.size() << " identical");
  CHECK(mismatches == 0);
}

const PreType kAllPre[] = {PreType::qwen2, PreType::llama_bpe, PreType::deepseek_v3};

TEST_CASE("pre-tokenizer names round-trip and unknown names are refused", "[tokenizer]") {
  for (PreType t : kAllPre) CHECK(pre_type_from_name(pre_type_name(t)) == t);
  CHECK_FALSE(pre_type_from_name("gpt2").has_value());
  CHECK_FALSE(pre_type_from_name("").has_value());
}

TEST_CASE("qwen2 splitting matches hand-worked examples of its regex", "[tokenizer]") {
  using V = std::vector<std::string>;
  CHECK(split(PreType::qwen2, "Hello world") == V{"Hello", " world"});
  CHECK(split(PreType::qwen2, "I'm here, they'LL go") == V{"I", "'m", " here", ",", " they", "'LL", " go"});
  CHECK(split(PreType::qwen2, "12345") == V{"1", "2", "3", "4", "5"});
  CHECK(split(PreType::qwen2, "a  b") == V{"a", " ", " b"});           // \s+(?!\S) leaves one space
  CHECK(split(PreType::qwen2, "a   \n\n  b") == V{"a", "   \n\n", " ", " b"});
  CHECK(split(PreType::qwen2, "end   ") == V{"end", "   "});             // trailing run kept whole
  CHECK(split(PreType::qwen2, "x ...\n\ny") == V{"x", " ...\n\n", "y"});
  CHECK(split(PreType::qwen2, "\tfoo") == V{"\tfoo"});                  // any non-newline prefix
  CHECK(split(PreType::qwen2, "\nfoo") == V{"\n", "foo"});
  CHECK(split(PreType::qwen2, "it'\xC5\xBFt") == V{"it", "'\xC5\xBF", "t"});  // (?i:'s) folds U+017F
  CHECK(split(PreType::qwen2, "") == V{});
}

TEST_CASE("llama-bpe splitting groups digits by three", "[tokenizer]") {
  using V = std::vector<std::string>;
  CHECK(split(PreType::llama_bpe, "1234567") == V{"123", "456", "7"});
  CHECK(split(PreType::llama_bpe, "x 42") == V{"x", " ", "42"});
}

TEST_CASE("deepseek-v3 splitting applies its three regexes piece by piece", "[tokenizer]") {
  using V = std::vector<std::string>;
  CHECK(split(PreType::deepseek_v3, "abc1234def") == V{"abc", "123", "4", "def"});
  CHECK(split(PreType::deepseek_v3, "hello 中文テスト!") == V{"hello", " ", "中文テスト", "!"});
  CHECK(split(PreType::deepseek_v3, ".NET and #include") == V{".NET", " and", " #", "include"});
  // U+FEFF is not whitespace and not a letter or punctuation: it is left between matches.
  CHECK(split(PreType::deepseek_v3, "x \xEF\xBB\xBF") == V{"x", " ", "\xEF\xBB\xBF"});
}

TEST_CASE("ill-formed UTF-8 bytes land in pieces and nothing is lost", "[tokenizer]") {
  const std::string bad = std::string("ab\xFF") + "cd \xC3" + " \xE2\x82" + "x\x80\x80 1\xF0\x9F\x98";
  for (PreType t : kAllPre) {
    std::string joined;
    for (const auto& p : split(t, bad)) {
      CHECK_FALSE(p.empty());
      joined += p;
    }
    CHECK(joined == bad);
  }
}

TEST_CASE("pre-tokenizers split the corpus exactly as their regexes do", "[tokenizer]") {
  std::vector<std::string> texts;
  for (const auto& f : test::corpus()) {
    texts.push_back(f.text);
    for (auto& line : test::split_lines(f.text)) texts.push_back(std::move(line));
  }
  for (PreType t : kAllPre) {
    const json expected = test::run_reference({"split", "--pre", std::string(pre_type_name(t))}, texts);
    compare_splits(t, texts, expected, "corpus");
  }
}

TEST_CASE("pre-tokenizers agree with the JavaScript regexes on random tricky strings", "[tokenizer]") {
  const auto texts = test::random_tricky_strings(20240601, 12000, 24, /*with_js_divergent=*/false);
  for (PreType t : kAllPre) {
    const json expected = test::run_reference({"split", "--pre", std::string(pre_type_name(t))}, texts);
    compare_splits(t, texts, expected, "random (JavaScript semantics)");
  }
}

TEST_CASE("pre-tokenizers follow Oniguruma where JavaScript's regexes differ", "[tokenizer]") {
  const auto texts = test::random_tricky_strings(777, 12000, 24, /*with_js_divergent=*/true);
  for (PreType t : kAllPre) {
    const json expected =
        test::run_reference({"split", "--pre", std::string(pre_type_name(t)), "--semantics", "onig"}, texts);
    compare_splits(t, texts, expected, "random (Oniguruma semantics)");
  }
}

TEST_CASE("the divergent code points really split differently in JavaScript", "[tokenizer]") {
  // Guards the test above: if the JavaScript and Oniguruma patterns agreed on these, the
  // divergent strings would prove nothing.
  const std::vector<std::string> texts = {"a \xC2\x85 b", "?\xEF\xBB\xBF\n", "it'\xC5\xBFt"};
  const json js = test::run_reference({"split", "--pre", "deepseek-v3"}, texts);
  const json onig = test::run_reference({"split", "--pre", "deepseek-v3", "--semantics", "onig"}, texts);
  const json js_qwen = test::run_reference({"split", "--pre", "qwen2"}, texts);
  const json onig_qwen = test::run_reference({"split", "--pre", "qwen2", "--semantics", "onig"}, texts);
  CHECK(js[0] != onig[0]);
  CHECK(js_qwen[1] != onig_qwen[1]);
  CHECK(js_qwen[2] != onig_qwen[2]);
  CHECK(split(PreType::deepseek_v3, texts[0]) == onig[0].get<std::vector<std::string>>());
  CHECK(split(PreType::qwen2, texts[1]) == onig_qwen[1].get<std::vector<std::string>>());
  CHECK(split(PreType::qwen2, texts[2]) == onig_qwen[2].get<std::vector<std::string>>());
}

TEST_CASE("pre-tokenizers agree with the HF tokenizers library's own pre-tokenizer", "[tokenizer]") {
  INFO("the HF tokenizers library (npm package 'tokenizers') is missing: run scripts/setup.sh");
  REQUIRE(test::hf_reference_available());
  const auto texts = test::random_tricky_strings(99, 6000, 24, /*with_js_divergent=*/true);
  const std::pair<PreType, const char*> vocabs[] = {
      {PreType::qwen2, "qwen3"}, {PreType::llama_bpe, "llama3"}, {PreType::deepseek_v3, "deepseek_v3"}};
  for (const auto& [t, name] : vocabs) {
    const json expected = test::run_reference({"split-hf", "--vocab", name}, texts);
    compare_splits(t, texts, expected, "random (HF tokenizers)");
  }
}

}  // namespace
}  // namespace scout
