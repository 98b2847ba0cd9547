// Unicode facts the tokenizer needs, read from ICU: UTF-8 decoding that never fails, the general
// category classes that the pre-tokenizer regexes name (\p{L}, \p{N}, \p{M}, \p{P}, \p{S}),
// whitespace, NFC normalization, and GPT-2's byte <-> "printable code point" mapping that
// byte-level BPE vocabularies are written in.
//
// Whitespace is Unicode's White_Space property (U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680,
// U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000). That is exactly what Oniguruma's \s
// matches in the HF `tokenizers` library the models ship with (so U+0085 is whitespace and
// U+FEFF, U+200B and U+180E are not). JavaScript's \s differs in two places (it excludes U+0085
// and includes U+FEFF); tests/engine/tokenizer/test_pretokenizer.cpp pins both facts.
//
// Thread-safety: all functions are safe to call from any thread (tables are built once, on
// first use, under a static-initialisation guard).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace scout::unicode {

// Classes of one code point, as bits. A code point has at most one of kLetter, kNumber,
// kMark, kPunct, kSymbol (they are general categories); kSpace is a separate property.
inline constexpr uint8_t kLetter = 1 << 0;  // L: Lu Ll Lt Lm Lo
inline constexpr uint8_t kNumber = 1 << 1;  // N: Nd Nl No
inline constexpr uint8_t kMark = 1 << 2;    // M: Mn Mc Me
inline constexpr uint8_t kPunct = 1 << 3;   // P: Pc Pd Ps Pe Pi Pf Po
inline constexpr uint8_t kSymbol = 1 << 4;  // S: Sm Sc Sk So
inline constexpr uint8_t kSpace = 1 << 5;   // White_Space

// Stands for one byte of input that is not part of well-formed UTF-8. It is outside the code
// point range, so it has no flags: the pre-tokenizers treat it like an unassigned character.
inline constexpr uint32_t kInvalidByteBase = 0x80000000u;
inline bool is_invalid_byte(uint32_t cp) { return cp >= kInvalidByteBase; }

// Flags of a code point (0 for invalid-byte stand-ins and unassigned code points).
uint8_t flags(uint32_t cp);

// Decodes the UTF-8 sequence starting at s[i] (precondition: i < s.size()). Returns the code
// point and sets `len` to the bytes consumed. Anything that is not well-formed UTF-8 (a stray
// continuation byte, a truncated sequence, an overlong form, a surrogate, a value above
// U+10FFFF) consumes exactly one byte and returns kInvalidByteBase + that byte.
uint32_t decode_utf8(std::string_view s, size_t i, size_t& len);

// Appends the UTF-8 encoding of `cp` (precondition: cp <= 0x10FFFF, not a surrogate).
void append_utf8(std::string& out, uint32_t cp);

// Length of the UTF-8 sequence that a lead byte announces (1..4), or 0 for a byte that can not
// start a well-formed sequence (a continuation byte, 0xC0, 0xC1, 0xF5..0xFF).
int utf8_sequence_length(uint8_t lead);

// True when `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

// NFC of `s`. Runs of ill-formed bytes are copied through unchanged and normalization happens
// on the well-formed runs between them, so no byte of the input is lost or replaced.
std::string nfc(std::string_view s);
// True when nfc(s) == s (fast: ASCII and quick-check-YES text are recognised without copying).
bool is_nfc(std::string_view s);

// GPT-2's byte-level alphabet: each byte maps to one printable code point (the printable
// Latin-1 bytes to themselves, the other 68 bytes to U+0100..U+0143 in byte order), so that
// vocabularies can be stored as text with no spaces or control characters.
uint32_t byte_to_codepoint(uint8_t b);
// The inverse: the byte a code point stands for, or -1 when the code point is not in the
// alphabet.
int codepoint_to_byte(uint32_t cp);
// UTF-8 of byte_to_codepoint(b) (1 or 2 bytes).
std::string_view byte_to_utf8(uint8_t b);

// Byte-level string (vocabulary form) of raw bytes: "Hello world" -> "HelloĠworld".
std::string bytes_to_byte_level(std::string_view raw);
// Raw bytes of a byte-level string. Returns false (and leaves `raw` partly filled) when some
// code point of `text` is not in the alphabet or `text` is not well-formed UTF-8.
bool byte_level_to_bytes(std::string_view text, std::string& raw);

}  // namespace scout::unicode
