// Reading and writing a Vocab as the standard `tokenizer.ggml.*` metadata of a GGUF file, the
// keys llama.cpp reads:
//
//   tokenizer.ggml.model            string     "gpt2"
//   tokenizer.ggml.pre              string     "qwen2" | "llama-bpe" | "deepseek-v3"
//   tokenizer.ggml.tokens           [string]   token texts (vocab.h says which form)
//   tokenizer.ggml.token_type       [int32]    TokenType per token
//   tokenizer.ggml.merges           [string]   "left right", rank order
//   tokenizer.ggml.bos_token_id     uint32     (each of these five only when the Vocab has it)
//   tokenizer.ggml.eos_token_id     uint32
//   tokenizer.ggml.eot_token_id     uint32
//   tokenizer.ggml.padding_token_id uint32
//   tokenizer.ggml.unknown_token_id uint32
//   tokenizer.ggml.add_bos_token    bool
//   tokenizer.ggml.add_eos_token    bool
//
// Added-token lstrip/rstrip flags have no GGUF key and are not stored.
#pragma once

#include "common/expected.h"
#include "engine/gguf/gguf.h"
#include "engine/tokenizer/vocab.h"

namespace scout {

// Reads the vocabulary of a GGUF file. Errors name the key that is missing or malformed; the
// vocabulary itself is checked by Tokenizer::create.
Result<Vocab> vocab_from_gguf(const gguf::File& file);

// Sets the keys above on `writer` (replacing any already set).
void write_vocab(gguf::Writer& writer, const Vocab& vocab);

}  // namespace scout
