// Vocab: everything a byte-level BPE tokenizer needs, in the shape GGUF stores it
// (`tokenizer.ggml.*`), plus importers from Hugging Face tokenizer.json and a truncation used to
// make small test models that still tokenize real text.
//
// Token text conventions (the same as llama.cpp's GGUF files):
//   - normal tokens (the BPE model's own vocabulary) are stored in GPT-2's byte-level form, so
//     " the" is "Ġthe" and the byte 0x0A is "Ċ" (see unicode.h);
//   - added tokens (control and user-defined, e.g. "<|im_start|>", "<think>") are stored as the
//     plain text they stand for.
//
// The normalizer is implied by `pre`, as it is in llama.cpp: "qwen2" applies NFC to text before
// splitting it; "llama-bpe" and "deepseek-v3" use none. Likewise "llama-bpe" implies BPE's
// ignore_merges (a piece that is itself a vocabulary token is emitted as that token).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/expected.h"

namespace scout {

// GGUF `tokenizer.ggml.token_type` values.
enum class TokenType : int32_t {
  normal = 1,
  unknown = 2,
  control = 3,      // special tokens: only recognised in text when the caller asks for it
  user_defined = 4,  // added tokens that are always recognised in text
  unused = 5,
  byte = 6,
};

// Per-token flags of added tokens from tokenizer.json (GGUF has no key for them, so a Vocab
// read from GGUF has none).
inline constexpr uint8_t kAddedLstrip = 1 << 0;  // whitespace just before the token is absorbed by it (and dropped)
inline constexpr uint8_t kAddedRstrip = 1 << 1;  // whitespace just after the token is absorbed by it (and dropped)

struct Vocab {
  std::string model = "gpt2";          // tokenizer.ggml.model: only "gpt2" (byte-level BPE)
  std::string pre;                     // tokenizer.ggml.pre: "qwen2" | "llama-bpe" | "deepseek-v3"
  std::vector<std::string> tokens;     // index = token id
  std::vector<TokenType> token_types;  // same length as tokens
  std::vector<std::string> merges;     // "left right" in byte-level form, rank order
  std::optional<int32_t> bos_id;
  std::optional<int32_t> eos_id;
  std::optional<int32_t> eot_id;       // end of a chat turn (may equal eos_id)
  std::optional<int32_t> pad_id;
  std::optional<int32_t> unk_id;
  bool add_bos = false;                // encode(add_special=true) prepends bos_id
  bool add_eos = false;                // encode(add_special=true) appends eos_id
  std::vector<uint8_t> added_flags;    // AddedTokenFlags per token id, or empty for none
  std::string chat_template;           // tokenizer.chat_template (Jinja), or empty for none

  size_t size() const { return tokens.size(); }
  bool is_added(size_t id) const {
    const TokenType t = token_types[id];
    return t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown;
  }
};

// Imports a Hugging Face tokenizer.json (BPE with a ByteLevel pre-tokenizer) and, optionally,
// its tokenizer_config.json (pass "" for none).
//   - added tokens become control when `special` is true or their text looks special
//     (<|...|>, <｜...｜>, <pad>, <mask>, <unused...>), as llama.cpp's converter does, and
//     user_defined otherwise; ids missing from both lists become "[PAD<id>]" unused;
//   - `pre` is chosen by recognising the Split regexes of the pre-tokenizer (and the NFC
//     normalizer for "qwen2"); anything else is an error that quotes what was found;
//   - chat_template comes from tokenizer_config.json (a string, or the "default" entry of a list
//     of named templates), as llama.cpp's converter copies it;
//   - bos/eos/pad/unk come from tokenizer_config.json (bos_token, eos_token, ...), add_bos from
//     its add_bos_token, else from a TemplateProcessing post-processor that starts with the
//     bos token, else true for "llama-bpe" (llama.cpp's default); eot is the first of
//     <|eot_id|>, <|im_end|>, <|end|>, <end_of_turn>, <｜end▁of▁sentence｜>, <|endoftext|>
//     present among the added tokens.
Result<Vocab> vocab_from_tokenizer_json(const std::string& tokenizer_json_path,
                                        const std::string& tokenizer_config_path_or_empty);

// A smaller vocabulary that still encodes every text and decodes it back: keeps the first
// `n_regular` normal tokens (in id order) plus every token that is a single byte (so all 256
// bytes stay encodable) and any normal token a special id points at, the merges whose two parts
// and result are all kept (in their original order), then appends the added tokens (control,
// user-defined, unknown) with new consecutive ids. Unused tokens are dropped. Special ids are
// remapped. Precondition: `vocab` is valid (Tokenizer::create accepts it).
Vocab truncate_vocab(const Vocab& vocab, size_t n_regular);

}  // namespace scout
