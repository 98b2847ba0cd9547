#include "engine/tokenizer/pretokenize.h"

#include <cstdint>

#include "engine/tokenizer/unicode.h"

namespace scout {
namespace {

using unicode::kLetter;
using unicode::kMark;
using unicode::kNumber;
using unicode::kPunct;
using unicode::kSpace;
using unicode::kSymbol;

constexpr size_t kNoMatch = SIZE_MAX;

// One decoded character of the input: its code point (or invalid-byte stand-in), its classes
// and where its bytes start.
struct Char {
  uint32_t cp;
  uint8_t flags;
  size_t offset;
};

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {
    chars_.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      size_t len = 0;
      const uint32_t cp = unicode::decode_utf8(text, i, len);
      chars_.push_back({cp, unicode::flags(cp), i});
      i += len;
    }
  }

  size_t size() const { return chars_.size(); }

  void emit(size_t begin, size_t end, std::vector<std::string_view>& out) const {
    const size_t b = chars_[begin].offset;
    const size_t e = end < chars_.size() ? chars_[end].offset : text_.size();
    out.push_back(text_.substr(b, e - b));
  }

  uint32_t cp(size_t i) const { return chars_[i].cp; }
  bool has(size_t i, uint8_t f) const { return (chars_[i].flags & f) != 0; }
  bool is_newline(size_t i) const { return chars_[i].cp == '\r' || chars_[i].cp == '\n'; }

  // Whitespace tail shared by both regex families: \s*[\r\n]+|\s+(?!\S)|\s+ at i (precondition:
  // char i is whitespace). `end` bounds the piece being split: the lookahead sees nothing past it.
  size_t match_whitespace(size_t i, size_t end) const {
    size_t j = i;
    size_t last_newline = kNoMatch;
    while (j < end && has(j, kSpace)) {
      if (is_newline(j)) last_newline = j;
      ++j;
    }
    // \s*[\r\n]+ : \s* first takes the whole run, then gives back characters until [\r\n]+ can
    // match, i.e. up to the run's last \r or \n; [\r\n]+ then takes just that one (it is the
    // last), so the match ends right after it.
    if (last_newline != kNoMatch) return last_newline + 1;
    // \s+(?!\S) : the whole run when nothing follows it; otherwise a non-space follows, so \s+
    // gives back one character, which then is the whitespace the lookahead needs. A run of one
    // character can not give any back and falls through to \s+.
    if (j == end) return j;
    if (j - i >= 2) return j - 1;
    return j;  // \s+
  }

