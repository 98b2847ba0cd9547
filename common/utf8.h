// Well-formed UTF-8 from text that may not be: what a library hands out (gumbo decodes some
// numeric character references into ill-formed bytes) before it goes into messages, JSON and
// prompts, which must be UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace scout {

// `text` with each maximal ill-formed subpart replaced by U+FFFD — the practice Unicode
// recommends (chapter 3, "U+FFFD Substitution of Maximal Subparts"), which ICU and the WHATWG
// decoder follow too. Well-formed text comes back unchanged, NUL bytes included.
inline std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) {
      out += static_cast<char>(lead);
      ++i;
      continue;
    }
    // The length a lead byte announces, and the range its first continuation byte must be in
    // (narrower than 80..BF where that rules out overlong forms, surrogates and values past
    // U+10FFFF).
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead == 0xE0) length = 3, low = 0xA0;
    else if (lead == 0xED) length = 3, high = 0x9F;
    else if (lead >= 0xE1 && lead <= 0xEF) length = 3;
    else if (lead == 0xF0) length = 4, low = 0x90;
    else if (lead == 0xF4) length = 4, high = 0x8F;
    else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
    std::size_t good = length == 0 ? 0 : 1;  // bytes of a well-formed prefix
    while (good > 0 && good < length && i + good < text.size()) {
      const unsigned char c = byte(i + good);
      const bool fits = good == 1 ? (c >= low && c <= high) : (c >= 0x80 && c <= 0xBF);
      if (!fits) break;
      ++good;
    }
    if (length > 0 && good == length) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      i += good == 0 ? 1 : good;
    }
  }
  return out;
}

}  // namespace scout
