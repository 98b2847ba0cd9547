#include "engine/tokenizer/unicode.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>
#include <unicode/uchar.h>

#include <cassert>
#include <memory>
#include <stdexcept>

namespace scout::unicode {
namespace {

constexpr uint32_t kMaxCodepoint = 0x10FFFF;

uint8_t flags_from_icu(UChar32 cp) {
  uint8_t f = 0;
  switch (u_charType(cp)) {
    case U_UPPERCASE_LETTER: case U_LOWERCASE_LETTER: case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER: case U_OTHER_LETTER:
      f = kLetter; break;
    case U_DECIMAL_DIGIT_NUMBER: case U_LETTER_NUMBER: case U_OTHER_NUMBER:
      f = kNumber; break;
    case U_NON_SPACING_MARK: case U_ENCLOSING_MARK: case U_COMBINING_SPACING_MARK:
      f = kMark; break;
    case U_CONNECTOR_PUNCTUATION: case U_DASH_PUNCTUATION: case U_START_PUNCTUATION:
    case U_END_PUNCTUATION: case U_INITIAL_PUNCTUATION: case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      f = kPunct; break;
    case U_MATH_SYMBOL: case U_CURRENCY_SYMBOL: case U_MODIFIER_SYMBOL: case U_OTHER_SYMBOL:
      f = kSymbol; break;
    default: break;
  }
  if (u_isUWhiteSpace(cp)) f |= kSpace;
  return f;
}

// One byte per code point (1.1 MB), filled from ICU once: the pre-tokenizers look up every code
// point of the input, and a table lookup is several times faster than u_charType.
struct FlagTable {
  std::unique_ptr<uint8_t[]> flags{new uint8_t[kMaxCodepoint + 1]};
  FlagTable() {
    for (uint32_t cp = 0; cp <= kMaxCodepoint; ++cp) flags[cp] = flags_from_icu(static_cast<UChar32>(cp));
  }
};

const FlagTable& flag_table() {
  static const FlagTable table;
  return table;
}

struct ByteLevelTables {
  std::array<uint32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8{};
  // Code points of the alphabet are all below 0x144.
  std::array<int16_t, 0x144> from_cp{};

  ByteLevelTables() {
    from_cp.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cp[b] = printable ? static_cast<uint32_t>(b) : next++;
    }
    for (int b = 0; b < 256; ++b) {
      from_cp[to_cp[b]] = static_cast<int16_t>(b);
      append_utf8(to_utf8[b], to_cp[b]);
    }
  }
};

const ByteLevelTables& byte_level_tables() {
  static const ByteLevelTables tables;
  return tables;
}

const icu::Normalizer2& nfc_instance() {
  static const icu::Normalizer2* instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
    if (U_FAILURE(status) || n == nullptr) {
      throw std::runtime_error(std::string("ICU NFC normalizer unavailable: ") + u_errorName(status));
    }
    return n;
  }();
  return *instance;
}

bool all_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Length of the well-formed UTF-8 prefix of s[i..], stopping before the first ill-formed byte.
size_t valid_run_end(std::string_view s, size_t i) {
  while (i < s.size()) {
    size_t len = 0;
    if (is_invalid_byte(decode_utf8(s, i, len))) break;
    i += len;
  }
  return i;
}

}  // namespace

uint8_t flags(uint32_t cp) {
  if (cp > kMaxCodepoint) return 0;
  return flag_table().flags[cp];
}

int utf8_sequence_length(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

uint32_t decode_utf8(std::string_view s, size_t i, size_t& len) {
  assert(i < s.size());
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + i;
  const size_t left = s.size() - i;
  const uint8_t b0 = p[0];
  len = 1;
  if (b0 < 0x80) return b0;
  const int n = utf8_sequence_length(b0);
  if (n == 0 || static_cast<size_t>(n) > left) return kInvalidByteBase + b0;
  auto cont = [&](int k) { return (p[k] & 0xC0) == 0x80; };
  uint32_t cp = 0;
  if (n == 2) {
    if (!cont(1)) return kInvalidByteBase + b0;
    cp = ((b0 & 0x1Fu) << 6) | (p[1] & 0x3Fu);
  } else if (n == 3) {
    if (!cont(1) || !cont(2)) return kInvalidByteBase + b0;
    cp = ((b0 & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
    if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) return kInvalidByteBase + b0;
  } else {
    if (!cont(1) || !cont(2) || !cont(3)) return kInvalidByteBase + b0;
    cp = ((b0 & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
    if (cp < 0x10000 || cp > kMaxCodepoint) return kInvalidByteBase + b0;
  }
  len = static_cast<size_t>(n);
  return cp;
}

void append_utf8(std::string& out, uint32_t cp) {
  assert(cp <= kMaxCodepoint && !(cp >= 0xD800 && cp <= 0xDFFF));
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view s) { return valid_run_end(s, 0) == s.size(); }

bool is_nfc(std::string_view s) {
  if (all_ascii(s)) return true;
  const icu::Normalizer2& n = nfc_instance();
  size_t i = 0;
  while (i < s.size()) {
    const size_t end = valid_run_end(s, i);
    if (end > i) {
      UErrorCode status = U_ZERO_ERROR;
      const bool ok = n.isNormalizedUTF8(
          icu::StringPiece(s.data() + i, static_cast<int32_t>(end - i)), status);
      if (U_FAILURE(status) || !ok) return false;
    }
    i = end;
    if (i < s.size()) ++i;  // an ill-formed byte: unchanged by nfc()
  }
  return true;
}

std::string nfc(std::string_view s) {
  if (is_nfc(s)) return std::string(s);
  const icu::Normalizer2& n = nfc_instance();
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t end = valid_run_end(s, i);
    if (end > i) {
      icu::StringByteSink<std::string> sink(&out);
      UErrorCode status = U_ZERO_ERROR;
      n.normalizeUTF8(0, icu::StringPiece(s.data() + i, static_cast<int32_t>(end - i)), sink,
                      nullptr, status);
      if (U_FAILURE(status)) {
        throw std::runtime_error(std::string("ICU NFC normalization failed: ") + u_errorName(status));
      }
    }
    i = end;
    if (i < s.size()) out.push_back(s[i++]);
  }
  return out;
}

uint32_t byte_to_codepoint(uint8_t b) { return byte_level_tables().to_cp[b]; }

int codepoint_to_byte(uint32_t cp) {
  const auto& t = byte_level_tables();
  return cp < t.from_cp.size() ? t.from_cp[cp] : -1;
}

std::string_view byte_to_utf8(uint8_t b) { return byte_level_tables().to_utf8[b]; }

std::string bytes_to_byte_level(std::string_view raw) {
  const auto& t = byte_level_tables();
  std::string out;
  out.reserve(raw.size() * 2);
  for (char c : raw) out += t.to_utf8[static_cast<uint8_t>(c)];
  return out;
}

bool byte_level_to_bytes(std::string_view text, std::string& raw) {
  raw.clear();
  size_t i = 0;
  while (i < text.size()) {
    size_t len = 0;
    const uint32_t cp = decode_utf8(text, i, len);
    const int b = is_invalid_byte(cp) ? -1 : codepoint_to_byte(cp);
    if (b < 0) return false;
    raw.push_back(static_cast<char>(b));
    i += len;
  }
  return true;
}

}  // namespace scout::unicode
