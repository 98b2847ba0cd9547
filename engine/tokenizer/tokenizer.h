// Tokenizer: byte-level BPE encoding and decoding over a Vocab, matching the Hugging Face
// `tokenizers` library (the implementation the models ship with) id for id.
//
// encode(text):
//
//   text ──► split out added tokens ──► for each plain section:                       ──► ids
//            (leftmost-longest match;     normalize (NFC for "qwen2") ──► pre-tokenize
//             control tokens only when    (pretokenize.h) ──► each piece: bytes ──► BPE merges
//             parse_special)              by rank (ties: leftmost first)
//
// Input that is not well-formed UTF-8 is accepted: each ill-formed byte is kept as a character
// of no class (pretokenize.h) and encoded as its byte token, so decode(encode(x)) == x byte for
// byte for any x that is in the vocabulary's normal form (for "qwen2": nfc(x) == x; otherwise
// decode returns nfc(x)).
//
// Thread-safety: a Tokenizer is immutable after create(); copies share the same tables and any
// number of threads may encode and decode at once. A StreamingDecoder is one thread's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "engine/tokenizer/vocab.h"

namespace scout {

class Tokenizer {
 public:
  // Validates the vocabulary: model "gpt2", a known `pre`, token_types as long as tokens, every
  // merge names two existing tokens whose concatenation is a token, every byte 0..255 has a
  // normal token, no two normal tokens (or two added tokens) share a text, special ids in range.
  // Errors name the offending token id or merge index.
  static Result<Tokenizer> create(Vocab vocab);

  // Token ids of `text`. add_special: prepend bos / append eos as the vocab's add_bos/add_eos
  // say. parse_special: recognise control tokens written in the text ("<|im_start|>"); without
  // it they are encoded as plain text. User-defined tokens ("<think>") are always recognised.
  std::vector<int32_t> encode(std::string_view text, bool add_special, bool parse_special) const;

  // Where a long text may be cut so that it can be encoded a piece at a time: the largest n <=
  // text.size() such that encode(text[0, n)) followed by encode(text[n, ...)) (without special
  // tokens added to the second part) gives the ids of the whole, whatever follows `text`; 0 when
  // there is none. The cut is just before a space that follows a visible ASCII character and
  // comes before an ASCII letter: every supported pre-tokenizer starts a piece at such a space, NFC
  // never composes across it, and no added token can span it (for a vocabulary with an added
  // token that contains a space or absorbs whitespace, there is never a cut).
  std::size_t piece_cut(std::string_view text) const;

  // The bytes the ids stand for, concatenated. Control and user-defined tokens give their text;
  // unused tokens and ids outside [0, n_vocab) give nothing.
  std::string decode(std::span<const int32_t> ids) const;
  // The bytes one token stands for (possibly part of a UTF-8 character).
  std::string token_to_piece(int32_t id) const;

  int32_t n_vocab() const;
  const Vocab& vocab() const;
  std::optional<int32_t> bos_id() const { return vocab().bos_id; }
  std::optional<int32_t> eos_id() const { return vocab().eos_id; }
  std::optional<int32_t> eot_id() const { return vocab().eot_id; }
  std::optional<int32_t> pad_id() const { return vocab().pad_id; }
  std::optional<int32_t> unk_id() const { return vocab().unk_id; }
  bool is_control(int32_t id) const;
  // The id of a token given in its stored text form, if any.
  std::optional<int32_t> find_token(std::string_view text) const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Turns a stream of token ids into text chunks that never end inside a UTF-8 character: bytes of
// an incomplete character are held back until the tokens that complete it arrive. Bytes that can
// never become a well-formed character are passed through at once, so the chunks always
// concatenate to exactly decode(all ids).
//
//   StreamingDecoder dec(tok);
//   for (int32_t id : generated) std::cout << dec.push(id);
//   std::cout << dec.flush();
//
// Holds a reference to the Tokenizer, which must outlive it.
class StreamingDecoder {
 public:
  explicit StreamingDecoder(const Tokenizer& tokenizer) : tokenizer_(&tokenizer) {}

  // Text that became complete with this token (possibly empty).
  std::string push(int32_t id);
  // Whatever is still held back (an incomplete character at the end of the stream), then reset.
  std::string flush();
  // Bytes currently held back (0..3).
  size_t pending() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  std::string pending_;
};

}  // namespace scout