  // The Qwen2 / Llama 3 regex at i; max_digits is 1 (\p{N}) or 3 (\p{N}{1,3}). Every character
  // starts some alternative, so this never fails.
  size_t match_gpt4_style(size_t i, size_t end, size_t max_digits) const {
    const uint32_t c = cp(i);
    // (?i:'s|'t|'re|'ve|'m|'ll|'d). Under Oniguruma's case folding U+017F folds to 's'; no other
    // code point folds to one of these ASCII letters.
    if (c == '\'' && i + 1 < end) {
      const uint32_t c1 = cp(i + 1);
      auto is = [](uint32_t x, char lower) { return x == static_cast<uint32_t>(lower) || x == static_cast<uint32_t>(lower - 32); };
      if (is(c1, 's') || c1 == 0x017F || is(c1, 't') || is(c1, 'm') || is(c1, 'd')) return i + 2;
      if (i + 2 < end) {
        const uint32_t c2 = cp(i + 2);
        if ((is(c1, 'r') && is(c2, 'e')) || (is(c1, 'v') && is(c2, 'e')) || (is(c1, 'l') && is(c2, 'l'))) {
          return i + 3;
        }
      }
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+ : the optional prefix is tried first, then without it.
    if (has(i, kLetter)) return letter_run(i + 1, end);
    if (!is_newline(i) && !has(i, kNumber) && i + 1 < end && has(i + 1, kLetter)) return letter_run(i + 2, end);
    // \p{N} or \p{N}{1,3}
    if (has(i, kNumber)) {
      size_t j = i + 1;
      while (j < end && j - i < max_digits && has(j, kNumber)) ++j;
      return j;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    auto other = [&](size_t k) { return !has(k, kSpace | kLetter | kNumber); };
    size_t j = i;
    if (c == ' ' && i + 1 < end && other(i + 1)) j = i + 1;
    if (other(j)) {
      ++j;
      while (j < end && other(j)) ++j;
      while (j < end && is_newline(j)) ++j;
      return j;
    }
    // Only whitespace is left (it is not a letter, a number or "other").
    return match_whitespace(i, end);
  }

  // The third DeepSeek-V3 regex at i, or kNoMatch.
  size_t match_deepseek(size_t i, size_t end) const {
    const uint32_t c = cp(i);
    auto ascii_alpha = [&](size_t k) {
      const uint32_t x = cp(k);
      return (x >= 'A' && x <= 'Z') || (x >= 'a' && x <= 'z');
    };
    auto ascii_punct = [](uint32_t x) {
      return (x >= 0x21 && x <= 0x2F) || (x >= 0x3A && x <= 0x40) || (x >= 0x5B && x <= 0x60) ||
             (x >= 0x7B && x <= 0x7E);
    };
    // [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+ (the class is exactly ASCII punctuation)
    if (ascii_punct(c) && i + 1 < end && ascii_alpha(i + 1)) {
      size_t j = i + 2;
      while (j < end && ascii_alpha(j)) ++j;
      return j;
    }
    // [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+ : prefix first, then without it.
    const uint8_t lm = kLetter | kMark;
    auto lm_run = [&](size_t j) {
      while (j < end && has(j, lm)) ++j;
      return j;
    };
    if (!is_newline(i) && !has(i, kLetter | kPunct | kSymbol) && i + 1 < end && has(i + 1, lm)) return lm_run(i + 2);
    if (has(i, lm)) return lm_run(i + 1);
    //  ?[\p{P}\p{S}]+[\r\n]*
    const uint8_t ps = kPunct | kSymbol;
    size_t j = i;
    if (c == ' ' && i + 1 < end && has(i + 1, ps)) j = i + 1;
    if (has(j, ps)) {
      ++j;
      while (j < end && has(j, ps)) ++j;
      while (j < end && is_newline(j)) ++j;
      return j;
    }
    if (has(i, kSpace)) return match_whitespace(i, end);
    return kNoMatch;
  }

  size_t match_digits3(size_t i, size_t end) const {
    if (!has(i, kNumber)) return kNoMatch;
    size_t j = i + 1;
    while (j < end && j - i < 3 && has(j, kNumber)) ++j;
    return j;
  }

  size_t match_cjk(size_t i, size_t end) const {
    auto cjk = [&](size_t k) {
      const uint32_t x = cp(k);
      return (x >= 0x4E00 && x <= 0x9FA5) || (x >= 0x3040 && x <= 0x30FF);
    };
    if (!cjk(i)) return kNoMatch;
    size_t j = i + 1;
    while (j < end && cjk(j)) ++j;
    return j;
  }

 private:
  size_t letter_run(size_t j, size_t end) const {
    while (j < end && has(j, kLetter)) ++j;
    return j;
  }

  std::string_view text_;
  std::vector<Char> chars_;
};

// Isolated split of chars [begin, end): each match is a piece, and so is each gap between
// matches. match(i, end) returns the end of the match starting at i, or kNoMatch.
template <class Match, class Emit>
void split_isolated(size_t begin, size_t end, const Match& match, const Emit& emit) {
  size_t gap = begin;
  size_t i = begin;
  while (i < end) {
    const size_t e = match(i, end);
    if (e == kNoMatch) {
      ++i;
      continue;
    }
    if (gap < i) emit(gap, i);
    emit(i, e);
    i = e;
    gap = e;
  }
  if (gap < end) emit(gap, end);
}

}  // namespace

std::string_view pre_type_name(PreType type) {
  switch (type) {
    case PreType::qwen2: return "qwen2";
    case PreType::llama_bpe: return "llama-bpe";
    case PreType::deepseek_v3: return "deepseek-v3";
  }
  return "?";
}

std::optional<PreType> pre_type_from_name(std::string_view name) {
  if (name == "qwen2") return PreType::qwen2;
  if (name == "llama-bpe") return PreType::llama_bpe;
  if (name == "deepseek-v3") return PreType::deepseek_v3;
  return std::nullopt;
}

void pre_tokenize(PreType type, std::string_view text, std::vector<std::string_view>& out) {
  if (text.empty()) return;
  const Scanner s(text);
  auto emit = [&](size_t b, size_t e) { s.emit(b, e, out); };
  switch (type) {
    case PreType::qwen2:
    case PreType::llama_bpe: {
      const size_t max_digits = type == PreType::qwen2 ? 1 : 3;
      split_isolated(0, s.size(), [&](size_t i, size_t end) { return s.match_gpt4_style(i, end, max_digits); }, emit);
      break;
    }
    case PreType::deepseek_v3: {
      auto regex3 = [&](size_t i, size_t end) { return s.match_deepseek(i, end); };
      auto cjk = [&](size_t i, size_t end) { return s.match_cjk(i, end); };
      auto digits = [&](size_t i, size_t end) { return s.match_digits3(i, end); };
      auto after_cjk = [&](size_t b, size_t e) { split_isolated(b, e, regex3, emit); };
      auto after_digits = [&](size_t b, size_t e) { split_isolated(b, e, cjk, after_cjk); };
      split_isolated(0, s.size(), digits, after_digits);
      break;
    }
  }
}

}  // namespace scout
