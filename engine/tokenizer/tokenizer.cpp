#include "engine/tokenizer/tokenizer.h"

#include <array>
#include <string>
#include <unordered_map>
#include <utility>

#include "engine/tokenizer/bpe.h"
#include "engine/tokenizer/pretokenize.h"
#include "engine/tokenizer/unicode.h"

namespace scout {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// A byte trie over the texts of added tokens, for leftmost-longest matching.
class AddedTokenTrie {
 public:
  AddedTokenTrie() : nodes_(1) {}

  void insert(std::string_view text, int32_t id) {
    if (text.empty()) return;
    first_bytes_[static_cast<uint8_t>(text[0])] = true;
    size_t node = 0;
    for (char ch : text) {
      const auto b = static_cast<uint8_t>(ch);
      int32_t child = find_child(node, b);
      if (child < 0) {
        child = static_cast<int32_t>(nodes_.size());
        nodes_[node].children.emplace_back(b, child);
        nodes_.emplace_back();
      }
      node = static_cast<size_t>(child);
    }
    if (nodes_[node].token < 0) nodes_[node].token = id;
  }

  bool empty() const { return nodes_.size() == 1; }

  // The longest token starting at text[pos]: (id, length), or id -1.
  std::pair<int32_t, size_t> longest_at(std::string_view text, size_t pos) const {
    std::pair<int32_t, size_t> best{-1, 0};
    if (!first_bytes_[static_cast<uint8_t>(text[pos])]) return best;
    size_t node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      const int32_t child = find_child(node, static_cast<uint8_t>(text[i]));
      if (child < 0) break;
      node = static_cast<size_t>(child);
      if (nodes_[node].token >= 0) best = {nodes_[node].token, i + 1 - pos};
    }
    return best;
  }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;
    int32_t token = -1;
  };
  int32_t find_child(size_t node, uint8_t b) const {
    for (const auto& [byte, child] : nodes_[node].children) {
      if (byte == b) return child;
    }
    return -1;
  }

  std::vector<Node> nodes_;
  std::array<bool, 256> first_bytes_{};
};

// Length of the whitespace that ends text[begin, end) (whole characters).
size_t trailing_whitespace(std::string_view text, size_t begin, size_t end) {
  const std::string_view head = text.substr(0, end);
  size_t i = begin;
  size_t last_non_space_end = begin;
  while (i < end) {
    size_t len = 0;
    const uint32_t cp = unicode::decode_utf8(head, i, len);
    i += len;
    if (!(unicode::flags(cp) & unicode::kSpace)) last_non_space_end = i;
  }
  return end - last_non_space_end;
}

size_t leading_whitespace(std::string_view text, size_t begin) {
  size_t i = begin;
  while (i < text.size()) {
    size_t len = 0;
    const uint32_t cp = unicode::decode_utf8(text, i, len);
    if (!(unicode::flags(cp) & unicode::kSpace)) break;
    i += len;
  }
  return i - begin;
}

