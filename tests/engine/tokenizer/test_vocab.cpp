// Importing tokenizer.json, the GGUF round trip of a Vocab, and truncated vocabularies.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "engine/gguf/gguf.h"
#include "engine/tokenizer/unicode.h"
#include "engine/tokenizer/vocab_gguf.h"
#include "tests/engine/tokenizer/tokenizer_test_util.h"

namespace scout {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Vocab import(const std::string& name) {
  test::require_reference_peers();
  auto v = vocab_from_tokenizer_json(test::vocab_json_path(name), test::vocab_config_path(name));
  if (!v) FAIL(v.error().message);
  return std::move(*v);
}

int32_t find(const Vocab& v, const std::string& text) {
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.tokens[i] == text) return static_cast<int32_t>(i);
  }
  FAIL("no token " << text);
  return -1;
}

std::vector<std::byte> to_gguf(const Vocab& v) {
  gguf::Writer w;
  w.set_string("general.architecture", "test");
  write_vocab(w, v);
  std::vector<std::byte> bytes;
  if (auto r = w.write(bytes); !r) FAIL(r.error().describe());
  return bytes;
}

Result<Vocab> from_gguf(const std::vector<std::byte>& bytes) {
  auto f = gguf::File::from_memory(bytes, "vocab.gguf");
  if (!f) FAIL(f.error().describe());
  return vocab_from_gguf(*f);
}

// A scratch tokenizer.json: the Qwen3 one with `edit` applied.
std::string scratch_tokenizer_json(const std::function<void(json&)>& edit) {
  std::ifstream in(test::vocab_json_path("qwen3"));
  json j = json::parse(in);
  edit(j);
  const fs::path p = fs::temp_directory_path() / ("scout-tok-json-" + std::to_string(getpid()) + ".json");
  std::ofstream(p) << j.dump();
  return p.string();
}

TEST_CASE("Qwen3's tokenizer.json imports with llama.cpp's token types and specials", "[tokenizer]") {
  const Vocab v = import("qwen3");
  CHECK(v.pre == "qwen2");
  CHECK(v.model == "gpt2");
  CHECK(v.tokens.size() == 151669);
  CHECK(v.merges.size() == 151387);
  CHECK(v.merges[0] == "\xC4\xA0 \xC4\xA0");
  CHECK(v.token_types[find(v, "<|im_start|>")] == TokenType::control);
  CHECK(v.token_types[find(v, "<|fim_prefix|>")] == TokenType::control);  // special:false, looks special
  CHECK(v.token_types[find(v, "<think>")] == TokenType::user_defined);
  CHECK(v.token_types[find(v, "<tool_call>")] == TokenType::user_defined);
  CHECK(v.token_types[find(v, "hello")] == TokenType::normal);
  CHECK_FALSE(v.bos_id.has_value());
  CHECK(v.eos_id == find(v, "<|im_end|>"));
  CHECK(v.eot_id == find(v, "<|im_end|>"));
  CHECK(v.pad_id == find(v, "<|endoftext|>"));
  CHECK_FALSE(v.add_bos);
  CHECK(v.added_flags.empty());
}

TEST_CASE("Llama 3 and DeepSeek-V3 import with their pre-tokenizers and bos settings", "[tokenizer]") {
  const Vocab llama = import("llama3");
  CHECK(llama.pre == "llama-bpe");
  CHECK(llama.tokens.size() == 128256);
  CHECK(llama.bos_id == 128000);
  CHECK(llama.eos_id == 128001);
  CHECK(llama.eot_id == find(llama, "<|eot_id|>"));
  CHECK(llama.add_bos);  // not in its tokenizer_config.json: llama.cpp's default for llama-bpe

  const Vocab ds = import("deepseek_v3");
  CHECK(ds.pre == "deepseek-v3");
  CHECK(ds.tokens.size() == 128815);
  CHECK(ds.bos_id == 0);
  CHECK(ds.eos_id == 1);
  CHECK(ds.add_bos);
  CHECK(ds.token_types[0] == TokenType::control);
  CHECK(ds.token_types[find(ds, "<\uFF5CUser\uFF5C>")] == TokenType::control);
  CHECK(ds.token_types[1000] == TokenType::normal);
  // tokenizer_config.json's chat_template is kept, as llama.cpp's converter keeps it.
  CHECK_THAT(ds.chat_template, Catch::Contains("<\uFF5CAssistant\uFF5C>"));
  CHECK_THAT(import("qwen3").chat_template, Catch::Contains("<|im_start|>"));
}

