// libFuzzer target: the tokenizer on arbitrary bytes (ill-formed UTF-8 included).
//
// Input: byte 0 picks the pre-tokenizer and the encode flags, the rest is the text. Checked:
// encode never crashes and returns ids inside the vocabulary; pre-tokenizer pieces are non-empty
// and cover the text; decode(encode(text)) gives the text back (for "qwen2" up to NFC); the
// streaming decoder's chunks add up to decode() and never end inside a character that could
// still complete.
//
// The vocabulary is a small byte-level one built here (every byte, a few dozen merges covering
// ASCII, multi-byte characters and whitespace runs, control and user-defined added tokens), so
// the target needs no files; SCOUT_FUZZ_TOKENIZER_JSON may name a real tokenizer.json instead.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tokenizer/pretokenize.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/unicode.h"
#include "engine/tokenizer/vocab.h"

namespace {

using scout::PreType;
using scout::TokenType;

scout::Vocab synthetic_vocab(const char* pre) {
  scout::Vocab v;
  v.pre = pre;
  for (int b = 0; b < 256; ++b) {
    v.tokens.emplace_back(scout::unicode::byte_to_utf8(static_cast<uint8_t>(b)));
    v.token_types.push_back(TokenType::normal);
  }
  // Merges as pairs of raw byte strings, turned into the byte-level form vocabularies use.
  const std::pair<const char*, const char*> merges[] = {
      {" ", " "}, {"  ", "  "}, {"t", "h"}, {"th", "e"}, {" ", "the"}, {"i", "n"}, {"in", "g"}, {"e", "r"},
      {" ", "a"}, {"o", "n"}, {"r", "e"}, {"\n", "\n"}, {"\n", " "}, {"1", "2"}, {"12", "3"}, {"\xC3", "\xA9"},
      {"\xE4", "\xB8"}, {"\xE4\xB8", "\xAD"}, {"\xF0", "\x9F"}, {"\xF0\x9F", "\x98"}, {"'", "s"},
      {"'", "l"}, {"'l", "l"}, {" ", "("}, {")", ";"}, {"=", "="}, {"\t", "\t"}, {"\xFF", "\xFF"}};
  for (const auto& [left, right] : merges) {
    const std::string l = scout::unicode::bytes_to_byte_level(left);
    const std::string r = scout::unicode::bytes_to_byte_level(right);
    const std::string merged = l + r;
    bool have = false;
    for (const auto& t : v.tokens) have = have || t == merged;
    if (!have) {
      v.tokens.push_back(merged);
      v.token_types.push_back(TokenType::normal);
    }
    v.merges.push_back(l + " " + r);
  }
  for (const auto& [text, type] : {std::pair{"<|im_start|>", TokenType::control}, {"<|im_end|>", TokenType::control},
                                   {"<think>", TokenType::user_defined}, {"</think>", TokenType::user_defined},
                                   {"<|im", TokenType::user_defined}}) {
    v.tokens.push_back(text);
    v.token_types.push_back(type);
  }
  v.bos_id = static_cast<int32_t>(v.tokens.size() - 5);
  v.eos_id = static_cast<int32_t>(v.tokens.size() - 4);
  v.add_bos = true;
  v.add_eos = true;
  return v;
}

std::vector<std::unique_ptr<scout::Tokenizer>> make_tokenizers() {
  std::vector<std::unique_ptr<scout::Tokenizer>> out;
  if (const char* path = std::getenv("SCOUT_FUZZ_TOKENIZER_JSON")) {
    auto v = scout::vocab_from_tokenizer_json(path, "");
    if (!v) {
      std::fprintf(stderr, "%s\n", v.error().message.c_str());
      std::abort();
    }
    auto t = scout::Tokenizer::create(std::move(*v));
    if (!t) std::abort();
    out.push_back(std::make_unique<scout::Tokenizer>(std::move(*t)));
    return out;
  }
  for (const char* pre : {"qwen2", "llama-bpe", "deepseek-v3"}) {
    auto t = scout::Tokenizer::create(synthetic_vocab(pre));
    if (!t) {
      std::fprintf(stderr, "%s\n", t.error().message.c_str());
      std::abort();
    }
    out.push_back(std::make_unique<scout::Tokenizer>(std::move(*t)));
  }
  return out;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tokenizer: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto tokenizers = make_tokenizers();
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const scout::Tokenizer& tok = *tokenizers[selector % tokenizers.size()];
  const bool parse_special = (selector >> 4) & 1;
  const bool add_special = (selector >> 5) & 1;

  const auto pre = scout::pre_type_from_name(tok.vocab().pre);
  check(pre.has_value(), "unknown pre");
  std::vector<std::string_view> pieces;
  scout::pre_tokenize(*pre, text, pieces);
  size_t covered = 0;
  for (auto p : pieces) {
    check(!p.empty(), "empty piece");
    check(p.data() == text.data() + covered, "pieces not contiguous");
    covered += p.size();
  }
  check(covered == text.size(), "pieces do not cover the text");

  const auto ids = tok.encode(text, add_special, parse_special);
  for (int32_t id : ids) check(id >= 0 && id < tok.n_vocab(), "id outside the vocabulary");

  // Added tokens are split out before normalization (as in the HF library), so for "qwen2" each
  // stretch of text between them is normalized on its own: the decoded text is canonically
  // equivalent to the input, not always equal to nfc(input) (think "<|im" + U+0301).
  const auto plain = add_special ? tok.encode(text, false, parse_special) : ids;
  const std::string decoded = tok.decode(plain);
  if (*pre == PreType::qwen2) {
    check(scout::unicode::nfc(decoded) == scout::unicode::nfc(text), "decode(encode(text)) not equivalent to text");
  } else {
    check(decoded == text, "decode(encode(text)) != text");
  }

  scout::StreamingDecoder dec(tok);
  std::string joined;
  for (int32_t id : ids) {
    const std::string chunk = dec.push(id);
    check(dec.pending() <= 3, "streaming decoder holds more than 3 bytes");
    joined += chunk;
  }
  joined += dec.flush();
  check(joined == tok.decode(ids), "streamed chunks differ from decode()");
  return 0;
}