// The byte of a "<0xAB>" token (SentencePiece's spelling of byte tokens), or -1.
int byte_token_value(std::string_view text) {
  if (text.size() != 6 || !text.starts_with("<0x") || text.back() != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(text[3]), lo = hex(text[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

std::string describe_token(const std::string& text) {
  std::string out = "'";
  for (char c : text.substr(0, 60)) {
    if (static_cast<unsigned char>(c) < 0x20) {
      static const char* hex = "0123456789ABCDEF";
      out += "\\x";
      out += hex[static_cast<unsigned char>(c) >> 4];
      out += hex[c & 15];
    } else {
      out += c;
    }
  }
  if (text.size() > 60) out += "...";
  return out + "'";
}

}  // namespace

struct Tokenizer::Impl {
  Vocab vocab;
  PreType pre = PreType::qwen2;
  bool normalize_nfc = false;
  bool ignore_merges = false;
  std::vector<std::string> pieces;    // bytes each id stands for
  std::array<int32_t, 256> byte_token{};
  detail::MergeTable merges;
  StringMap bpe_by_bytes;             // normal and byte tokens, by the bytes they stand for
  StringMap by_text;                  // every token, by its stored text (first id wins)
  AddedTokenTrie added_all;           // control, user-defined and unknown tokens
  AddedTokenTrie added_always;        // user-defined tokens only
  bool can_cut_before_space = true;   // no added token contains a space or absorbs whitespace

  void encode_piece(std::string_view piece, std::vector<int32_t>& out, std::vector<int32_t>& symbols) const {
    if (piece.size() == 1) {
      out.push_back(byte_token[static_cast<uint8_t>(piece[0])]);
      return;
    }
    if (ignore_merges) {
      if (auto it = bpe_by_bytes.find(piece); it != bpe_by_bytes.end()) {
        out.push_back(it->second);
        return;
      }
    }
    symbols.clear();
    for (char c : piece) symbols.push_back(byte_token[static_cast<uint8_t>(c)]);
    detail::bpe_merge(merges, symbols);
    out.insert(out.end(), symbols.begin(), symbols.end());
  }

  void encode_section(std::string_view text, std::vector<int32_t>& out) const {
    if (text.empty()) return;
    std::string normalized;
    if (normalize_nfc && !unicode::is_nfc(text)) {
      normalized = unicode::nfc(text);
      text = normalized;
    }
    std::vector<std::string_view> split;
    pre_tokenize(pre, text, split);
    std::vector<int32_t> symbols;
    for (std::string_view piece : split) encode_piece(piece, out, symbols);
  }
};

Result<Tokenizer> Tokenizer::create(Vocab vocab) {
  auto impl = std::make_shared<Impl>();
  if (vocab.model != "gpt2") {
    return make_error("tokenizer model '" + vocab.model + "' is not supported (only 'gpt2', byte-level BPE)");
  }
  const auto pre = pre_type_from_name(vocab.pre);
  if (!pre) {
    return make_error("pre-tokenizer '" + vocab.pre +
                      "' is not supported (known: qwen2, llama-bpe, deepseek-v3)");
  }
  impl->pre = *pre;
  impl->normalize_nfc = *pre == PreType::qwen2;
  impl->ignore_merges = *pre == PreType::llama_bpe;

  const size_t n = vocab.tokens.size();
  if (n == 0) return make_error("the vocabulary has no tokens");
  if (n > static_cast<size_t>(INT32_MAX)) return make_error("the vocabulary has more than 2^31 tokens");
  if (vocab.token_types.size() != n) {
    return make_error("the vocabulary has " + std::to_string(n) + " tokens but " +
                      std::to_string(vocab.token_types.size()) + " token types");
  }
  if (!vocab.added_flags.empty() && vocab.added_flags.size() != n) {
    return make_error("added_flags has " + std::to_string(vocab.added_flags.size()) +
                      " entries for " + std::to_string(n) + " tokens");
  }

  impl->pieces.resize(n);
  impl->bpe_by_bytes.reserve(n);
  impl->by_text.reserve(n);
  StringMap added_by_text;
  std::string raw;
  for (size_t id = 0; id < n; ++id) {
    const std::string& text = vocab.tokens[id];
    const auto type = vocab.token_types[id];
    const int32_t id32 = static_cast<int32_t>(id);
    impl->by_text.emplace(text, id32);
    switch (type) {
      case TokenType::normal:
      case TokenType::byte: {
        if (const int byte = byte_token_value(text); type == TokenType::byte && byte >= 0) {
          raw.assign(1, static_cast<char>(byte));
        } else if (!unicode::byte_level_to_bytes(text, raw)) {
          raw = text;  // not in byte-level form: stands for its own UTF-8
        }
        if (raw.empty()) return make_error("token " + std::to_string(id) + " is empty");
        auto [it, inserted] = impl->bpe_by_bytes.emplace(raw, id32);
        if (!inserted) {
          return make_error("tokens " + std::to_string(it->second) + " and " + std::to_string(id) +
                            " both stand for the bytes " + describe_token(raw));
        }
        impl->pieces[id] = raw;
        break;
      }
      case TokenType::control:
      case TokenType::user_defined:
      case TokenType::unknown: {
        if (!text.empty()) {
          auto [it, inserted] = added_by_text.emplace(text, id32);
          if (!inserted) {
            return make_error("added tokens " + std::to_string(it->second) + " and " + std::to_string(id) +
                              " have the same text " + describe_token(text));
          }
          impl->added_all.insert(text, id32);
          if (type == TokenType::user_defined) impl->added_always.insert(text, id32);
          const uint8_t flags = vocab.added_flags.empty() ? 0 : vocab.added_flags[id];
          if (text.find(' ') != std::string::npos || (flags & (kAddedLstrip | kAddedRstrip)) != 0)
            impl->can_cut_before_space = false;
        }
        impl->pieces[id] = text;
        break;
      }
      case TokenType::unused:
        break;
      default:
        return make_error("token " + std::to_string(id) + " " + describe_token(text) + " has unknown type " +
                          std::to_string(static_cast<int32_t>(type)));
    }
  }

  for (int b = 0; b < 256; ++b) {
    const auto it = impl->bpe_by_bytes.find(std::string(1, static_cast<char>(b)));
    if (it == impl->bpe_by_bytes.end()) {
      return make_error("no normal token stands for the byte " + std::to_string(b) + " (byte-level '" +
                        std::string(unicode::byte_to_utf8(static_cast<uint8_t>(b))) + "'): every byte needs one");
    }
    impl->byte_token[b] = it->second;
  }

  impl->merges = detail::MergeTable(vocab.merges.size());
  std::string left_raw, right_raw;
  for (size_t rank = 0; rank < vocab.merges.size(); ++rank) {
    const std::string& merge = vocab.merges[rank];
    const size_t space = merge.find(' ', 1);  // a part is never empty; the first may be " "
    auto fail = [&](const std::string& why) {
      return make_error("merge " + std::to_string(rank) + " " + describe_token(merge) + ": " + why);
    };
    if (space == std::string::npos || space + 1 >= merge.size()) return fail("not two parts separated by a space");
    const std::string left = merge.substr(0, space), right = merge.substr(space + 1);
    if (!unicode::byte_level_to_bytes(left, left_raw)) left_raw = left;
    if (!unicode::byte_level_to_bytes(right, right_raw)) right_raw = right;
    const auto l = impl->bpe_by_bytes.find(left_raw);
    if (l == impl->bpe_by_bytes.end()) return fail(describe_token(left) + " is not a token");
    const auto r = impl->bpe_by_bytes.find(right_raw);
    if (r == impl->bpe_by_bytes.end()) return fail(describe_token(right) + " is not a token");
    const auto m = impl->bpe_by_bytes.find(left_raw + right_raw);
    if (m == impl->bpe_by_bytes.end()) return fail("the merged " + describe_token(left + right) + " is not a token");
    impl->merges.insert(l->second, r->second, static_cast<int32_t>(rank), m->second);
  }

  for (const auto& [name, id] : {std::pair{"bos", vocab.bos_id}, {"eos", vocab.eos_id}, {"eot", vocab.eot_id},
                                 {"pad", vocab.pad_id}, {"unk", vocab.unk_id}}) {
    if (id && (*id < 0 || static_cast<size_t>(*id) >= n)) {
      return make_error(std::string(name) + " token id " + std::to_string(*id) + " is outside the vocabulary (" +
                        std::to_string(n) + " tokens)");
    }
  }
  impl->vocab = std::move(vocab);
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const Impl& im = *impl_;
  const Vocab& v = im.vocab;
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_special && v.add_bos && v.bos_id) out.push_back(*v.bos_id);

  const AddedTokenTrie& trie = parse_special ? im.added_all : im.added_always;
  if (trie.empty()) {
    im.encode_section(text, out);
  } else {
    size_t section = 0;  // start of the plain text not yet encoded
    size_t i = 0;
    while (i < text.size()) {
      const auto [id, len] = trie.longest_at(text, i);
      if (id < 0) {
        ++i;
        continue;
      }
      const uint8_t flags = v.added_flags.empty() ? 0 : v.added_flags[static_cast<size_t>(id)];
      size_t section_end = i;
      size_t next = i + len;
      if (flags & kAddedLstrip) section_end -= trailing_whitespace(text, section, i);
      if (flags & kAddedRstrip) next += leading_whitespace(text, next);
      im.encode_section(text.substr(section, section_end - section), out);
      out.push_back(id);
      section = i = next;
    }
    im.encode_section(text.substr(section), out);
  }

  if (add_special && v.add_eos && v.eos_id) out.push_back(*v.eos_id);
  return out;
}

std::size_t Tokenizer::piece_cut(std::string_view text) const {
  if (!impl_->can_cut_before_space) return 0;
  auto is_ascii_letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto is_ascii_visible = [](char c) { return c > ' ' && c < 0x7f; };  // not Unicode whitespace either
  for (std::size_t i = text.size() >= 2 ? text.size() - 2 : 0; i > 0; --i) {
    if (text[i] == ' ' && is_ascii_letter(text[i + 1]) && is_ascii_visible(text[i - 1])) return i;
  }
  return 0;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id >= 0 && static_cast<size_t>(id) < impl_->pieces.size()) out += impl_->pieces[static_cast<size_t>(id)];
  }
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= impl_->pieces.size()) return {};
  return impl_->pieces[static_cast<size_t>(id)];
}