TEST_CASE("an unknown pre-tokenizer regex is refused and the message quotes it", "[tokenizer]") {
  const std::string path = scratch_tokenizer_json([](json& j) {
    j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\p{L}+|\\p{N}+|zzz-unknown";
  });
  auto v = vocab_from_tokenizer_json(path, "");
  fs::remove(path);
  REQUIRE_FALSE(v.has_value());
  CHECK_THAT(v.error().message, Catch::Contains("not recognised") && Catch::Contains("zzz-unknown"));
}

TEST_CASE("a normalizer that does not fit the pre-tokenizer is refused", "[tokenizer]") {
  const std::string path = scratch_tokenizer_json([](json& j) { j["normalizer"] = nullptr; });
  auto v = vocab_from_tokenizer_json(path, "");
  fs::remove(path);
  REQUIRE_FALSE(v.has_value());
  CHECK_THAT(v.error().message, Catch::Contains("NFC"));
}

TEST_CASE("added tokens' lstrip and rstrip flags are imported", "[tokenizer]") {
  const std::string path = scratch_tokenizer_json([](json& j) {
    for (auto& a : j["added_tokens"]) {
      if (a["content"] == "<think>") a["lstrip"] = true;
      if (a["content"] == "</think>") a["rstrip"] = true;
    }
  });
  auto v = vocab_from_tokenizer_json(path, "");
  fs::remove(path);
  REQUIRE(v.has_value());
  REQUIRE(v->added_flags.size() == v->tokens.size());
  CHECK(v->added_flags[find(*v, "<think>")] == kAddedLstrip);
  CHECK(v->added_flags[find(*v, "</think>")] == kAddedRstrip);
  CHECK(v->added_flags[find(*v, "<tool_call>")] == 0);
}

TEST_CASE("a vocabulary survives the GGUF round trip field for field", "[tokenizer]") {
  for (const auto& name : test::kVocabNames) {
    const Vocab v = import(name);
    auto back = from_gguf(to_gguf(v));
    REQUIRE(back.has_value());
    CHECK(back->model == v.model);
    CHECK(back->pre == v.pre);
    CHECK(back->tokens == v.tokens);
    CHECK(back->token_types == v.token_types);
    CHECK(back->merges == v.merges);
    CHECK(back->bos_id == v.bos_id);
    CHECK(back->eos_id == v.eos_id);
    CHECK(back->eot_id == v.eot_id);
    CHECK(back->pad_id == v.pad_id);
    CHECK(back->unk_id == v.unk_id);
    CHECK(back->add_bos == v.add_bos);
    CHECK(back->add_eos == v.add_eos);
    CHECK(back->chat_template == v.chat_template);
    CHECK_FALSE(v.chat_template.empty());  // every reference vocabulary ships a chat template
    CHECK(truncate_vocab(v, 16).chat_template == v.chat_template);
  }
}

