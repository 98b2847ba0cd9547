// The Unicode facts the pre-tokenizers rely on: UTF-8 decoding, classes and whitespace, NFC,
// and GPT-2's byte-level alphabet.
#include <catch2/catch.hpp>
#include <set>

#include "engine/tokenizer/unicode.h"

namespace scout {
namespace {

using namespace scout::unicode;

std::string utf8(uint32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

TEST_CASE("UTF-8 decoding accepts well-formed text and takes ill-formed bytes one at a time", "[tokenizer]") {
  for (uint32_t cp : {0x0u, 0x41u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu, 0x10000u, 0x10FFFFu}) {
    const std::string s = utf8(cp);
    size_t len = 0;
    CHECK(decode_utf8(s, 0, len) == cp);
    CHECK(len == s.size());
  }
  const char* bad[] = {"\x80", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                       "\xF5\x80\x80\x80", "\xFF", "\xE2\x82", "\xF0\x9F\x98"};
  for (const char* b : bad) {
    size_t len = 0;
    const std::string s = b;
    const uint32_t cp = decode_utf8(s, 0, len);
    INFO(std::hex << static_cast<int>(static_cast<uint8_t>(s[0])));
    CHECK(is_invalid_byte(cp));
    CHECK(cp == kInvalidByteBase + static_cast<uint8_t>(s[0]));
    CHECK(len == 1);
    CHECK(flags(cp) == 0);
    CHECK_FALSE(is_valid_utf8(s));
  }
}

TEST_CASE("whitespace is Unicode White_Space, as Oniguruma's \\s", "[tokenizer]") {
  for (uint32_t cp : {0x09u, 0x0Au, 0x0Bu, 0x0Cu, 0x0Du, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u, 0x200Au, 0x2028u,
                      0x2029u, 0x202Fu, 0x205Fu, 0x3000u}) {
    INFO(std::hex << cp);
    CHECK((flags(cp) & kSpace) != 0);
  }
  for (uint32_t cp : {0x08u, 0x1Cu, 0x180Eu, 0x200Bu, 0x200Du, 0x2060u, 0xFEFFu, 0x41u}) {
    INFO(std::hex << cp);
    CHECK((flags(cp) & kSpace) == 0);
  }
}

TEST_CASE("general categories map to the regex classes", "[tokenizer]") {
  CHECK(flags('a') == kLetter);
  CHECK(flags(0x4E2D) == kLetter);   // 中 Lo
  CHECK(flags(0x30FC) == kLetter);   // ー Lm
  CHECK(flags('7') == kNumber);
  CHECK(flags(0x00B2) == kNumber);   // ² No
  CHECK(flags(0x216B) == kNumber);   // Ⅻ Nl
  CHECK(flags(0x0301) == kMark);
  CHECK(flags(0x093F) == kMark);     // Devanagari vowel sign, Mc
  CHECK(flags('!') == kPunct);
  CHECK(flags(0x30FB) == kPunct);    // ・ Po
  CHECK(flags('$') == kSymbol);
  CHECK(flags(0x1F600) == kSymbol);  // 😀 So
  CHECK(flags(0x1F3FB) == kSymbol);  // skin tone, Sk
  CHECK(flags(0xFEFF) == 0);         // Cf
  CHECK(flags(0xE000) == 0);         // Co
  CHECK(flags(0x0378) == 0);         // unassigned
  CHECK(flags(0x110000) == 0);
}

TEST_CASE("NFC composes and keeps ill-formed bytes in place", "[tokenizer]") {
  CHECK(nfc("e\xCC\x81") == "\xC3\xA9");
  CHECK(nfc("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB") == "\xED\x95\x9C");  // Hangul jamo -> 한
  CHECK(nfc("plain ascii") == "plain ascii");
  CHECK(nfc("a\xFF" "e\xCC\x81\xC3") == "a\xFF\xC3\xA9\xC3");
  CHECK(is_nfc("caf\xC3\xA9"));
  CHECK_FALSE(is_nfc("cafe\xCC\x81"));
  CHECK(is_nfc("\xFF\xFE"));
}

TEST_CASE("the byte-level alphabet is a bijection onto 256 printable code points", "[tokenizer]") {
  std::set<uint32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const uint32_t cp = byte_to_codepoint(static_cast<uint8_t>(b));
    CHECK(codepoint_to_byte(cp) == b);
    CHECK((flags(cp) & kSpace) == 0);
    seen.insert(cp);
  }
  CHECK(seen.size() == 256);
  CHECK(byte_to_codepoint(' ') == 0x120);   // Ġ
  CHECK(byte_to_codepoint('\n') == 0x10A);  // Ċ
  CHECK(byte_to_codepoint('A') == 'A');
  CHECK(bytes_to_byte_level("Hi there\n") == "Hi\xC4\xA0there\xC4\x8A");
  std::string raw;
  CHECK(byte_level_to_bytes("Hi\xC4\xA0there\xC4\x8A", raw));
  CHECK(raw == "Hi there\n");
  CHECK_FALSE(byte_level_to_bytes("\xEF\xBD\x9C", raw));  // ｜ is not in the alphabet
}

}  // namespace
}  // namespace scout