int32_t Tokenizer::n_vocab() const { return static_cast<int32_t>(impl_->vocab.tokens.size()); }

const Vocab& Tokenizer::vocab() const { return impl_->vocab; }

bool Tokenizer::is_control(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < impl_->vocab.tokens.size() &&
         impl_->vocab.token_types[static_cast<size_t>(id)] == TokenType::control;
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  const auto it = impl_->by_text.find(text);
  if (it == impl_->by_text.end()) return std::nullopt;
  return it->second;
}

std::string StreamingDecoder::push(int32_t id) {
  pending_ += tokenizer_->token_to_piece(id);
  // Emit everything up to the start of a trailing sequence that is incomplete but could still
  // become well-formed. Anything else (complete characters and hopeless bytes) goes out now.
  size_t keep_from = pending_.size();
  const size_t scan_from = pending_.size() > 3 ? pending_.size() - 3 : 0;
  for (size_t i = pending_.size(); i-- > scan_from;) {
    const auto b = static_cast<uint8_t>(pending_[i]);
    if ((b & 0xC0) == 0x80) continue;  // a continuation byte: look further back for its lead
    const int need = unicode::utf8_sequence_length(b);
    const size_t have = pending_.size() - i;
    if (need > 1 && have < static_cast<size_t>(need)) {
      // Incomplete: hold it back only if what is there so far is a valid beginning.
      size_t len = 0;
      std::string probe = pending_.substr(i);
      // Complete the sequence with the smallest continuation bytes the lead allows and check it.
      const uint8_t b1_min = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
      const uint8_t b1_max = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
      bool prefix_ok = true;
      if (have >= 2) {
        const auto b1 = static_cast<uint8_t>(pending_[i + 1]);
        prefix_ok = b1 >= b1_min && b1 <= b1_max;
      }
      if (prefix_ok) {
        probe.resize(static_cast<size_t>(need), static_cast<char>(0x80));
        if (have == 1) probe[1] = static_cast<char>(b1_min);
        prefix_ok = !unicode::is_invalid_byte(unicode::decode_utf8(probe, 0, len));
      }
      if (prefix_ok) keep_from = i;
    }
    break;
  }
  std::string ready = pending_.substr(0, keep_from);
  pending_.erase(0, keep_from);
  return ready;
}

std::string StreamingDecoder::flush() {
  std::string rest = std::move(pending_);
  pending_.clear();
  return rest;
}

}  // namespace scout