TEST_CASE("reading a GGUF vocabulary names the key that is missing or wrong", "[tokenizer]") {
  const Vocab v = test::make_vocab("qwen2", {"a b"});
  SECTION("no tokens") {
    gguf::Writer w;
    write_vocab(w, v);
    w.remove("tokenizer.ggml.tokens");
    std::vector<std::byte> bytes;
    REQUIRE(w.write(bytes).has_value());
    auto r = from_gguf(bytes);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message, Catch::Contains("tokenizer.ggml.tokens"));
  }
  SECTION("another tokenizer model") {
    gguf::Writer w;
    write_vocab(w, v);
    w.set_string("tokenizer.ggml.model", "llama");
    std::vector<std::byte> bytes;
    REQUIRE(w.write(bytes).has_value());
    auto r = from_gguf(bytes);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message, Catch::Contains("tokenizer.ggml.model") && Catch::Contains("llama"));
  }
  SECTION("a token type array of the wrong length") {
    gguf::Writer w;
    write_vocab(w, v);
    const std::vector<int32_t> types = {1, 1, 1};
    w.set_i32_array("tokenizer.ggml.token_type", types);
    std::vector<std::byte> bytes;
    REQUIRE(w.write(bytes).has_value());
    auto r = from_gguf(bytes);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message, Catch::Contains("tokenizer.ggml.token_type"));
  }
  SECTION("a special id past the end") {
    gguf::Writer w;
    write_vocab(w, v);
    w.set_u32("tokenizer.ggml.eos_token_id", 100000);
    std::vector<std::byte> bytes;
    REQUIRE(w.write(bytes).has_value());
    auto r = from_gguf(bytes);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message, Catch::Contains("tokenizer.ggml.eos_token_id"));
  }
}

TEST_CASE("a truncated Qwen vocabulary still round-trips the whole corpus", "[tokenizer]") {
  const Vocab full = import("qwen3");
  const Vocab small = truncate_vocab(full, 1024);
  // 1024 regular tokens (Qwen's first 256 are the single bytes), then the 26 added tokens.
  CHECK(small.tokens.size() == 1024 + 26);
  CHECK(small.merges.size() > 700);
  CHECK(small.merges.size() < 1024);
  CHECK(small.tokens[*small.eos_id] == "<|im_end|>");
  CHECK(small.tokens[*small.pad_id] == "<|endoftext|>");
  CHECK(small.tokens[*small.eot_id] == "<|im_end|>");
  CHECK(small.tokens.back() == "</think>");

  const auto bytes = to_gguf(small);
  CHECK(bytes.size() < 200 * 1024);
  auto back = from_gguf(bytes);
  REQUIRE(back.has_value());
  auto tok = Tokenizer::create(std::move(*back));
  REQUIRE(tok.has_value());
  const Tokenizer& full_tok = test::real_tokenizer("qwen3");
  for (const auto& f : test::corpus()) {
    INFO(f.name);
    const auto ids = tok->encode(f.text, false, true);
    for (int32_t id : ids) REQUIRE((id >= 0 && id < tok->n_vocab()));
    CHECK(tok->decode(ids) == unicode::nfc(f.text));
    // Fewer merges: never fewer tokens than the full vocabulary needs.
    CHECK(ids.size() >= full_tok.encode(f.text, false, true).size());
  }
  const auto chat = tok->encode("<|im_start|>user\nhi<|im_end|>", false, true);
  CHECK(chat.front() == *tok->find_token("<|im_start|>"));
  CHECK(chat.back() == *small.eos_id);
}

TEST_CASE("truncating to zero regular tokens keeps exactly the byte tokens", "[tokenizer]") {
  const Vocab full = import("llama3");
  const Vocab tiny = truncate_vocab(full, 0);
  CHECK(tiny.tokens.size() == 256 + 256);  // 256 bytes + 256 added tokens
  CHECK(tiny.merges.empty());
  CHECK(tiny.bos_id == 256);
  auto tok = Tokenizer::create(tiny);
  REQUIRE(tok.has_value());
  const std::string text = "bytes only: caf\xC3\xA9 \xF0\x9F\x98\x80";
  CHECK(tok->encode(text, false, false).size() == text.size());
  CHECK(tok->decode(tok->encode(text, true, false)) == "<|begin_of_text|>" + text);
}

}  // namespace
}  // namespace scout
